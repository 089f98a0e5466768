#!/usr/bin/env bash
# Create or update .venv-airflow (Airflow 3 + the cncf-kubernetes provider + stockwatch) from the
# committed airflow/requirements.lock. Airflow's pins fight dbt's, so it is not the main .venv.
#   scripts/airflow-venv.sh          sync the venv (quick no-op when lock and pyproject are unchanged)
#   scripts/airflow-venv.sh --lock   re-resolve airflow/requirements.lock from requirements.in, with
#                                    stockwatch's own dependencies held at the versions in uv.lock
source "$(dirname "$0")/lib.sh"
need python3 "Install Python 3.11 or 3.12."
bash "$ROOT/scripts/bootstrap.sh" >/dev/null  # installs uv (and the main .venv) on a fresh machine
UV="$CACHE/uv-$UV_VERSION/bin/uv"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$CACHE/uv-cache}"
cd "$ROOT"
VENV="$ROOT/.venv-airflow"
LOCK=airflow/requirements.lock

if [ "${1:-}" = "--lock" ]; then
  constraints="$(mktemp)"
  trap 'rm -f "$constraints"' EXIT
  "$UV" export --frozen --package stockwatch --extra local --no-dev --no-emit-project --no-emit-workspace \
    --no-hashes --no-header --no-annotate -q -o "$constraints"
  "$UV" pip compile -q airflow/requirements.in -c "$constraints" --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --generate-hashes --no-emit-package stockwatch \
    --custom-compile-command "make airflow-lock" -o "$LOCK"
  echo ">> $LOCK re-resolved"
fi

py=$(command -v python3.11 || command -v python3.12 || command -v python3)
stamp="$VENV/.synced"
want="$(cat "$LOCK" pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$UV" venv -q --python "$py" "$VENV"
echo ">> syncing $VENV from $LOCK"
"$UV" pip sync -q --python "$VENV/bin/python" --require-hashes "$LOCK"
"$UV" pip install -q --python "$VENV/bin/python" --no-deps -e .
echo "$want" >"$stamp"
echo ">> .venv-airflow ready ($("$VENV/bin/python" -c 'import airflow; print("Airflow", airflow.__version__)'))"
