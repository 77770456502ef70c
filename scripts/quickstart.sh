#!/usr/bin/env bash
# Quick start: install codesign-playground with its service into .venv and run the main job,
# the service on its embedded default (SQLite and an in-process worker; no other server):
# API, dashboard and docs on http://127.0.0.1:8000/ . Extra arguments go to `codesign serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh service
exec .venv/bin/codesign serve "$@"
