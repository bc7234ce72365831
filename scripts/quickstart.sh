#!/usr/bin/env bash
# One-step setup, then run the app or the test suite.
#
#   bash scripts/quickstart.sh app [main.py args...]   set up, then open the browser (demo store by default)
#   bash scripts/quickstart.sh test [pytest args...]   set up, then lint (ruff), type-check (mypy) and run the whole test suite
#
# Setup is idempotent and quick when nothing changed: system libraries for Qt/VTK and a
# virtual display (apt-get, only what is missing; needs root or sudo), then a virtual
# environment in .venv with torch 2.13.0 (CPU wheel) installed first and the project on top.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
  libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0
  libdbus-1-3 libfontconfig1 libxrender1 libxkbcommon0 libglib2.0-0)
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV=.venv

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

setup_system() {
  command -v dpkg-query >/dev/null || { say "no dpkg: install Xvfb and GL libraries yourself"; return; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_python() {
  local stamp="$VENV/.installed" want
  want="$(sha256sum pyproject.toml | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  [ -x "$VENV/bin/python" ] || { say "creating $VENV with $PYTHON"; "$PYTHON" -m venv "$VENV"; }
  say "installing torch 2.13.0 (CPU) and the project into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -m pip install -q "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
  # scale (Ray, pymilvus, Milvus Lite) adds about 11 s to a fresh install, so its tests run here too
  "$VENV/bin/python" -m pip install -q -e ".[app,test,scale]" 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -c "import torch, PySide6, pyvista, hnswlib, igl, safetensors, ray, pymilvus, milvus_lite" \
    || { say "python dependencies failed to install"; exit 1; }
  echo "$want" > "$stamp"
}

with_display() {
  if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then "$@"; else
    xvfb-run -a -s "-screen 0 1600x1000x24" "$@"; fi
}

mode=${1:-}
shift || true
case "$mode" in
  app)
    setup_system; setup_python
    [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || say "no display found: running under Xvfb (use --screenshot PNG to see it)"
    with_display "$VENV/bin/python" main.py "$@" ;;
  test)
    setup_system; setup_python
    say "ruff: the lint rules of pyproject.toml"
    "$VENV/bin/ruff" check --quiet . || { say "ruff found the problems above"; exit 1; }
    say "mypy: the type checks of pyproject.toml"
    "$VENV/bin/mypy" || { say "mypy found the problems above"; exit 1; }
    with_display "$VENV/bin/python" -m pytest "$@" ;;
  *)
    echo "usage: bash scripts/quickstart.sh app|test [args...]" >&2; exit 2 ;;
esac
