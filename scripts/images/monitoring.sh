#!/usr/bin/env bash
# The images kube-prometheus-stack 88.2.0 runs with our values, built offline (Grafana excepted: AGPL, not built
# here; the offline values turn it off). deploy/values/offline/kube-prometheus-stack.yaml points the chart at them.
#
#   bash scripts/images/monitoring.sh          # build (cached); prints one image reference a line
#   bash scripts/images/monitoring.sh check    # build, then start each image in docker and check that it answers
#   bash scripts/images/monitoring.sh list     # the image references only (no build, no docker)
#
# Every program is built from the Go module proxy (CGO_ENABLED=0) into $CACHE/monitoring/go/<name>-<version>,
# then copied onto one small Debian rootfs (ca-certificates only). Debian's own packages are too old here:
# bookworm's prometheus 2.42 is below the operator's minimum (v2.45), its alertmanager 0.25 and node-exporter
# 1.5 are far behind what the chart's flags and rules expect. Versions: the operator and config reloader from
# tools/prometheus-operator/go.mod (the chart's appVersion), Prometheus from tools/prometheus/go.mod (module
# v0.3XX.Y = Prometheus 3.XX.Y, the chart's image tag), the rest below (the chart's tags and subchart appVersions).
source "$(dirname "$0")/../lib.sh" # ROOT, CACHE, die, need; images/lib.sh (the engine) only to build
shopt -s inherit_errexit # a failed build inside $(...) stops the script

ALERTMANAGER_VERSION=v0.33.1  # kube-prometheus-stack alertmanager.alertmanagerSpec.image.tag
KSM_VERSION=v2.19.1           # the kube-state-metrics 8.2.0 subchart's appVersion
NODE_EXPORTER_VERSION=v1.12.1 # the prometheus-node-exporter 4.56.1 subchart's appVersion

modver() { awk -v m="$2" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$1"; }
OPERATOR_VERSION="$(modver "$ROOT/tools/prometheus-operator/go.mod" github.com/prometheus-operator/prometheus-operator)"
PROMETHEUS_MODULE_VERSION="$(modver "$ROOT/tools/prometheus/go.mod" github.com/prometheus/prometheus)"
[[ "$OPERATOR_VERSION" =~ ^v0\.[0-9]+\.[0-9]+$ ]] || die "no prometheus-operator version in tools/prometheus-operator/go.mod"
[[ "$PROMETHEUS_MODULE_VERSION" =~ ^v0\.([0-9])([0-9]{2})\.([0-9]+)$ ]] \
  || die "tools/prometheus/go.mod: github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION is not v0.3XX.Y"
PROMETHEUS_VERSION="v${BASH_REMATCH[1]}.$((10#${BASH_REMATCH[2]})).${BASH_REMATCH[3]}"

PREFIX=localhost/offline # = OFFLINE_PREFIX of scripts/images/lib.sh
OPERATOR_IMAGE="$PREFIX/prometheus-operator/prometheus-operator:$OPERATOR_VERSION"
RELOADER_IMAGE="$PREFIX/prometheus-operator/prometheus-config-reloader:$OPERATOR_VERSION"
PROMETHEUS_IMAGE="$PREFIX/prometheus/prometheus:$PROMETHEUS_VERSION"
ALERTMANAGER_IMAGE="$PREFIX/prometheus/alertmanager:$ALERTMANAGER_VERSION"
KSM_IMAGE="$PREFIX/kube-state-metrics/kube-state-metrics:$KSM_VERSION"
NODE_EXPORTER_IMAGE="$PREFIX/prometheus/node-exporter:$NODE_EXPORTER_VERSION"
IMAGES=("$OPERATOR_IMAGE" "$RELOADER_IMAGE" "$PROMETHEUS_IMAGE" "$ALERTMANAGER_IMAGE" "$KSM_IMAGE" "$NODE_EXPORTER_IMAGE")
if [ "${1:-}" = list ]; then # what this script provides, without building (charts/tests/test_offline_images.py)
  printf '%s\n' "${IMAGES[@]}"
  exit 0
fi

source "$ROOT/scripts/images/lib.sh"
[ "$PREFIX" = "$OFFLINE_PREFIX" ] || die "scripts/images/lib.sh names images $OFFLINE_PREFIX/..., not $PREFIX/..."
need go "Go 1.26+ builds the monitoring images' programs from the Go module proxy (apt-get install golang, or https://go.dev/dl/)."
DOCKERFILES="$ROOT/images/offline/monitoring"
DIR="$CACHE/monitoring"
mkdir -p "$DIR/go" "$DIR/context"
exec 8>"$DIR/.lock"
flock 8 # one build at a time per cache

# module_info MODULE VERSION: "<commit> <date> <go.mod path>" of MODULE@VERSION from the Go module proxy (its
# .info names the release commit and time; "unknown" where it does not).
module_info() {
  local info gomod commit time
  read -r info gomod < <((cd "$DIR" && GOFLAGS=-mod=mod go mod download -json "$1@$2") \
    | awk -F'"' '$2 == "Info" {i = $4} $2 == "GoMod" {g = $4} END {print i, g}')
  [ -f "$info" ] || die "the Go module proxy has no $1@$2"
  commit="$(grep -o '"Hash":"[0-9a-f]*"' "$info" | cut -d'"' -f4)"
  time="$(grep -o '"Time":"[^"]*"' "$info" | cut -d'"' -f4)"
  echo "${commit:-unknown} ${time:-unknown} $gomod"
}

# version_ldflags MODULE VERSION VERSION_STRING: the -X flags of github.com/prometheus/common/version that the
# upstream Makefiles set (version, commit, build date = the release commit's time, so rebuilds are identical).
version_ldflags() {
  local commit time gomod pkg=github.com/prometheus/common/version
  read -r commit time gomod < <(module_info "$1" "$2")
  time="${time//-/}" && time="${time/T/-}" && time="${time%Z}"
  echo "-s -w -X $pkg.Version=$3 -X $pkg.Revision=$commit -X $pkg.Branch=HEAD -X $pkg.BuildUser=stockwatch -X $pkg.BuildDate=$time"
}

# gobuild NAME VERSION COMMAND...: run COMMAND (a go build/install writing into $out) unless NAME-VERSION was
# built by the same recipe (the marker holds a hash of COMMAND, the functions it and the ldflags use, and the
# wrapper modules: a changed recipe rebuilds, quickly from the Go build cache). Prints the binaries' folder.
gobuild() {
  local name="$1" version="$2" started=$SECONDS key
  shift 2
  local out="$DIR/go/$name-$version"
  key="$( (printf '%s\n' "$@" && declare -f "$1" module_source module_info version_ldflags \
    && cat "$ROOT"/tools/prometheus*/go.sum) | sha256sum | cut -c1-16)"
  if [ "$(cat "$out/.complete" 2>/dev/null)" != "$key" ]; then
    log "go build $name $version (Go module proxy; cached in $(go env GOCACHE))"
    rm -rf "$out" && mkdir -p "$out"
    "$@" >&2 || die "go build of $name $version failed"
    echo "$key" >"$out/.complete"
    log "$name built in $((SECONDS - started))s"
  fi
  echo "$out"
}

build_operator() {
  local mod=github.com/prometheus-operator/prometheus-operator ldflags
  ldflags="$(version_ldflags "$mod" "$OPERATOR_VERSION" "${OPERATOR_VERSION#v}")"
  (cd "$ROOT/tools/prometheus-operator" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" \
    "$mod/cmd/operator" "$mod/cmd/prometheus-config-reloader")
}

build_prometheus() {
  local mod=github.com/prometheus/prometheus ldflags
  ldflags="$(version_ldflags "$mod" "$PROMETHEUS_MODULE_VERSION" "${PROMETHEUS_VERSION#v}")"
  (cd "$ROOT/tools/prometheus" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" "$mod/cmd/prometheus")
}

# module_source MODULE VERSION: a writable copy of MODULE@VERSION's source (Go module proxy) under $DIR/src, built
# with its own go.mod and go.sum where `go install MODULE@VERSION` cannot be used. Prints its folder.
module_source() {
  local dir src="$DIR/src/${1//\//_}@$2"
  if [ ! -f "$src/.complete" ]; then
    dir="$( (cd "$DIR" && GOFLAGS=-mod=mod go mod download -json "$1@$2") | awk -F'"' '$2 == "Dir" {print $4}')"
    [ -d "$dir" ] || die "the Go module proxy has no $1@$2"
    rm -rf "$src" && mkdir -p "$DIR/src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
    touch "$src/.complete"
  fi
  echo "$src"
}

# Alertmanager's ui package embeds app/dist, the web UI's npm build, which the module does not ship: the copy
# gets a one-page stand-in (the API, /-/healthy and /metrics are unaffected).
build_alertmanager() {
  local mod=github.com/prometheus/alertmanager src ldflags
  src="$(module_source "$mod" "$ALERTMANAGER_VERSION")"
  mkdir -p "$src/ui/app/dist"
  echo '<!doctype html><title>Alertmanager</title><p>No web UI in this build; the API is at /api/v2/.' \
    >"$src/ui/app/dist/index.html"
  ldflags="$(version_ldflags "$mod" "$ALERTMANAGER_VERSION" "${ALERTMANAGER_VERSION#v}")"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" ./cmd/alertmanager)
}

# `go install k8s.io/kube-state-metrics/v2@...` asks the proxy for the module's version list (for deprecations),
# which the proxy here refuses: built in a copy of its source instead.
build_ksm() {
  local mod=k8s.io/kube-state-metrics/v2 src client_go ldflags
  src="$(module_source "$mod" "$KSM_VERSION")"
  client_go="$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$src/go.mod")"
  ldflags="$(version_ldflags "$mod" "$KSM_VERSION" "$KSM_VERSION") -X $mod/pkg/app.ClientGoVersion=$client_go"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/kube-state-metrics" .)
}

build_node_exporter() {
  local mod=github.com/prometheus/node_exporter ldflags
  ldflags="$(version_ldflags "$mod" "$NODE_EXPORTER_VERSION" "${NODE_EXPORTER_VERSION#v}")"
  GOBIN="$out" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$mod@$NODE_EXPORTER_VERSION"
}

# image NAME REF BINARY_DIR BINARY...: the Dockerfile of images/offline/monitoring/NAME with BINARY... beside it.
image() {
  local name="$1" ref="$2" bin="$3" ctx="$DIR/context/$1"
  shift 3
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$DOCKERFILES/$name"/* "$ctx/"
  for b in "$@"; do ln "$bin/$b" "$ctx/$b" 2>/dev/null || cp "$bin/$b" "$ctx/$b"; done
  build_image "$ref" "$ctx" --build-arg "BASE=$BASE"
  echo "$ref"
}

build_all() {
  local bin
  BASE="$(rootfs monitoring-base ca-certificates)"
  bin="$(gobuild prometheus-operator "$OPERATOR_VERSION" build_operator)"
  image prometheus-operator "$OPERATOR_IMAGE" "$bin" operator
  image prometheus-config-reloader "$RELOADER_IMAGE" "$bin" prometheus-config-reloader
  bin="$(gobuild prometheus "$PROMETHEUS_VERSION" build_prometheus)"
  image prometheus "$PROMETHEUS_IMAGE" "$bin" prometheus
  bin="$(gobuild alertmanager "$ALERTMANAGER_VERSION" build_alertmanager)"
  image alertmanager "$ALERTMANAGER_IMAGE" "$bin" alertmanager
  bin="$(gobuild kube-state-metrics "$KSM_VERSION" build_ksm)"
  image kube-state-metrics "$KSM_IMAGE" "$bin" kube-state-metrics
  bin="$(gobuild node-exporter "$NODE_EXPORTER_VERSION" build_node_exporter)"
  image node-exporter "$NODE_EXPORTER_IMAGE" "$bin" node_exporter
}

# ---------------------------------------------------------------- check: each image starts and answers in docker
# expect_output REF PATTERN ARGS...: `docker run --rm --network none REF ARGS...` prints PATTERN.
expect_output() {
  local ref="$1" pattern="$2" out
  shift 2
  out="$(docker run --rm --network none "$@" 2>&1)" || die "$ref: docker run $* failed: $out"
  grep -q -- "$pattern" <<<"$out" || die "$ref: expected '$pattern' in: $out"
  log "ok $ref: $(grep -m1 -- "$pattern" <<<"$out")"
}

# expect_http REF PORT PATH PATTERN: REF started with its defaults answers PATH on PORT (published on 127.0.0.1).
expect_http() {
  local ref="$1" port="$2" path="$3" pattern="$4" id hostport body="" i
  id="$(docker run -d --rm -p "127.0.0.1::$port" "$ref")" || die "$ref did not start"
  hostport="$(docker port "$id" "$port/tcp" | head -1)"
  for i in $(seq 1 60); do
    body="$(curl -fsS --max-time 2 "http://$hostport$path" 2>/dev/null)" && break
    docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null | grep -q true || break
    sleep 0.5
  done
  if ! grep -q -- "$pattern" <<<"$body"; then
    docker logs "$id" >&2 2>&1 || true
    docker rm -f "$id" >/dev/null 2>&1 || true
    die "$ref: GET $path on $hostport did not answer '$pattern' (try $i)"
  fi
  docker rm -f "$id" >/dev/null
  log "ok $ref: GET $path -> $(grep -m1 -- "$pattern" <<<"$body" | cut -c1-80)"
}

check_all() {
  need curl "curl checks the images' HTTP endpoints"
  local op="$1" reloader="$2" prom="$3" am="$4" ksm="$5" ne="$6"
  expect_output "$op" "${OPERATOR_VERSION#v}" "$op" --version
  expect_output "$reloader" "${OPERATOR_VERSION#v}" "$reloader" --version
  expect_output "$prom" "version ${PROMETHEUS_VERSION#v}" "$prom" --version
  expect_output "$am" "version ${ALERTMANAGER_VERSION#v}" "$am" --version
  expect_output "$ksm" "$KSM_VERSION" --entrypoint /kube-state-metrics "$ksm" version
  expect_output "$ne" "version ${NODE_EXPORTER_VERSION#v}" "$ne" --version
  expect_http "$prom" 9090 /-/healthy "Healthy"
  expect_http "$am" 9093 /-/healthy "OK"
  expect_http "$ne" 9100 /metrics "^node_exporter_build_info"
}

main() {
  local started=$SECONDS refs
  refs="$(build_all)"
  log "monitoring images ready in $((SECONDS - started))s"
  case "${1:-build}" in
    build) ;;
    check) mapfile -t list <<<"$refs" && check_all "${list[@]}" ;;
    *) die "unknown command '$1' (build|check)" ;;
  esac
  echo "$refs"
}

main "$@"
