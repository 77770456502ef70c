#!/usr/bin/env bash
# Quick start: install codesign-playground into .venv and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/codesign demo "$@"
