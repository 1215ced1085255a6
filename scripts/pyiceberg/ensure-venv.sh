#!/usr/bin/env bash
# Creates (once) a Python virtualenv with PyIceberg from PyPI and prints its python's path.
# The venv lives under ${K2_CACHE_DIR:-~/.cache/k2}, keyed by a hash of requirements.txt, so a changed
# requirement gets a fresh venv and concurrent callers (parallel test files) wait on one lock.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="$here/requirements.txt"
cache="${K2_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/k2}"
hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="$cache/pyiceberg-$hash"
python="$venv/bin/python"

if [ -f "$venv/.complete" ]; then
  echo "$python"
  exit 0
fi

pick_python() {
  for candidate in ${K2_PYTHON:-} python3.12 python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "ensure-venv: no python >= 3.10 with the venv module (set K2_PYTHON)" >&2
  return 1
}

mkdir -p "$cache"
exec 9>"$cache/pyiceberg-$hash.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  base="$(pick_python)"
  rm -rf "$venv"
  echo "ensure-venv: installing PyIceberg into $venv (one time)" >&2
  "$base" -m venv "$venv" >&2
  "$python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  "$python" -c 'import pyiceberg, pyarrow, psycopg2, sqlalchemy' >&2
  touch "$venv/.complete"
fi
echo "$python"
