#!/usr/bin/env bash
# The image of the cluster checks (k8s-tests/test_cluster.py): Debian's python3, nothing else, built here and loaded
# into the kind cluster; prints its reference. Python's standard library serves HTTP and makes the client calls.
source "$(dirname "$0")/../images/lib.sh"
CLUSTER="${KIND_CLUSTER:-stockwatch}"
ref="$(rootfs e2e-probe python3)"
"$(bash "$ROOT/scripts/kind/tools.sh")/kind" load docker-image --name "$CLUSTER" "$ref" >&2 \
  || die "kind load docker-image $ref into cluster $CLUSTER failed"
echo "$ref"
