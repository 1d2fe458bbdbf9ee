#!/usr/bin/env bash
# Install videoworld-go on a fresh Debian machine (as root): system packages, a venv in .venv,
# CPU PyTorch, the package itself. Idempotent. `--test` adds what the test suite needs.
#   bash scripts/install.sh            # to play:  .venv/bin/videoworld-go gtp
#   bash scripts/install.sh --test     # to test:  .venv/bin/python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."
TEST=0
[ "${1:-}" = "--test" ] && TEST=1

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
PKGS="gnugo"
command -v python3.11 >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || PKGS="$PKGS python3"
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || PKGS="$PKGS python3-venv"
if [ "$TEST" = 1 ]; then
  PKGS="$PKGS chromium"                                  # the web board's browser test (Playwright)
  command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"     # the @sabaki/gtp client test
  PKGS="$PKGS liblizzie-java xvfb xauth"                 # Lizzie driving the engine on a virtual display
  command -v javac >/dev/null 2>&1 || PKGS="$PKGS default-jdk-headless"  # to compile tests/java/LizzieProbe.java
fi
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

PY=$(command -v python3.11 || command -v python3)
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: a plain `torch` would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
if [ "$TEST" = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  (cd tests/js && npm ci --no-audit --no-fund --silent)  # pinned by tests/js/package-lock.json
  # KaTrain's core drives the analysis engine in tests/test_katrain.py; its own venv (Kivy and the rest stay out
  # of the product's)
  [ -x .venv-katrain/bin/python ] || "$PY" -m venv .venv-katrain
  .venv-katrain/bin/python -m pip install -q katrain==1.20.0
else
  .venv/bin/python -m pip install -q -e .
fi
# compile the Monte Carlo search's kernels once (numba caches them in engine/__pycache__)
.venv/bin/python -c "from engine.mc_tree import warm_up; warm_up()"
echo "videoworld-go installed in $(pwd)/.venv" >&2
