#!/usr/bin/env bash
# Set up .venv with the test extras and run every test, then lint, type and layer checks.
# This is the README's test command, and the one .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,torch
export PATH="$PWD/.venv/bin:$PATH"
status=0
pytest -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "no tests were collected: failing" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
ruff check src tests scripts benchmarks
mypy
lint-imports
