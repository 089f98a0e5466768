#!/usr/bin/env bash
# A Docker engine for kind and the image builds. Prints the DOCKER_HOST to use.
#
#   scripts/docker-engine.sh          # ensure an engine answers; print its DOCKER_HOST
#   scripts/docker-engine.sh stop     # stop the engine this script started (if any)
#
# An engine that already answers (Docker Desktop, a system dockerd, DOCKER_HOST) is used as it is, unless this
# machine needs the runtime wrapper below and that engine lacks it. Otherwise, as root, this starts a dockerd of its
# own (Debian's docker.io, installed with apt when missing) on unix:///run/stockwatch-docker/docker.sock, with its
# data root in $STOCKWATCH_CACHE/docker (images survive reruns) and a bridge of its own. That dockerd:
# - runs containers with `runc-nosysres` (scripts/kind/node/runc-nosysres): where the capability bounding set lacks
#   CAP_SYS_RESOURCE (some VMs and sandboxes), docker's --privileged, which kind's nodes need, otherwise fails;
# - sets up no iptables NAT (--iptables=false --ip-masq=false): containers reach this machine and each other, not
#   the outside. Image builds that fetch packages run with `--network host`.
source "$(dirname "$0")/lib.sh"

SOCK_DIR=/run/stockwatch-docker
OWN_HOST="unix://$SOCK_DIR/docker.sock"
DATA_ROOT="${STOCKWATCH_DOCKER_ROOT:-$CACHE/docker}"
BRIDGE=swdocker0
BRIDGE_CIDR=172.31.251.1/24
LOG="$CACHE/logs/dockerd.log"

log() { echo ">> $*" >&2; }

# CAP_SYS_RESOURCE is bit 24 of the bounding set.
lacks_sys_resource() { (( (0x$(awk '/^CapBnd/ {print $2}' /proc/self/status) >> 24 & 1) == 0 )); }

answers() { DOCKER_HOST="$1" timeout 10 docker info >/dev/null 2>&1; }

usable() { # an engine at $1 that can run kind's privileged nodes here
  answers "$1" || return 1
  lacks_sys_resource || return 0
  DOCKER_HOST="$1" docker info --format '{{.DefaultRuntime}}' 2>/dev/null | grep -qx nosysres
}

start_own() {
  [ "$(id -u)" = 0 ] || die "no usable Docker engine answers, and starting one needs root. Start Docker (or set DOCKER_HOST) and retry."
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "no Docker engine and no apt-get to install one: install Docker (https://docs.docker.com/engine/install/)"
    log "installing Debian's docker.io (apt)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >&2 \
      || die "apt-get install docker.io failed"
  fi
  install -m 0755 "$ROOT/scripts/kind/node/runc-nosysres" /usr/local/sbin/runc-nosysres
  mkdir -p "$SOCK_DIR" "$DATA_ROOT" "$(dirname "$LOG")"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge && ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" && ip link set "$BRIDGE" up
  fi
  echo '{}' >"$SOCK_DIR/daemon.json" # not /etc/docker/daemon.json: this engine is configured by its flags alone
  log "starting dockerd ($OWN_HOST, data root $DATA_ROOT, log $LOG)"
  # setsid: the engine outlives this script (and make); `scripts/docker-engine.sh stop` ends it.
  setsid dockerd --host "$OWN_HOST" --data-root "$DATA_ROOT" --exec-root "$SOCK_DIR/exec" \
    --pidfile "$SOCK_DIR/dockerd.pid" --bridge "$BRIDGE" --iptables=false --ip-masq=false \
    --add-runtime nosysres=/usr/local/sbin/runc-nosysres --default-runtime nosysres \
    --config-file "$SOCK_DIR/daemon.json" </dev/null >>"$LOG" 2>&1 &
  local i
  for i in $(seq 60); do
    answers "$OWN_HOST" && return 0
    kill -0 $! 2>/dev/null || break
    sleep 1
  done
  tail -20 "$LOG" >&2
  die "dockerd did not answer on $OWN_HOST (log: $LOG)"
}

stop_own() {
  local pid
  [ -f "$SOCK_DIR/dockerd.pid" ] || return 0
  pid="$(cat "$SOCK_DIR/dockerd.pid")"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  die "dockerd ($pid) did not stop"
}

case "${1:-}" in
  stop) stop_own; exit 0 ;;
  "") ;;
  *) die "usage: scripts/docker-engine.sh [stop]" ;;
esac

current="${DOCKER_HOST:-unix:///var/run/docker.sock}"
if usable "$current"; then echo "$current"; exit 0; fi
if usable "$OWN_HOST"; then echo "$OWN_HOST"; exit 0; fi
exec 9>"$CACHE/.docker-engine.lock"
flock 9
usable "$OWN_HOST" || start_own
echo "$OWN_HOST"
