"""Schemathesis against the running app: no server errors, and responses conform to the
OpenAPI document (status codes, problem+json content types, schemas, Allow headers).

Runs the real ``st`` CLI against a real uvicorn process in embedded mode: the coverage,
fuzzing and stateful phases (the stateful phase follows the document's links from each
create operation to the operations on what it created). At least 10,000 generated cases;
the count is printed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Deployment

MIN_CASES = 10_000


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    dep = Deployment("embedded", tmp_path_factory.mktemp("schemathesis"))
    # fuzzed explorations run for real: keep them small so requests stay the load
    dep.env |= {"EXPLORE_MAX_POINTS": "500", "WORKER_CONCURRENCY": "1"}
    try:
        dep.start_api()
        dep.wait_ready()
        dep.make_keys()
        yield dep
    finally:
        dep.close()


def test_schemathesis_no_server_errors_and_conformance(api: Deployment) -> None:
    st = shutil.which("st") or str(Path(sys.executable).parent / "st")
    proc = subprocess.run(
        [
            st,
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{api.base_url}/openapi.json",
            # as an owner with a write key (AUTH_MODE=api-key): every operation is reachable
            "--header",
            f"Authorization: Bearer {api.keys['alice']}",
            "--phases",
            "coverage,fuzzing,stateful",
            "--checks",
            "all",
            # the documents (space, spec) are validated beyond their JSON Schema by the
            # library, so schema-valid is not always acceptable input: that check is off
            "--exclude-checks",
            "positive_data_acceptance",
            # a hang detector, as long as the request timeout: response times are measured in
            # benchmarks/, not asserted here (st's default limit is 10 s)
            "--max-response-time",
            "60",
            "--max-examples",
            "280",
            # one worker: with two, hypothesis' lambda-source cache (ast parsing from two
            # threads) can fail with "AST constructor recursion depth mismatch" inside st
            "--workers",
            "1",
            "--seed",
            "13",
            "--request-timeout",
            "60",
            "--warnings",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=api.root,  # st keeps its example database in the working folder
    )
    # st prints whole request bodies (megabytes on one line): keep every line short
    out = "\n".join(line[:400] for line in proc.stdout.splitlines())
    found = re.search(r"(\d+) generated", out)
    assert found, out[-4000:]
    cases = int(found.group(1))
    print(f"schemathesis: {cases} generated cases, exit code {proc.returncode}")
    report = out[out.find("FAILURES") :] if "FAILURES" in out else out[-8000:]
    assert "not_a_server_error" not in out and "Server error" not in out, report[-12000:]
    assert proc.returncode == 0, report[-12000:]
    assert cases >= MIN_CASES, out[-2000:]
