#!/usr/bin/env bash
# Create .venv with every Python package the pipeline, the operator, dbt and the tests use,
# from the committed uv.lock. Idempotent and quick when nothing changed.
source "$(dirname "$0")/lib.sh"
need python3 "Install Python 3.11 or 3.12."
UV="$CACHE/uv-$UV_VERSION/bin/uv"
if [ ! -x "$UV" ]; then
  echo ">> installing uv $UV_VERSION into $CACHE"
  python3 -m venv "$CACHE/uv-$UV_VERSION"
  "$CACHE/uv-$UV_VERSION/bin/pip" install -q "uv==$UV_VERSION"
fi
cd "$ROOT"
# Ask uv for a version, not a path: a path found on PATH may be .venv's own python, and a changed
# interpreter path makes uv rebuild .venv from scratch under the feet of running processes.
py=3.11
command -v python3.11 >/dev/null 2>&1 || py=3.12
[ "${1:-}" = "--lock" ] && { cd "$ROOT"; "$UV" lock; }
"$UV" sync --frozen --all-packages --all-extras --python "$py" -q
echo ">> .venv ready ($(.venv/bin/python --version))"
