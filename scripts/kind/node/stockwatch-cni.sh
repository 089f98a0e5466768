#!/bin/bash
# The pod network of the offline kind node image (kind's own kindnetd image is not built here): writes a bridge CNI
# config for this node's spec.podCIDR once the kubelet has joined, and keeps it current. Pods get addresses from
# host-local IPAM and reach each other and Services; nothing is masqueraded, so traffic stays inside the cluster.
# Routes to other nodes' pod CIDRs are set by scripts/kind/up.sh. NetworkPolicies are enforced by kube-router's
# network policy controller (a DaemonSet up.sh applies) with iptables: bridged traffic passes them (br_netfilter).
set -u
kubeconfig=/etc/kubernetes/kubelet.conf
conf=/etc/cni/net.d/10-stockwatch-bridge.conflist
node=$(hostname)
while true; do
  if [ -f "$kubeconfig" ]; then
    cidr=$(kubectl --kubeconfig "$kubeconfig" get node "$node" -o jsonpath='{.spec.podCIDR}' 2>/dev/null)
    if [ -n "$cidr" ] && ! grep -qF "\"$cidr\"" "$conf" 2>/dev/null; then
      mkdir -p "$(dirname "$conf")"
      cat >"$conf.tmp" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "stockwatch-bridge",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
      mv "$conf.tmp" "$conf"
      echo "wrote $conf for $cidr"
    fi
  fi
  sleep 2
done
