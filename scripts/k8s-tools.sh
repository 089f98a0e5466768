#!/usr/bin/env bash
# The Kubernetes tools the tests run for real: helm, kubectl, kube-apiserver, kube-controller-manager, etcd.
#
#   scripts/k8s-tools.sh [helm|kubectl|kube-apiserver|kube-controller-manager|etcd|all]   (default: all)
#   scripts/k8s-tools.sh node    # kubelet, kubeadm, kube-scheduler, kube-proxy: the offline kind node image's
#
# Prints the folder holding the binaries ($STOCKWATCH_CACHE/k8s-<version>/bin). Idempotent: a binary whose
# `.complete` marker exists is reused by reruns and by other clones. Each binary is taken from its official
# release download when that is reachable (STOCKWATCH_K8S_FROM=auto, the default; checksums verified),
# otherwise built from source through the Go module proxy (needs Go; STOCKWATCH_K8S_FROM=source forces it).
# The three Kubernetes binaries are built in one `go build` so they share compilation (several minutes on
# 2 cores; the Go build and module caches make reruns quick).
source "$(dirname "$0")/lib.sh"

HELM_VERSION=v3.19.5
# Kubernetes and etcd versions come from the wrapper module (tools/k8s/bump.sh changes them).
GOMOD="$ROOT/tools/k8s/go.mod"
modver() { awk -v m="$1" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$GOMOD"; }
K8S_VERSION="$(modver k8s.io/kubernetes)"
ETCD_VERSION="$(modver go.etcd.io/etcd/server/v3)"
[ -n "$K8S_VERSION" ] && [ -n "$ETCD_VERSION" ] || die "cannot read the Kubernetes/etcd versions from $GOMOD"
FROM="${STOCKWATCH_K8S_FROM:-auto}"

DIR="$CACHE/k8s-$K8S_VERSION"
BIN="$DIR/bin"
mkdir -p "$BIN"
LOCK="$DIR/.lock"

log() { echo ">> $*" >&2; }
marker() { echo "$DIR/.complete-$1-$2"; }
have() { [ -f "$(marker "$1" "$2")" ] && [ -x "$BIN/$1" ]; }
done_() { touch "$(marker "$1" "$2")"; }

case "$(uname -m)" in
  x86_64) ARCH=amd64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) ARCH="$(uname -m)" ;;
esac
OS="$(uname -s | tr '[:upper:]' '[:lower:]')"

need_go() {
  need go "Go is needed to build the Kubernetes tools from source: install Go 1.21+ (https://go.dev/dl/); it fetches the Go 1.25 toolchain that tools/k8s/go.mod asks for."
}

# download URL SHA256 DEST: fetch with short timeouts, verify, move into place. Fails quietly (status 1).
download() {
  local url="$1" sum="$2" dest="$3" tmp
  command -v curl >/dev/null 2>&1 || return 1
  tmp="$(mktemp "$DIR/.dl.XXXXXX")"
  if curl -fsSL --connect-timeout 5 --max-time 300 -o "$tmp" "$url" \
    && echo "$sum  $tmp" | sha256sum -c --status -; then
    mv "$tmp" "$dest"
    return 0
  fi
  rm -f "$tmp"
  return 1
}

# release_sum URL: the published sha256 of URL (first field of URL.sha256 / URL.sha256sum).
release_sum() {
  command -v curl >/dev/null 2>&1 || return 1
  curl -fsSL --connect-timeout 5 --max-time 20 "$1" 2>/dev/null | awk 'NR==1 {print $1}' | grep -E '^[0-9a-f]{64}$'
}

try_release() { [ "$FROM" = "auto" ] || [ "$FROM" = "release" ]; }

# ---------------------------------------------------------------- helm
helm_release() {
  local base="https://get.helm.sh/helm-$HELM_VERSION-$OS-$ARCH.tar.gz" sum tgz
  sum="$(release_sum "$base.sha256sum")" || return 1
  tgz="$DIR/helm.tar.gz"
  download "$base" "$sum" "$tgz" || return 1
  tar -xzf "$tgz" -C "$DIR" "$OS-$ARCH/helm" && mv "$DIR/$OS-$ARCH/helm" "$BIN/helm"
  rm -rf "$tgz" "${DIR:?}/$OS-$ARCH"
}

helm_source() {
  need_go
  log "building helm $HELM_VERSION from source (Go module proxy) into $BIN"
  GOBIN="$BIN" CGO_ENABLED=0 go install \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
}

get_helm() {
  have helm "$HELM_VERSION" && return 0
  if try_release && helm_release; then
    log "helm $HELM_VERSION from the release download"
  else
    [ "$FROM" = "release" ] && die "helm $HELM_VERSION: release download failed (STOCKWATCH_K8S_FROM=release)"
    helm_source
  fi
  "$BIN/helm" version --short >/dev/null || die "the helm binary in $BIN does not run"
  done_ helm "$HELM_VERSION"
}

# ---------------------------------------------------------------- kube-apiserver, kubectl, kube-controller-manager, etcd
K8S_TOOLS=(kube-apiserver kube-controller-manager kubectl)

version_of() { case "$1" in etcd) echo "$ETCD_VERSION" ;; *) echo "$K8S_VERSION" ;; esac; }

release_one() {
  local tool="$1" url sum tgz name
  if [ "$tool" = etcd ]; then
    name="etcd-$ETCD_VERSION-$OS-$ARCH"
    url="https://github.com/etcd-io/etcd/releases/download/$ETCD_VERSION"
    sum="$(curl -fsSL --connect-timeout 5 --max-time 20 "$url/SHA256SUMS" 2>/dev/null \
      | awk -v f="$name.tar.gz" '$2 == f {print $1}')" || return 1
    [ -n "$sum" ] || return 1
    tgz="$DIR/etcd.tar.gz"
    download "$url/$name.tar.gz" "$sum" "$tgz" || return 1
    tar -xzf "$tgz" -C "$DIR" "$name/etcd" && mv "$DIR/$name/etcd" "$BIN/etcd"
    rm -rf "$tgz" "${DIR:?}/$name"
  else
    url="https://dl.k8s.io/release/$K8S_VERSION/bin/$OS/$ARCH/$tool"
    sum="$(release_sum "$url.sha256")" || return 1
    download "$url" "$sum" "$BIN/$tool" || return 1
    chmod +x "$BIN/$tool"
  fi
}

# The linker flags of a Kubernetes build: stripped, with the version stamped as a release build stamps it.
k8s_ldflags() {
  local minor="${K8S_VERSION#v1.}" flags="-s -w" pkg
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

# All four in one `go build`: they share most of their packages, so this costs little more than kube-apiserver.
build_all() {
  need_go
  local out="$DIR/.build" started=$SECONDS ldflags
  ldflags="$(k8s_ldflags)"
  log "building kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION and etcd $ETCD_VERSION from source"
  log "(Go module proxy; several minutes on 2 cores the first time, cached in $(go env GOCACHE))"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$ROOT/tools/k8s" && CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3) >&2 || die "go build of the Kubernetes tools failed"
  mv "$out/server" "$BIN/etcd" # go names the binary after the module path's last element before /v3
  for tool in "${K8S_TOOLS[@]}"; do mv "$out/$tool" "$BIN/$tool"; done
  rm -rf "$out"
  for tool in "${K8S_TOOLS[@]}" etcd; do done_ "$tool" "$(version_of "$tool")"; done
  log "built in $((SECONDS - started))s"
}

get_k8s() {
  local tool="$1" version
  version="$(version_of "$tool")"
  have "$tool" "$version" && return 0
  if try_release && release_one "$tool"; then
    log "$tool $version from the release download"
    done_ "$tool" "$version"
    return 0
  fi
  [ "$FROM" = "release" ] && die "$tool $version: release download failed (STOCKWATCH_K8S_FROM=release)"
  build_all
}

# ---------------------------------------------------------------- kubelet, kubeadm, kube-scheduler, kube-proxy
# The node's binaries, for the kind node image built offline (scripts/kind/node-image.sh). One `go build` too.
NODE_TOOLS=(kubelet kubeadm kube-scheduler kube-proxy)

build_node() {
  need_go
  local out="$DIR/.build-node" started=$SECONDS tool ldflags
  ldflags="$(k8s_ldflags)"
  log "building ${NODE_TOOLS[*]} $K8S_VERSION from source (Go module proxy)"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$ROOT/tools/k8s" && CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$out/" \
    "${NODE_TOOLS[@]/#/k8s.io/kubernetes/cmd/}") >&2 || die "go build of the Kubernetes node tools failed"
  for tool in "${NODE_TOOLS[@]}"; do mv "$out/$tool" "$BIN/$tool" && done_ "$tool" "$K8S_VERSION"; done
  rm -rf "$out"
  log "built in $((SECONDS - started))s"
}

get_node() {
  local tool missing=()
  for tool in "${NODE_TOOLS[@]}"; do
    have "$tool" "$K8S_VERSION" && continue
    if try_release && release_one "$tool"; then
      log "$tool $K8S_VERSION from the release download"
      done_ "$tool" "$K8S_VERSION"
    else
      missing+=("$tool")
    fi
  done
  [ "${#missing[@]}" = 0 ] && return 0
  [ "$FROM" = "release" ] && die "${missing[*]} $K8S_VERSION: release download failed (STOCKWATCH_K8S_FROM=release)"
  build_node
}

# ---------------------------------------------------------------- dispatch
main() {
  local what="${1:-all}"
  exec 9>"$LOCK"
  flock 9 # one build at a time per cache (parallel make / several clones)
  case "$what" in
    helm) get_helm ;;
    kubectl | kube-apiserver | kube-controller-manager | etcd) get_k8s "$what" ;;
    node) get_node ;;
    all)
      get_helm
      for tool in "${K8S_TOOLS[@]}" etcd; do get_k8s "$tool"; done
      ;;
    *) die "unknown tool '$what' (helm|kubectl|kube-apiserver|kube-controller-manager|etcd|all|node)" ;;
  esac
  echo "$BIN"
}

main "$@"
