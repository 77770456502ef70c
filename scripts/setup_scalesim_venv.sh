#!/usr/bin/env bash
# Create /work/main/.venv-scalesim (git-ignored) with SCALE-Sim 3.0.0 and the pinned deps it needs.
# NumPy 2.x breaks SCALE-Sim 3.0.0 (TypeError on every run), so numpy/pandas are pinned.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/.venv-scalesim"
python3 -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --upgrade pip
"${venv}/bin/python" -m pip install --quiet "scalesim==3.0.0" "numpy==1.26.4" "pandas==2.2.3"
"${venv}/bin/python" -c "import scalesim, numpy; print('scalesim ok, numpy', numpy.__version__)"
