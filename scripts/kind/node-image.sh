#!/usr/bin/env bash
# The kind node image, built on this machine for clusters that cannot pull kindest/node (no registry: CI here,
# air-gapped users). Prints the image reference, localhost/offline/kind-node:<kubernetes version>-<key>.
#
# Everything comes from Debian's packages and the Go module proxy:
#   base      mmdebstrap bookworm (systemd, containerd 1.6, runc, CNI plugins) + kind's node files   (node/Dockerfile)
#   Kubernetes kubeadm, kubelet, kubectl + kube-apiserver/-controller-manager/-scheduler/-proxy images, etcd, CoreDNS,
#             pause (scripts/k8s-tools.sh, scripts/kind/tools.sh), on a small Debian base
#   extras    local-path-provisioner (kind's default StorageClass) and kube-router's NetworkPolicy controller
#             (enforcement: kindnetd, which does this on the official image, is not built here)
# then `kind build node-image --type file` assembles them as kind does for a release. Idempotent: the key hashes
# this folder and every version, and an image with that key is reused (seconds warm).
source "$(dirname "$0")/../images/lib.sh"
HERE="$ROOT/scripts/kind"
TOOLS="$(bash "$HERE/tools.sh" offline)"
K8S="$(bash "$ROOT/scripts/k8s-tools.sh" all)"
bash "$ROOT/scripts/k8s-tools.sh" node >/dev/null
KIND_SRC="$(go env GOMODCACHE)/sigs.k8s.io/kind@$("$TOOLS/kind" version | awk '{print $2}')"
[ -d "$KIND_SRC/images/base/files" ] || die "kind's node files are not in the Go module cache ($KIND_SRC): run scripts/kind/tools.sh"
K8S_VERSION="$("$K8S/kubeadm" version -o short)"

key="$( { find "$HERE/node" -type f -print0 | sort -z | xargs -0 sha256sum | cut -c1-64
          ls "$TOOLS"/../.complete-* "$K8S"/../.complete-* | xargs -n1 basename; echo "$DEBIAN_SUITE"; } | sha256sum | cut -c1-12)"
NODE_IMAGE="$OFFLINE_PREFIX/kind-node:$K8S_VERSION-$key"
if has_image "$NODE_IMAGE"; then echo "$NODE_IMAGE"; exit 0; fi
started=$SECONDS

# 1. Root filesystems.
node_rootfs="$(rootfs kind-node-base systemd,systemd-sysv,containerd,runc,containernetworking-plugins,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,e2fsprogs,socat)"
kbase="$(rootfs kbase iptables,ipset,nftables,conntrack,ca-certificates,iproute2)"

# 2. The base image: node/ + kind's files + crictl.
ctx="$CACHE/kind-node/ctx"
rm -rf "$ctx" && mkdir -p "$ctx"
cp -r "$HERE/node/." "$ctx/"
cp -r "$KIND_SRC/images/base/files" "$ctx/files" && chmod -R u+w "$ctx/files"
cp "$TOOLS/crictl" "$ctx/"
base="$OFFLINE_PREFIX/kind-base:$key"
build_image "$base" "$ctx" --build-arg "ROOTFS=$node_rootfs"

# 3. Component images, tagged as kubeadm and kind ask for them (so nothing is pulled).
images=()
binary_image() { # ref binary [entrypoint]: the binary on kbase
  local ref="$1" bin="$2" dir
  dir="$CACHE/kind-node/img/$(basename "$bin")"
  rm -rf "$dir" && mkdir -p "$dir" && cp "$bin" "$dir/"
  { echo "FROM $kbase"; echo "COPY $(basename "$bin") /usr/local/bin/$(basename "$bin")"
    [ -z "${3:-}" ] || echo "ENTRYPOINT [\"$3\"]"; } >"$dir/Dockerfile"
  build_image "$ref" "$dir"
  images+=("$ref")
}
for ref in $("$K8S/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null); do
  case "$ref" in
    */kube-apiserver:* | */kube-controller-manager:* | */kube-scheduler:* | */kube-proxy:*)
      name="${ref##*/}"; name="${name%%:*}"
      bin="$K8S/$name"; [ -x "$bin" ] || die "$bin is missing (scripts/k8s-tools.sh all node)"
      binary_image "$ref" "$bin" ;;
    */etcd:*) binary_image "$ref" "$K8S/etcd" ;;
    */coredns:*) binary_image "$ref" "$TOOLS/coredns" /usr/local/bin/coredns ;;
    */pause:*) pause_ref="$ref" ;;
    *) die "kubeadm asks for an image this script does not build: $ref" ;;
  esac
done
[ -n "${pause_ref:-}" ] || die "kubeadm listed no pause image"
pdir="$CACHE/kind-node/img/pause"
rm -rf "$pdir" && mkdir -p "$pdir" && cp "$TOOLS/pause" "$pdir/"
printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$pdir/Dockerfile"
build_image "$pause_ref" "$pdir"
images+=("$pause_ref")
# containerd's own sandbox image setting (kind's config.toml) may name another pause tag: serve both.
sandbox="$(awk -F'"' '/sandbox_image/ {print $2; exit}' "$ctx/files/etc/containerd/config.toml")"
if [ -n "$sandbox" ] && [ "$sandbox" != "$pause_ref" ]; then docker tag "$pause_ref" "$sandbox"; images+=("$sandbox"); fi

# What kind's build pre-loads: kindnetd (unused: these clusters disable it, but the build insists on it, so the
# pause image stands in), local-path-provisioner and its helper (real: the default StorageClass).
kind_image() { grep -ho "docker.io/kindest/$1:[^\"]*" "$KIND_SRC"/pkg/build/nodeimage/const_*.go | head -1; }
kindnetd="$(kind_image kindnetd)"; lpp="$(kind_image local-path-provisioner)"; lph="$(kind_image local-path-helper)"
[ -n "$kindnetd" ] && [ -n "$lpp" ] && [ -n "$lph" ] || die "cannot read kind's image names from $KIND_SRC/pkg/build/nodeimage"
docker tag "$pause_ref" "$kindnetd"
binary_image "$lpp" "$TOOLS/local-path-provisioner" /usr/local/bin/local-path-provisioner
docker tag "$kbase" "$lph"
images+=("$kindnetd" "$lph")
policy_marker="$(ls "$TOOLS"/../.complete-kube-router-*)"
policy="$OFFLINE_PREFIX/kube-router:${policy_marker##*complete-kube-router-}"
binary_image "$policy" "$TOOLS/kube-router" /usr/local/bin/kube-router
echo "$policy" >"$CACHE/kind-node/network-policy-image"

# 4. A kubernetes-server tarball as `kind build node-image --type file` reads it. kind takes the image tags of
#    each archive from its first manifest entry only, so the extra images go into kube-proxy.tar with their
#    `repositories` index first (node/repack-archive.py), and every one of them counts as built (none is pulled).
srv="$CACHE/kind-node/server"
rm -rf "$srv" && mkdir -p "$srv/kubernetes/server/bin"
bin="$srv/kubernetes/server/bin"
for name in kube-apiserver kube-controller-manager kube-scheduler; do
  docker save -o "$bin/$name.tar" "$(printf '%s\n' "${images[@]}" | grep "/$name:")"
done
docker save -o "$srv/extra.tar" $(printf '%s\n' "${images[@]}" | grep -vE '/kube-(apiserver|controller-manager|scheduler):')
python3 "$HERE/node/repack-archive.py" "$srv/extra.tar" "$bin/kube-proxy.tar" && rm "$srv/extra.tar"
cp "$K8S/kubeadm" "$K8S/kubelet" "$K8S/kubectl" "$bin/"
echo "$K8S_VERSION" >"$srv/kubernetes/version"
tar -C "$srv" -czf "$srv/kubernetes-server-linux-amd64.tar.gz" kubernetes

# 5. kind assembles the node image.
log "kind build node-image $NODE_IMAGE"
"$TOOLS/kind" build node-image --type file --base-image "$base" --image "$NODE_IMAGE" \
  "$srv/kubernetes-server-linux-amd64.tar.gz" >&2 || die "kind build node-image failed"
rm -rf "$srv" "$CACHE/kind-node/img"
log "node image $NODE_IMAGE built in $((SECONDS - started))s"
echo "$NODE_IMAGE"
