# Shared by the offline image builds (scripts/kind/node-image.sh, scripts/images/*.sh): Debian root filesystems
# made with mmdebstrap (Debian's packages are the only source), imported into the engine of scripts/docker-engine.sh.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# `ref="$(rootfs ...)"`: a failure inside the command substitution ends the script too.
shopt -s inherit_errexit

DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Every locally built image is named localhost/offline/<name>:<tag>: nothing here pretends to be an upstream image.
OFFLINE_PREFIX=localhost/offline
ROOTFS_DIR="$CACHE/rootfs"
mkdir -p "$ROOTFS_DIR"

DOCKER_HOST="$(bash "$ROOT/scripts/docker-engine.sh")"
export DOCKER_HOST

log() { echo ">> $*" >&2; }

# has_image REF: the engine has REF.
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# rootfs NAME PACKAGES [mmdebstrap options...]: a minbase Debian root filesystem with PACKAGES (comma-separated),
# cached as $ROOTFS_DIR/NAME-<hash>.tar (the hash covers suite, mirror and packages), imported as
# localhost/offline/NAME:<hash>. Prints the image reference.
rootfs() {
  local name="$1" packages="$2" key tar ref
  shift 2
  key="$(printf '%s\n' "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$packages" "$@" | sha256sum | cut -c1-12)"
  tar="$ROOTFS_DIR/$name-$key.tar"
  ref="$OFFLINE_PREFIX/$name:$key"
  if ! has_image "$ref"; then
    if [ ! -f "$tar" ]; then
      need mmdebstrap "mmdebstrap builds the Debian root filesystems of the offline images (apt-get install mmdebstrap)"
      log "mmdebstrap $name ($DEBIAN_SUITE: $packages)"
      mmdebstrap --quiet --variant=minbase \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' --include="$packages" "$@" \
        "$DEBIAN_SUITE" "$ROOTFS_DIR/.partial-$name-$key.tar" "$DEBIAN_MIRROR" </dev/null >&2 \
        || die "mmdebstrap $name failed"
      mv "$ROOTFS_DIR/.partial-$name-$key.tar" "$tar" # mmdebstrap picks the format by the .tar suffix
    fi
    docker import --message "mmdebstrap $DEBIAN_SUITE: $packages" "$tar" "$ref" >/dev/null \
      || die "docker import of $tar failed"
  fi
  echo "$ref"
}

# build_image REF CONTEXT [docker build args...]: docker build of CONTEXT (its Dockerfile), classic builder: these
# Dockerfiles copy local files only. Skipped when REF exists and carries the same context hash.
build_image() {
  local ref="$1" ctx="$2" hash
  shift 2
  hash="$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; printf '%s\n' "$@") | sha256sum | cut -c1-16)"
  if [ "$(docker image inspect -f '{{index .Config.Labels "dev.stockwatch.context"}}' "$ref" 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  log "docker build $ref"
  DOCKER_BUILDKIT=0 docker build -q --label "dev.stockwatch.context=$hash" -t "$ref" "$@" "$ctx" >/dev/null \
    || die "docker build of $ref failed"
}
