#!/usr/bin/env bash
# Create .venv and install codesign-playground into it (editable), with the extras asked for.
# Usage: scripts/bootstrap.sh [EXTRA,...]     e.g. scripts/bootstrap.sh dev,torch
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "codesign-playground needs Python >= 3.11 (found: $("$py" --version 2>&1))" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$py" -m venv .venv 2>/dev/null; then
    # Debian's python3 ships venv separately
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$py" -m venv .venv
    else
      echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)" >&2
      exit 2
    fi
  fi
  .venv/bin/python -m pip install -q --upgrade pip
fi
pip_install() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@"; }
if [[ ",$extras," == *",torch,"* ]] && ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  # the CPU build; a bare "torch" requirement would pull a multi-GB CUDA build
  pip_install "torch==2.13.0"
fi
if [ -n "$extras" ]; then
  pip_install -e ".[${extras}]"
else
  pip_install -e .
fi
