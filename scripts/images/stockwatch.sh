#!/usr/bin/env bash
# Our four images, stockwatch/{pipeline,operator,dbt,airflow}:${IMAGE_TAG:-dev} (the tags deploy/env/kind.yaml's
# charts expect), built into the engine of scripts/docker-engine.sh.
#
#   scripts/images/stockwatch.sh [pipeline|operator|dbt|airflow ...]   # default: all four; prints each image ref
#   scripts/images/stockwatch.sh python-base                           # only the offline Python base (its ref)
#
# Bases: the Dockerfiles' defaults (python:3.11.x-slim-bookworm, apache/airflow:3.3.2-python3.11) when the engine
# has them or can pull them. Otherwise (or with STOCKWATCH_OFFLINE_IMAGES=1) they are built here:
# localhost/offline/python:3.11-bookworm from Debian's python3 (mmdebstrap), and the Airflow stand-in of
# scripts/images/airflow.sh. The build stages then start from localhost/offline/python-build:3.11-bookworm, the
# same base trusting this machine's CA bundle (pip and uv reach PyPI through a TLS-inspecting egress here); the
# runtime images keep Debian's trust store. Builds reach PyPI with `--network host` (the engine has no NAT).
# Reruns are BuildKit cache hits (seconds).
source "$(dirname "$0")/lib.sh"

IMAGE_TAG="${IMAGE_TAG:-dev}"
OFFLINE="${STOCKWATCH_OFFLINE_IMAGES:-auto}"
PY_BASE="$OFFLINE_PREFIX/python:3.11-bookworm"
PY_BUILD="$OFFLINE_PREFIX/python-build:3.11-bookworm"
# What the Dockerfiles use (python, venv, pip, groupadd/useradd), TLS roots, and tini as an init for PID 1.
PY_PACKAGES="python3,python3-venv,python3-pip,python-is-python3,passwd,ca-certificates,tini"
HOST_CA="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"

# dockerfile_arg FILE NAME: the default of `ARG NAME=...` in FILE (the official base, kept in one place).
dockerfile_arg() { sed -n "s/^ARG $2=//p" "$1" | head -1; }

# usable IMAGE: the engine has IMAGE or can pull it (no registry answers here: that fails within the timeout).
usable() {
  [ "$OFFLINE" != 1 ] || return 1
  has_image "$1" && return 0
  [ "$OFFLINE" = auto ] && timeout "${STOCKWATCH_PULL_TIMEOUT:-120}" docker pull -q "$1" >/dev/null 2>&1
}

# bk_build LOG ARGS...: a BuildKit `docker build` (RUN --mount needs it) with the engine's built-in Dockerfile
# frontend: the CLI's buildx plugin, or the built-in BuildKit client of a 20.10 CLI (Debian's docker.io,
# /usr/bin/docker). Its output goes to LOG (the tail on stderr when it fails).
bk_build() {
  local cli log="$1"
  shift
  for cli in docker /usr/bin/docker; do
    command -v "$cli" >/dev/null 2>&1 || continue
    if "$cli" buildx version >/dev/null 2>&1 \
      || [ "$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" -le 20 ] 2>/dev/null; then
      mkdir -p "$(dirname "$log")"
      DOCKER_BUILDKIT=1 "$cli" build --progress plain "$@" >"$log" 2>&1 && return 0
      tail -n 30 "$log" >&2
      return 1
    fi
  done
  die "a BuildKit docker build is needed (RUN --mount): install the docker buildx plugin (https://docs.docker.com/go/buildx/)"
}

# The offline Python base and its build-stage twin; prints both refs.
python_base() {
  local ctx="$CACHE/images/python-build"
  # --format=tar (also in airflow.sh): explicit tar output; redundant since lib.sh names its partial file .tar.
  build_image "$PY_BASE" "$ROOT/images/offline/python" \
    --build-arg "ROOTFS=$(rootfs python "$PY_PACKAGES" --format=tar)"
  [ -f "$HOST_CA" ] || die "no CA bundle at $HOST_CA (set SSL_CERT_FILE to this machine's bundle)"
  mkdir -p "$ctx"
  cp "$ROOT/images/offline/python/build/Dockerfile" "$HOST_CA" "$ctx/"
  [ "$(basename "$HOST_CA")" = ca-certificates.crt ] || mv "$ctx/$(basename "$HOST_CA")" "$ctx/ca-certificates.crt"
  build_image "$PY_BUILD" "$ctx" --build-arg "PYTHON_IMAGE=$PY_BASE"
  printf '%s\n' "$PY_BASE" "$PY_BUILD"
}

if [ "${1:-}" = python-base ]; then
  python_base
  exit 0
fi

images=("$@")
[ ${#images[@]} -gt 0 ] || images=(pipeline operator dbt airflow)
py_args=()
py_official="$(dockerfile_arg "$ROOT/images/pipeline/Dockerfile" PYTHON_IMAGE)"
for image in "${images[@]}"; do
  [ -f "$ROOT/images/$image/Dockerfile" ] || die "no image $image (images/$image/Dockerfile)"
  if [ "$image" != airflow ] && [ ${#py_args[@]} = 0 ]; then
    if usable "$py_official"; then
      py_args=(--build-arg "PYTHON_IMAGE=$py_official")
    else
      log "$py_official cannot be pulled: building on $PY_BASE"
      python_base >/dev/null
      py_args=(--build-arg "PYTHON_IMAGE=$PY_BASE" --build-arg "BUILD_IMAGE=$PY_BUILD")
    fi
  fi
done

cd "$ROOT"
for image in "${images[@]}"; do
  ref="stockwatch/$image:$IMAGE_TAG"
  args=("${py_args[@]}")
  if [ "$image" = airflow ]; then
    airflow_official="apache/airflow:$(dockerfile_arg images/airflow/Dockerfile AIRFLOW_VERSION)-python$(
      dockerfile_arg images/airflow/Dockerfile PYTHON_VERSION)"
    if usable "$airflow_official"; then
      args=()
    else
      log "$airflow_official cannot be pulled: building on the offline stand-in (scripts/images/airflow.sh)"
      args=(--build-arg "AIRFLOW_BASE=$(bash "$ROOT/scripts/images/airflow.sh" base)")
    fi
    # pip's trust for PyPI: this machine's CA bundle, as a build secret (not left in the image).
    args+=(--secret "id=ca-certificates,src=$HOST_CA")
  fi
  log "docker build $ref"
  start=$SECONDS
  bk_build "$CACHE/logs/image-$image.log" --network host -f "images/$image/Dockerfile" -t "$ref" "${args[@]}" . \
    || die "docker build of $ref failed (log: $CACHE/logs/image-$image.log)"
  log "$ref built in $((SECONDS - start)) s"
  echo "$ref"
done
