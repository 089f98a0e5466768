# Shared by the scripts in this folder: where caches live, and a clear failure.
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloads and builds that a rerun (or another clone) reuses. Override with STOCKWATCH_CACHE.
CACHE="${STOCKWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stockwatch}"
mkdir -p "$CACHE"
export UV_PYTHON_DOWNLOADS=never
UV_VERSION=0.13.9
die() { echo "error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed. $2"; }
