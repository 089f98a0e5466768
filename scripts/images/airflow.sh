#!/usr/bin/env bash
# The Airflow chart's images, built here where no registry answers (deploy/values/offline/airflow.yaml points the
# chart at them):
#   localhost/offline/airflow:3.3.2-python3.11     stand-in for apache/airflow (images/airflow builds FROM it)
#   localhost/offline/postgresql:15                the bundled Bitnami postgresql subchart's metadata database
#   localhost/offline/prometheus/statsd-exporter:<v>  the chart's statsd exporter (Go module proxy)
# PgBouncer is not enabled in the kind environment (the bundled PostgreSQL is used directly): no image for it.
#
#   scripts/images/airflow.sh           # all three; prints each image ref
#   scripts/images/airflow.sh base      # only the Airflow stand-in (its ref)
#   scripts/images/airflow.sh --lock    # re-resolve images/offline/airflow/requirements.lock (after airflow-lock)
source "$(dirname "$0")/lib.sh"

AIRFLOW_VERSION=3.3.2
PYTHON_VERSION=3.11
STATSD_EXPORTER_VERSION=v0.29.0 # the chart's images.statsd.tag
CTX="$ROOT/images/offline/airflow" # base/ (the stand-in), postgresql/, statsd-exporter/
LOCK="$CTX/base/requirements.lock"
UPSTREAM_LOCK="$ROOT/airflow/requirements.lock"

# constraints FILE: the name==version pins of the lock FILE (hashes and comments dropped).
constraints() { sed -n 's/^\([A-Za-z0-9_.-]*==[^ ]*\).*/\1/p' "$1"; }

lock() {
  local c
  c="$(mktemp)"
  constraints "$UPSTREAM_LOCK" >"$c"
  bash "$ROOT/scripts/bootstrap.sh" >/dev/null # uv
  "$CACHE/uv-$UV_VERSION/bin/uv" pip compile -q "$CTX/base/requirements.in" -c "$c" --python-version "$PYTHON_VERSION" \
    --python-platform x86_64-manylinux_2_28 --generate-hashes --custom-compile-command "scripts/images/airflow.sh --lock" \
    -o "$LOCK"
  rm -f "$c"
  log "$LOCK re-resolved"
}

# The stand-in's lock must agree with airflow/requirements.lock on every package both pin.
check_lock() {
  local drift
  drift="$(LC_ALL=C join -t = <(constraints "$LOCK" | tr 'A-Z_' 'a-z-' | LC_ALL=C sort -t = -k1,1) \
    <(constraints "$UPSTREAM_LOCK" | tr 'A-Z_' 'a-z-' | LC_ALL=C sort -t = -k1,1) \
    | awk -F= '$3 != $5 {print $1 " " $3 " (airflow/requirements.lock: " $5 ")"}')"
  [ -z "$drift" ] || die "$LOCK disagrees with $UPSTREAM_LOCK: $drift; run scripts/images/airflow.sh --lock"
}

airflow_base() {
  local ref="$OFFLINE_PREFIX/airflow:$AIRFLOW_VERSION-python$PYTHON_VERSION" bases
  check_lock
  mapfile -t bases < <(bash "$ROOT/scripts/images/stockwatch.sh" python-base)
  build_image "$ref" "$CTX/base" --network host --build-arg "PYTHON_IMAGE=${bases[0]}" --build-arg "BUILD_IMAGE=${bases[1]}"
  echo "$ref"
}

postgresql() {
  local base version ref
  # No default cluster from Debian's postinst: the entrypoint initialises the chart's volume.
  base="$(rootfs postgresql "postgresql-15,postgresql-15-pgaudit" --format=tar \
    '--essential-hook=mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.d/stockwatch.conf"')"
  version="$(docker run --rm --network none --entrypoint /usr/lib/postgresql/15/bin/postgres "$base" --version | awk '{print $3}')"
  [ -n "$version" ] || die "cannot read the PostgreSQL version of $base"
  # Tagged with the major version (what deploy/values/offline/airflow.yaml names); the label has Debian's exact one.
  ref="$OFFLINE_PREFIX/postgresql:${version%%.*}"
  build_image "$ref" "$CTX/postgresql" --build-arg "ROOTFS=$base" --label "org.opencontainers.image.version=$version"
  echo "$ref"
}

statsd_exporter() {
  local bin="$CACHE/go-bin/statsd_exporter-$STATSD_EXPORTER_VERSION" ctx="$CACHE/images/statsd-exporter"
  local ref="$OFFLINE_PREFIX/prometheus/statsd-exporter:$STATSD_EXPORTER_VERSION"
  if [ ! -x "$bin/statsd_exporter" ]; then
    need go "Go builds statsd_exporter from the Go module proxy (https://go.dev/dl/)"
    log "go install github.com/prometheus/statsd_exporter@$STATSD_EXPORTER_VERSION"
    mkdir -p "$bin"
    GOBIN="$bin" CGO_ENABLED=0 go install -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${STATSD_EXPORTER_VERSION#v}" \
      "github.com/prometheus/statsd_exporter@$STATSD_EXPORTER_VERSION" >&2 || die "go install statsd_exporter failed"
  fi
  mkdir -p "$ctx"
  cp "$CTX/statsd-exporter/Dockerfile" "$bin/statsd_exporter" "$ctx/"
  build_image "$ref" "$ctx" --build-arg "ROOTFS=$(rootfs static ca-certificates --format=tar)"
  echo "$ref"
}

case "${1:-}" in
  --lock) lock ;;
  base) airflow_base ;;
  "") airflow_base && postgresql && statsd_exporter ;;
  *) die "usage: scripts/images/airflow.sh [base|--lock]" ;;
esac
