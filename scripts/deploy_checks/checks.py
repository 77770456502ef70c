#!/usr/bin/env python3
"""Helpers of scripts/validate_deploy.sh (run by the .venv-deploy interpreter: PyYAML, jsonschema).

Subcommands
  crds FILE...            CloudNativePG Cluster resources against the operator's CRD schema
                          (unknown fields are errors); ServiceMonitor and PrometheusRule
                          resources structurally, PrometheusRule groups equal to the rule files.
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


def check_crds(files: list[str], root: Path) -> list[str]:
    problems: list[str] = []
    cnpg = None
    groups = None
    for path, doc in (d for f in files for d in load_docs(f)):
        kind, api = doc.get("kind"), str(doc.get("apiVersion", ""))
        name = f"{path}: {kind}/{doc.get('metadata', {}).get('name')}"
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
