"""scripts/validate_deploy.sh passes on the real artifacts, and each check fails on a
deliberately broken copy (so none of them passes without checking)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.deploy.conftest import REPO

pytestmark = pytest.mark.slow

SCRIPT = REPO / "scripts" / "validate_deploy.sh"
ARTIFACTS = [
    "Dockerfile",
    "Dockerfile.dev",
    ".dockerignore",
    "docker-compose.dev.yml",
    "docker-compose.dev.monitoring.yml",
    "monitoring",
    "k8s",
    "charts",
    "terraform",
    "scripts/init_db.sql",
]


def run(*args: str | Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def full_run() -> subprocess.CompletedProcess[str]:
    """The whole validation, installing what is missing (as CI runs it)."""
    return run()


def test_validation_passes_on_the_real_artifacts(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    out = full_run.stdout + full_run.stderr
    assert full_run.returncode == 0, out[-6000:]
    assert "ALL CHECKS PASSED" in out
    summary = out[out.index("==== deployment artifact checks") :]
    for name in (
        "docker",
        "compose",
        "k8s",
        "crds",
        "helm",
        "terraform",
        "prometheus",
        "grafana",
        "contract",
        "checkov",
    ):
        assert any(line.startswith(name) for line in summary.splitlines()), name
    assert " FAIL " not in summary


def _copy(tmp: Path) -> Path:
    root = tmp / "repo"
    for a in ARTIFACTS:
        src, dst = REPO / a, root / a
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".terraform*"))
        else:
            shutil.copy2(src, dst)
    return root


def _edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / path
        text = p.read_text()
        assert old in text, f"{old!r} not in {path}"
        p.write_text(text.replace(old, new, 1))

    return apply


def _append(path: str, extra: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        with (root / path).open("a") as f:
            f.write(extra)

    return apply


BROKEN = {
    # check: (how it is broken, text the failure must show)
    "docker-lint": (
        "docker",
        _edit("Dockerfile", "USER 1000:1000\n", "USER 1000:1000\nRUN apt-get install -y curl\n"),
        "DL3008",
    ),
    "compose-missing-service": (
        "compose",
        _edit(
            "docker-compose.dev.yml", "      - redis\n      - app", "      - redis\n      - cache"
        ),
        "cache",
    ),
    "k8s-misspelt-field": (
        "k8s",
        _edit("k8s/production/deployment.yaml", "readinessProbe:", "readinesProbe:"),
        "readinesProbe",
    ),
    "k8s-removed-api": (
        "k8s",
        _edit("k8s/staging/pdb.yaml", "apiVersion: policy/v1", "apiVersion: policy/v1beta1"),
        "policy/v1beta1",
    ),
    "cnpg-unknown-key": (
        "crds",
        _edit("k8s/production/postgresql.yaml", "enablePodMonitor: true", "enabled: true"),
        "enabled",
    ),
    "prometheusrule-drift": (
        "crds",
        _edit("k8s/staging/prometheusrule.yaml", "> 0.05", "> 0.5"),
        "differ",
    ),
    "keda-misspelt-field": (
        "crds",
        _edit(
            "k8s/production/keda/worker-autoscaling.yaml",
            "maxReplicaCount: 8",
            "maxReplicasCount: 8",
        ),
        "maxReplicasCount",
    ),
    "keda-redis-key-the-scaler-ignores": (
        "crds",
        _edit(
            "k8s/production/keda/worker-autoscaling.yaml",
            'listLength: "4"',
            'listLenght: "4"',
        ),
        "listLenght: not a key of KEDA's Redis scaler",
    ),
    "keda-scales-workers-to-zero": (
        "crds",
        _edit(
            "k8s/production/keda/worker-autoscaling.yaml",
            "minReplicaCount: 2",
            "minReplicaCount: 0",
        ),
        "/health/ready needs a live worker",
    ),
    "keda-and-an-hpa-on-the-workers": (
        "crds",
        _append(
            "k8s/production/hpa.yaml",
            "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n"
            "  name: codesign-worker\n  namespace: codesign-production\nspec:\n"
            "  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
            "    name: codesign-worker\n  minReplicas: 1\n  maxReplicas: 4\n",
        ),
        "would fight",
    ),
    "keda-kind-unknown-to-kubernetes-validate": (
        "k8s",
        _edit(
            "k8s/production/keda/worker-autoscaling.yaml",
            "kind: NetworkPolicy",
            "kind: NetworkPolicyy",
        ),
        "NetworkPolicyy",
    ),
    "helm-keda-template": (
        "helm",
        _edit(
            "charts/codesign-playground/templates/worker-keda.yaml",
            "listName: {{",
            "queueName: {{",
        ),
        "queueName",
    ),
    "helm-misspelt-field": (
        "helm",
        _edit(
            "charts/codesign-playground/templates/deployment.yaml",
            "containerPort:",
            "containerPorts:",
        ),
        "containerPort",
    ),
    "helm-template-error": (
        "helm",
        _edit(
            "charts/codesign-playground/templates/service.yaml",
            ".Values.service.port }}",
            ".Values.service.port }",
        ),
        "FAILED",
    ),
    "terraform-misspelt-argument": (
        "terraform",
        _edit(
            "terraform/aws/modules/rds/main.tf",
            "storage_encrypted     = true",
            "storage_encrypted     = true\n  storage_encryptd = true",
        ),
        "storage_encryptd",
    ),
    "alert-unit-test": (
        "prometheus",
        _edit(
            "monitoring/prometheus/rules/codesign-alerts.yml",
            "codesign:http_errors:ratio_rate5m > 0.05",
            "codesign:http_errors:ratio_rate5m > 0.5",
        ),
        "CodesignHighErrorRate",
    ),
    "recording-rule-promql": (
        "prometheus",
        _edit(
            "monitoring/prometheus/rules/codesign-recording.yml",
            "(rate(codesign_http_requests_total[5m]))",
            "(rate(codesign_http_requests_total[5m])",
        ),
        "codesign-recording",
    ),
    "dashboard-broken-promql": (
        "grafana",
        _edit(
            "monitoring/grafana/dashboards/codesign-api.json",
            "sum by (route) (rate(",
            "sum by (route) (rate((",
        ),
        "FAILED",
    ),
    "dashboard-duplicate-panel-id": (
        "grafana",
        _edit("monitoring/grafana/dashboards/codesign-jobs.json", '"id": 3,', '"id": 2,'),
        "duplicate",
    ),
    "hpa-metric-not-recorded": (
        "contract",
        _edit(
            "k8s/production/hpa.yaml",
            "name: http_requests_per_second",
            "name: http_requests_per_minute",
        ),
        "http_requests_per_minute",
    ),
    "checkov-privilege-escalation": (
        "checkov",
        _edit(
            "k8s/production/worker.yaml",
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
        ),
        "CKV_K8S_20",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_check_catches_a_broken_copy(
    case: str, tmp_path: Path, full_run: subprocess.CompletedProcess[str]
) -> None:
    assert full_run.returncode == 0, "the tools are installed by the full run first"
    check, breaker, shows = BROKEN[case]
    root = _copy(tmp_path)
    good = run("--no-install", "--only", check, "--root", root)
    assert good.returncode == 0, (good.stdout + good.stderr)[-4000:]
    breaker(root)
    bad = run("--no-install", "--only", check, "--root", root)
    out = bad.stdout + bad.stderr
    assert bad.returncode == 1, out[-4000:]
    assert f"{check}" in out and "FAIL" in out
    assert shows in out, out[-4000:]
