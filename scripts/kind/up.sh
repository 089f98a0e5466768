#!/usr/bin/env bash
# Create (or reuse) the kind cluster; idempotent. Writes the kubeconfig to $KUBECONFIG_KIND (.scratch/kind-kubeconfig).
#
#   KIND_NODE_IMAGE=auto      kindest/node:<kubernetes version> when it can be pulled (or is present), else the node
#                             image built here by scripts/kind/node-image.sh (no registry needed)
#   KIND_NODE_IMAGE=offline   always the image built here;  KIND_NODE_IMAGE=<ref>: that image
#
# With the offline image the cluster has no kindnetd: the node image writes a bridge CNI config, this script routes
# pod CIDRs between nodes and runs kube-router's network policy controller, which enforces NetworkPolicies. Either way CoreDNS answers
# cluster names only (it forwards nothing upstream), and the nodes sit on a docker network of our own
# (172.31.250.0/24), so the cluster's traffic stays on this machine.
source "$(dirname "$0")/../images/lib.sh"
HERE="$ROOT/scripts/kind"
CLUSTER="${KIND_CLUSTER:-stockwatch}"
KUBECONFIG="${KUBECONFIG_KIND:-$ROOT/.scratch/kind-kubeconfig}"
export KUBECONFIG
CONFIG="${KIND_CONFIG:-$ROOT/deploy/kind-config.yaml}"
KIND="$(bash "$HERE/tools.sh")/kind"
K8S="$(bash "$ROOT/scripts/k8s-tools.sh" all)"
kubectl() { "$K8S/kubectl" "$@"; }
K8S_VERSION="$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$ROOT/tools/k8s/go.mod")"
mkdir -p "$(dirname "$KUBECONFIG")"

if "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER" \
  && [ "$(docker inspect -f '{{.State.Running}}' "$CLUSTER-control-plane" 2>/dev/null)" != true ]; then
  # Left behind by an engine that stopped (a reboot, the end of a CI job): its containers do not come back whole.
  log "kind cluster $CLUSTER exists but its control plane is not running: recreating it"
  "$KIND" delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG" >&2
fi
if "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "kind cluster $CLUSTER exists"
  "$KIND" export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG" >&2
  kubectl wait --for=condition=Ready nodes --all --timeout=180s >&2
  echo "$KUBECONFIG"
  exit 0
fi

image="${KIND_NODE_IMAGE:-auto}"
official="kindest/node:$K8S_VERSION"
if [ "$image" = auto ]; then
  if has_image "$official" || timeout 120 docker pull -q "$official" >/dev/null 2>&1; then
    image="$official"
  else
    log "cannot pull $official: building the node image here (scripts/kind/node-image.sh)"
    image=offline
  fi
fi
offline=false
if [ "$image" = offline ]; then image="$(bash "$HERE/node-image.sh")"; fi
case "$image" in "$OFFLINE_PREFIX"/kind-node:*) offline=true ;; esac

# The cluster's config: deploy/kind-config.yaml, plus (offline) no default CNI.
config="$(dirname "$KUBECONFIG")/kind-config.generated.yaml"
cp "$CONFIG" "$config"
if $offline; then
  grep -q '^networking:' "$config" && die "$CONFIG has a networking: section; the offline cluster sets networking.disableDefaultCNI itself"
  printf '# added by scripts/kind/up.sh for the offline node image (no kindnetd)\nnetworking:\n  disableDefaultCNI: true\n' >>"$config"
fi

# The nodes' docker network, with a subnet of our own (docker would otherwise pick one itself).
docker network inspect kind >/dev/null 2>&1 || docker network create -d bridge --subnet 172.31.250.0/24 \
  --gateway 172.31.250.1 -o com.docker.network.bridge.name=kind0 kind >/dev/null
# Node-to-node traffic crosses the host bridge and, with br_netfilter, the host's FORWARD chain: allow kind0<->kind0
# where a DOCKER-USER chain exists (a system dockerd with iptables made one).
if iptables -L DOCKER-USER -n >/dev/null 2>&1; then
  iptables -C DOCKER-USER -i kind0 -o kind0 -j ACCEPT 2>/dev/null || iptables -I DOCKER-USER -i kind0 -o kind0 -j ACCEPT
fi

log "kind create cluster $CLUSTER ($image)"
"$KIND" create cluster --name "$CLUSTER" --image "$image" --config "$config" --kubeconfig "$KUBECONFIG" --wait 0s >&2 \
  || die "kind create cluster failed (docker logs: docker ps -a --filter label=io.x-k8s.kind.cluster=$CLUSTER)"

if $offline; then
  # Pod CIDR routes between nodes (kindnetd's other job); one node needs none.
  nodes="$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')"
  while read -r node _ _; do
    while read -r other cidr ip; do
      [ "$node" = "$other" ] || docker exec "$node" ip route replace "$cidr" via "$ip"
    done <<<"$nodes"
  done <<<"$nodes"
  sed "s#@IMAGE@#$(cat "$CACHE/kind-node/network-policy-image")#" "$HERE/network-policies.yaml" | kubectl apply -f - >&2
fi
kubectl wait --for=condition=Ready nodes --all --timeout=240s >&2

# CoreDNS: cluster names only, nothing forwarded upstream.
corefile="$(kubectl -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}')"
local_only="$(printf '%s\n' "$corefile" | python3 -c 'import re, sys; print(re.sub(r"\n\s*forward \. /etc/resolv\.conf( \{[^}]*\})?", "", sys.stdin.read()), end="")')"
if [ "$local_only" != "$corefile" ]; then
  kubectl -n kube-system create configmap coredns --from-literal=Corefile="$local_only" --dry-run=client -o yaml \
    | kubectl apply --server-side --force-conflicts -f - >&2
  kubectl -n kube-system rollout restart deployment/coredns >&2
fi
kubectl -n kube-system rollout status deployment/coredns --timeout=180s >&2
if $offline; then kubectl -n kube-system rollout status daemonset/kube-router --timeout=180s >&2; fi
log "kind cluster $CLUSTER ready: export KUBECONFIG=$KUBECONFIG"
echo "$KUBECONFIG"
