#!/usr/bin/env bash
# Build helmfile from the Go module proxy (through this wrapper module) into the cache; print the binary's path.
# Idempotent: a finished build is reused by reruns and other clones. Needs Go (see go.mod for the version).
source "$(dirname "$0")/../../scripts/lib.sh"
# A helmfile you already have (same major version) can stand in: STOCKWATCH_HELMFILE=/path/to/helmfile.
if [ -n "${STOCKWATCH_HELMFILE:-}" ]; then
  [ -x "$STOCKWATCH_HELMFILE" ] || die "STOCKWATCH_HELMFILE=$STOCKWATCH_HELMFILE is not an executable"
  echo "$STOCKWATCH_HELMFILE"
  exit 0
fi
need go "Go 1.26+ builds helmfile from the Go module proxy (https://go.dev/dl/, or apt-get install golang)."
HERE="$ROOT/tools/helmfile"
VERSION="$(awk '$1 == "github.com/helmfile/helmfile" {print $2; exit}' "$HERE/go.mod")"
[ -n "$VERSION" ] || die "no github.com/helmfile/helmfile requirement in $HERE/go.mod"
DIR="$CACHE/helmfile-$VERSION"
BIN="$DIR/bin/helmfile"
mkdir -p "$DIR/bin"
exec 9>"$DIR/.lock"
flock 9
if [ ! -x "$BIN" ] || [ ! -f "$DIR/.complete" ]; then
  echo ">> building helmfile $VERSION from the Go module proxy into $DIR (several minutes the first time)" >&2
  (cd "$HERE" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" \
    -o "$BIN.tmp" github.com/helmfile/helmfile) >&2
  mv "$BIN.tmp" "$BIN"
  "$BIN" --version >/dev/null || die "the helmfile binary in $DIR does not run"
  touch "$DIR/.complete"
fi
echo "$BIN"
