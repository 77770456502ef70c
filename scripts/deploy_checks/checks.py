#!/usr/bin/env python3
"""Helpers of scripts/validate_deploy.sh (run by the .venv-deploy interpreter: PyYAML, jsonschema).

Subcommands
  crds FILE...            CloudNativePG Cluster resources against the operator's CRD schema
                          (unknown fields are errors); ServiceMonitor and PrometheusRule
                          resources structurally, PrometheusRule groups equal to the rule files;
                          KEDA ScaledObject and TriggerAuthentication against KEDA's CRDs
                          (crds/), Redis trigger keys against the scaler's, each ScaledObject's
                          target a Deployment of the same files that no HPA also scales.
  grafana-rules DIR OUT   check the dashboards in DIR, write every panel query into a rules file
                          OUT for ``promtool check rules``.
  contract ROOT           the metrics contract: each custom metric an HPA (k8s/, chart) scales on
                          is recorded by a Prometheus rule and exposed by the prometheus-adapter
                          config.
  metric-refs ROOT        print the base metric names that dashboards, rules and HPAs reference
                          (JSON), recording-rule outputs and Prometheus' own series subtracted.

Exit status 0 when clean, 1 with one line per problem on stderr.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

CNPG_CRD = Path("/work/shared/data/crds/postgresql.cnpg.io_clusters.yaml")
# KEDA v2.20.2's CRDs, unchanged (crds/README.md)
KEDA_CRDS = {
    "ScaledObject": Path(__file__).with_name("crds") / "keda.sh_scaledobjects.yaml",
    "TriggerAuthentication": Path(__file__).with_name("crds")
    / "keda.sh_triggerauthentications.yaml",
}
# trigger metadata keys KEDA v2.20.2's Redis scaler reads (redisMetadata in
# pkg/scalers/redis_scaler.go); the first group may also come from the target's environment
# (<key>FromEnv). KEDA ignores any other key, so a misspelt one silently takes a default.
_REDIS_ENV_KEYS = (
    "address",
    "addresses",
    "username",
    "password",
    "sentinelUsername",
    "sentinelPassword",
    "sentinelMaster",
    "host",
    "hosts",
    "port",
    "ports",
)
REDIS_SCALER_KEYS = frozenset(
    {*_REDIS_ENV_KEYS, *(f"{k}FromEnv" for k in _REDIS_ENV_KEYS)}
    | {"unsafeSsl", "listLength", "activationListLength", "listName", "databaseIndex", "enableTLS"}
)
RULE_FILES = ("monitoring/prometheus/rules",)
# series Prometheus makes itself when it scrapes (not on any /metrics page)
SYNTHETIC = {
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_series_added",
    "scrape_samples_post_metric_relabeling",
}


def load_docs(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict):
            yield path, doc


# ---- CRD-backed resources -----------------------------------------------------------------
def _close(schema: Any) -> Any:
    """The schema with additionalProperties: false wherever properties are listed."""
    if isinstance(schema, dict):
        out = {k: _close(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_close(v) for v in schema]
    return schema


def _crd_validator(crd_path: Path, version: str) -> Any:
    import jsonschema

    crd = yaml.safe_load(crd_path.read_text())
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            schema = copy.deepcopy(v["schema"]["openAPIV3Schema"])
            # metadata is validated by the API server, not by the CRD
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            return jsonschema.Draft7Validator(_close(schema))
    raise SystemExit(f"{crd_path}: no version {version}")


def _rule_groups(root: Path) -> list[Any]:
    groups: list[Any] = []
    for d in RULE_FILES:
        for f in sorted((root / d).glob("*.yml")):
            groups += yaml.safe_load(f.read_text())["groups"]
    return groups


def _ref(doc: dict[str, Any]) -> tuple[str, str, str]:
    meta = doc.get("metadata") or {}
    return str(doc.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name"))


def check_keda(docs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """KEDA resources against KEDA's CRDs, and against the other resources of the same files:
    the target exists, no HPA scales it too, at least one replica stays (readiness needs a
    live worker), Redis triggers use keys the scaler reads, authentication refs resolve."""
    problems: list[str] = []
    validators: dict[tuple[str, str], Any] = {}
    present = {_ref(d) for _, d in docs}
    hpa_targets = {
        (
            str(d["spec"]["scaleTargetRef"].get("kind")),
            _ref(d)[1],
            str(d["spec"]["scaleTargetRef"].get("name")),
        ): _ref(d)[2]
        for _, d in docs
        if d.get("kind") == "HorizontalPodAutoscaler" and isinstance(d.get("spec"), dict)
    }
    for path, doc in docs:
        kind, api = doc.get("kind"), str(doc.get("apiVersion", ""))
        if not api.startswith("keda.sh/"):
            continue
        name = f"{path}: {kind}/{doc.get('metadata', {}).get('name')}"
        if kind not in KEDA_CRDS:
            problems.append(f"{name}: no schema for {api} {kind}")
            continue
        version = api.split("/", 1)[1]
        key = (str(kind), version)
        if key not in validators:
            validators[key] = _crd_validator(KEDA_CRDS[str(kind)], version)
        for err in sorted(validators[key].iter_errors(doc), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in err.path) or "(root)"
            problems.append(f"{name}: {where}: {err.message}")
        if kind != "ScaledObject" or not isinstance(doc.get("spec"), dict):
            continue
        spec, namespace = doc["spec"], _ref(doc)[1]
        target = spec.get("scaleTargetRef") or {}
        target_kind = str(target.get("kind") or "Deployment")
        if (target_kind, namespace, str(target.get("name"))) not in present:
            problems.append(
                f"{name}: scaleTargetRef {target_kind}/{target.get('name')} is not in these files"
            )
        hpa = hpa_targets.get((target_kind, namespace, str(target.get("name"))))
        if hpa is not None:
            problems.append(
                f"{name}: HorizontalPodAutoscaler/{hpa} scales {target_kind}/{target.get('name')}"
                " too: KEDA's own HPA and it would fight over the replica count"
            )
        if int(spec.get("minReplicaCount", 0)) < 1:  # KEDA's default is 0
            problems.append(
                f"{name}: minReplicaCount must be at least 1: /health/ready needs a live worker"
            )
        for i, trig in enumerate(spec.get("triggers") or []):
            meta = trig.get("metadata") or {}
            if trig.get("type") in ("redis", "redis-cluster", "redis-sentinel"):
                for k in sorted(set(meta) - REDIS_SCALER_KEYS):
                    problems.append(
                        f"{name}: triggers[{i}].metadata.{k}: not a key of KEDA's Redis scaler"
                    )
                if not meta.get("listName"):
                    problems.append(f"{name}: triggers[{i}].metadata.listName missing")
            auth = trig.get("authenticationRef")
            if auth:
                auth_kind = str(auth.get("kind") or "TriggerAuthentication")
                ns = "" if auth_kind == "ClusterTriggerAuthentication" else namespace
                if (auth_kind, ns, str(auth.get("name"))) not in present:
                    problems.append(
                        f"{name}: triggers[{i}].authenticationRef {auth_kind}/{auth.get('name')}"
                        " is not in these files"
                    )
    return problems


def check_crds(files: list[str], root: Path) -> list[str]:
    problems: list[str] = []
    cnpg = None
    groups = None
    docs = [d for f in files for d in load_docs(f)]
    problems += check_keda(docs)
    for path, doc in docs:
        kind, api = doc.get("kind"), str(doc.get("apiVersion", ""))
        name = f"{path}: {kind}/{doc.get('metadata', {}).get('name')}"
        if api.startswith("keda.sh/"):
            continue  # check_keda
        if api.startswith("postgresql.cnpg.io/"):
            if kind != "Cluster":
                problems.append(f"{name}: no schema for {api} {kind} (only Cluster is checked)")
                continue
            cnpg = cnpg or _crd_validator(CNPG_CRD, api.split("/", 1)[1])
            for err in sorted(cnpg.iter_errors(doc), key=lambda e: list(e.path)):
                where = ".".join(str(p) for p in err.path) or "(root)"
                problems.append(f"{name}: {where}: {err.message}")
        elif api == "monitoring.coreos.com/v1" and kind == "ServiceMonitor":
            spec = doc.get("spec", {})
            allowed = {
                "selector",
                "namespaceSelector",
                "endpoints",
                "jobLabel",
                "targetLabels",
                "podTargetLabels",
                "sampleLimit",
                "attachMetadata",
            }
            problems += [f"{name}: spec.{k}: unknown field" for k in set(spec) - allowed]
            if not isinstance(spec.get("selector"), dict):
                problems.append(f"{name}: spec.selector missing")
            eps = spec.get("endpoints")
            if not isinstance(eps, list) or not eps:
                problems.append(f"{name}: spec.endpoints missing")
            ep_keys = {
                "port",
                "targetPort",
                "path",
                "scheme",
                "interval",
                "scrapeTimeout",
                "relabelings",
                "metricRelabelings",
                "honorLabels",
                "params",
                "tlsConfig",
                "bearerTokenSecret",
                "basicAuth",
                "authorization",
                "followRedirects",
            }
            for i, ep in enumerate(eps or []):
                problems += [
                    f"{name}: spec.endpoints[{i}].{k}: unknown field" for k in set(ep) - ep_keys
                ]
                if "port" not in ep and "targetPort" not in ep:
                    problems.append(f"{name}: spec.endpoints[{i}]: port missing")
        elif api == "monitoring.coreos.com/v1" and kind == "PrometheusRule":
            groups = groups if groups is not None else _rule_groups(root)
            if set(doc.get("spec", {})) != {"groups"}:
                problems.append(f"{name}: spec must hold only groups")
            if doc.get("spec", {}).get("groups") != groups:
                problems.append(f"{name}: spec.groups differ from {', '.join(RULE_FILES)}/*.yml")
        elif "." in api.split("/")[0] and not api.split("/")[0].endswith("k8s.io"):
            problems.append(f"{name}: no check for {api} {kind}")
    return problems


# ---- Grafana dashboards -------------------------------------------------------------------
def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


def _substitute(expr: str) -> str:
    for var in ("__rate_interval", "__interval", "__range"):
        expr = re.sub(r"\$\{?" + var + r"\}?", "5m", expr)
    return re.sub(r"\$\{?(\w+)(?::\w+)?\}?", "x", expr)


def dashboard_queries(directory: Path) -> tuple[list[tuple[str, str]], list[str]]:
    queries: list[tuple[str, str]] = []
    problems: list[str] = []
    files = sorted(directory.glob("*.json"))
    if not files:
        problems.append(f"{directory}: no dashboards")
    uids: set[str] = set()
    for f in files:
        try:
            d = json.loads(f.read_text())
        except json.JSONDecodeError as exc:
            problems.append(f"{f}: not JSON: {exc}")
            continue
        for key in ("title", "uid", "panels"):
            if not d.get(key):
                problems.append(f"{f}: missing {key}")
        if d.get("uid") in uids:
            problems.append(f"{f}: duplicate uid {d.get('uid')}")
        uids.add(d.get("uid"))
        ids: set[int] = set()
        for p in _panels(d.get("panels", [])):
            if p.get("id") in ids or p.get("id") is None:
                problems.append(
                    f"{f}: panel {p.get('title')!r}: missing or duplicate id {p.get('id')}"
                )
            ids.add(p.get("id"))
            if p.get("type") == "row":
                continue
            targets = p.get("targets") or []
            if not targets:
                problems.append(f"{f}: panel {p.get('title')!r} has no query")
            for t in targets:
                if not t.get("expr"):
                    problems.append(
                        f"{f}: panel {p.get('title')!r} target {t.get('refId')}: empty expr"
                    )
                    continue
                queries.append(
                    (f"{f.name} #{p['id']} {p.get('title')} {t.get('refId')}", t["expr"])
                )
    return queries, problems


def write_grafana_rules(directory: Path, out: Path) -> list[str]:
    queries, problems = dashboard_queries(directory)
    rules = [
        {"record": f"grafana_panel_{i}", "expr": _substitute(expr), "labels": {"panel": where[:60]}}
        for i, (where, expr) in enumerate(queries)
    ]
    out.write_text(yaml.safe_dump({"groups": [{"name": "grafana-panels", "rules": rules}]}))
    print(f"{len(queries)} panel queries from {directory}")
    return problems


# ---- metric names in PromQL ----------------------------------------------------------------
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
    "atan2",
    "start",
    "end",
}


def promql_metrics(expr: str) -> set[str]:
    """Metric names in a PromQL expression (selectors, not functions, labels or keywords)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    s = re.sub(r"\{[^}]*\}", "{}", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)  # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?", s):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in _KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


def hpa_custom_metrics(root: Path) -> dict[str, set[str]]:
    """Custom (Pods/Object/External) metric names of each HPA in k8s/ and the chart."""
    found: dict[str, set[str]] = {}
    sources = [p for p in sorted((root / "k8s").rglob("*.yaml"))]
    sources += sorted((root / "charts").rglob("values*.yaml"))
    for f in sources:
        text = f.read_text()
        if f.name.startswith("values"):
            v = yaml.safe_load(text) or {}
            for m in (v.get("autoscaling") or {}).get("customMetrics") or []:
                found.setdefault(m["name"], set()).add(str(f.relative_to(root)))
            continue
        if "{{" in text:
            continue
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and doc.get("kind") == "HorizontalPodAutoscaler":
                for m in doc["spec"].get("metrics", []):
                    if m["type"] in ("Pods", "Object", "External"):
                        key = m["type"].lower()
                        found.setdefault(m[key]["metric"]["name"], set()).add(
                            str(f.relative_to(root))
                        )
    return found


def rules(root: Path) -> list[dict[str, Any]]:
    return [r for g in _rule_groups(root) for r in g["rules"]]


def metric_refs(root: Path) -> dict[str, list[str]]:
    """Base metric name -> where it is referenced (dashboards, rules, HPAs)."""
    refs: dict[str, set[str]] = {}
    queries, _ = dashboard_queries(root / "monitoring/grafana/dashboards")
    for where, expr in queries:
        for n in promql_metrics(_substitute(expr)):
            refs.setdefault(n, set()).add(f"dashboard {where}")
    for r in rules(root):
        for n in promql_metrics(r["expr"]):
            refs.setdefault(n, set()).add(f"rule {r.get('record') or r.get('alert')}")
    for n, where in hpa_custom_metrics(root).items():
        refs.setdefault(n, set()).update(f"hpa {w}" for w in where)
    recorded = {r["record"] for r in rules(root) if "record" in r}
    return {
        n: sorted(w) for n, w in sorted(refs.items()) if n not in recorded and n not in SYNTHETIC
    }


def check_contract(root: Path) -> list[str]:
    problems: list[str] = []
    recorded = {r["record"]: r for r in rules(root) if "record" in r}
    adapter = yaml.safe_load((root / "monitoring/prometheus-adapter/values.yaml").read_text())
    served = {}
    for rule in adapter["rules"]["custom"]:
        name = rule.get("name", {}).get("as") or ""
        served[name] = rule
    hpas = hpa_custom_metrics(root)
    if not hpas:
        problems.append("no HPA scales on a custom metric")
    for metric, where in sorted(hpas.items()):
        if metric not in recorded:
            problems.append(
                f"HPA metric {metric} ({', '.join(sorted(where))}) is not a recording rule"
            )
        elif not {"namespace", "pod"} <= set(
            re.findall(r"by\s*\(([^)]*)\)", recorded[metric]["expr"])[0].replace(" ", "").split(",")
        ):
            problems.append(f"recording rule {metric} must keep the namespace and pod labels")
        if metric not in served:
            problems.append(
                f"HPA metric {metric} is not served by monitoring/prometheus-adapter/values.yaml"
            )
        elif metric not in served[metric]["seriesQuery"]:
            problems.append(f"adapter rule for {metric} does not query the recorded series")
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "crds":
        root = Path(args[0])
        problems = check_crds(args[1:], root)
    elif cmd == "grafana-rules":
        problems = write_grafana_rules(Path(args[0]), Path(args[1]))
    elif cmd == "contract":
        problems = check_contract(Path(args[0]))
    elif cmd == "metric-refs":
        print(json.dumps(metric_refs(Path(args[0])), indent=2))
        return 0
    else:
        print(f"unknown subcommand {cmd}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
