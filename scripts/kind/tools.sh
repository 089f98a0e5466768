#!/usr/bin/env bash
# The Go programs of the kind cluster, built from the Go module proxy into the cache; prints their folder.
#
#   scripts/kind/tools.sh            # kind only (what `make kind-up` needs with the official node image)
#   scripts/kind/tools.sh offline    # + what the offline node image carries: crictl, CoreDNS, local-path-provisioner,
#                                    #   kube-router (its NetworkPolicy controller alone) and a pause binary
#
# Each is `go install <module>/<cmd>@<version>`: the module's own go.mod and go.sum decide its dependencies.
# A built tool is reused by reruns and other clones (one marker per tool and version).
source "$(dirname "$0")/../lib.sh"
need go "Go builds kind and the cluster's tools from the Go module proxy (https://go.dev/dl/)."

# name module/cmd@version: the versions of kind v0.33's node image, and the CNI-era tools that go with it.
KIND_VERSION="${KIND_VERSION:-v0.33.0}"
TOOLS=(
  "kind sigs.k8s.io/kind@$KIND_VERSION"
  "crictl sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0"
  "coredns github.com/coredns/coredns@v1.13.1"
  "local-path-provisioner github.com/rancher/local-path-provisioner@v0.0.30"
  # v2.1.0 is the one version the Go module proxy serves; advisories against it concern its BGP routing and
  # service proxy, which this cluster does not run (--run-router=false --run-service-proxy=false).
  "kube-router github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v2.1.0"
)
DIR="$CACHE/kind-tools"
BIN="$DIR/bin"
mkdir -p "$BIN"
exec 9>"$DIR/.lock"
flock 9

build() { # name module/cmd@version
  local name="$1" spec="$2" marker="$DIR/.complete-$1-${2##*@}" tmp
  [ -f "$marker" ] && [ -x "$BIN/$name" ] && return 0
  echo ">> building $name (${spec}) from the Go module proxy" >&2
  tmp="$(mktemp -d "$DIR/.gobin.XXXXXX")"
  GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$spec" >&2 || die "go install $spec failed"
  mv "$tmp"/* "$BIN/$name" && rm -rf "$tmp"
  touch "$marker"
}

# pause: the pod sandbox's process, a few lines of Go of our own (scripts/kind/pause).
build_pause() {
  local src="$ROOT/scripts/kind/pause" sum marker
  sum="$(cat "$src/go.mod" "$src/main.go" | sha256sum | cut -c1-12)"
  marker="$DIR/.complete-pause-$sum"
  [ -f "$marker" ] && [ -x "$BIN/pause" ] && return 0
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/pause" .) >&2 || die "go build of pause failed"
  touch "$marker"
}

case "${1:-}" in
  "") build "${TOOLS[0]% *}" "${TOOLS[0]#* }" ;;
  offline)
    for entry in "${TOOLS[@]}"; do build "${entry%% *}" "${entry#* }"; done
    build_pause
    ;;
  *) die "usage: scripts/kind/tools.sh [offline]" ;;
esac
echo "$BIN"
