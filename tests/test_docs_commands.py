"""Every command the README and the tutorial show runs, exactly as written, from a fresh copy.

The copy holds only the repository's tracked files, in a folder with no ``shared/`` beside it,
so a command that needs a file the repository does not ship fails here. ``.venv`` in the copy
points at the environment running the tests, and ``PYTHONPATH`` makes it run the copy's code.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/tutorial.md")
_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def documented_commands(doc: str) -> list[str]:
    """The shell commands of ``doc``'s bash blocks, minus the quick-start scripts."""
    commands: list[str] = []
    for block in _BLOCK.findall((REPO / doc).read_text()):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "./scripts/")):
                commands.append(line)
    return commands


def _tracked_files() -> list[str]:
    if (REPO / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
        ).stdout
        return [p for p in out.decode().split("\0") if p and (REPO / p).is_file()]
    skip = {".venv", ".git", ".codesign", "__pycache__", ".mypy_cache", ".ruff_cache"}
    return [
        str(p.relative_to(REPO))
        for p in REPO.rglob("*")
        if p.is_file() and not skip.intersection(p.relative_to(REPO).parts)
    ]


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tracked files in a new folder (nothing beside it), ``.venv`` -> this environment."""
    root = tmp_path_factory.mktemp("clone") / "codesign-playground"
    for rel in _tracked_files():
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dst)
    (root / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    assert not (root.parent / "shared").exists()
    return root


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODESIGN_", "DATABASE_"))}
    env["PYTHONPATH"] = str(root / "src")
    env["COLUMNS"] = "100"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS)
def test_documented_commands_run_as_written(doc: str, fresh_copy: Path) -> None:
    commands = documented_commands(doc)
    assert commands, f"no commands found in {doc}"
    for command in commands:
        proc = subprocess.run(
            shlex.split(command, comments=True),
            cwd=fresh_copy,
            env=_env(fresh_copy),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert proc.returncode == 0, f"{doc}: `{command}` exited {proc.returncode}:\n" + (
            proc.stdout[-2000:] + proc.stderr[-3000:]
        )


def test_readme_python_example_runs(fresh_copy: Path) -> None:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README has no Python example"
    for code in blocks:
        proc = subprocess.run(
            [str(fresh_copy / ".venv" / "bin" / "python"), "-c", code],
            cwd=fresh_copy,
            env=_env(fresh_copy),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def quickstart_server(fresh_copy: Path) -> Iterator[str]:
    """The quick start's main job (``codesign serve`` on its embedded default) in the copy."""
    port = _free_port()
    env = _env(fresh_copy) | {"CODESIGN_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [str(fresh_copy / ".venv" / "bin" / "codesign"), "serve", "--port", str(port)],
        cwd=fresh_copy,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_quickstart_service_answers(quickstart_server: str, fresh_copy: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    ready = None
    while time.monotonic() < deadline:
        try:
            ready = httpx.get(f"{quickstart_server}/health/ready", timeout=2)
            if ready.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    assert ready is not None and ready.status_code == 200, "the service did not become ready"
    assert ready.json()["mode"] == "embedded"
    assert httpx.get(f"{quickstart_server}/api/v1/hardware/catalog", timeout=10).status_code == 200
    assert (fresh_copy / ".codesign").is_dir()


def test_test_suite_collects_in_a_fresh_copy(fresh_copy: Path) -> None:
    """The README's test command's core, collection, works with no ``shared/`` beside the copy."""
    proc = subprocess.run(
        [str(fresh_copy / ".venv" / "bin" / "python"), "-m", "pytest", "--collect-only", "-q",
         "-p", "no:cacheprovider", "tests"],
        cwd=fresh_copy, env=_env(fresh_copy), capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ tests? collected", proc.stdout), proc.stdout[-1000:]
