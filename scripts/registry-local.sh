#!/usr/bin/env bash
# A container registry on 127.0.0.1 (Debian's docker-registry, distribution 2.8), started by hand,
# so images can be pushed, pinned by @sha256: digest and pulled as an ADES pulls them.
#
# Usage: scripts/registry-local.sh start|stop|status|address
#   start    install docker-registry when missing, serve on 127.0.0.1:$S1FLOOD_REGISTRY_PORT
#            (default 5000; no authentication, loopback only), print the address
#   stop     stop it by the PID recorded at start
#   address  print HOST:PORT
# Storage: $S1FLOOD_INFRA/registry (kept between runs).
set -euo pipefail
# shellcheck source=scripts/docker-common.sh
. "$(dirname "$0")/docker-common.sh"

PORT="${S1FLOOD_REGISTRY_PORT:-5000}"
ADDRESS="127.0.0.1:$PORT"
PIDFILE="$S1FLOOD_RUN/docker-registry.pid"
CONFIG="$S1FLOOD_INFRA/registry.yml"

answers() {
    curl -fsS --noproxy '*' -o /dev/null "http://$ADDRESS/v2/" 2>/dev/null
}

start() {
    need_root
    apt_install docker-registry curl
    if pid_alive "$PIDFILE" && answers; then
        echo "$ADDRESS"
        return 0
    fi
    answers && die "something else already serves $ADDRESS (set S1FLOOD_REGISTRY_PORT)"
    mkdir -p "$S1FLOOD_INFRA/registry"
    cat >"$CONFIG" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $S1FLOOD_INFRA/registry
  delete:
    enabled: true
http:
  addr: $ADDRESS
YAML
    setsid /usr/bin/docker-registry serve "$CONFIG" </dev/null >"$S1FLOOD_LOG/registry.log" 2>&1 &
    echo $! >"$PIDFILE"
    local i
    for i in $(seq 1 100); do
        answers && break
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || die "docker-registry exited at start: $(tail -n 1 "$S1FLOOD_LOG/registry.log")"
        sleep 0.1
    done
    answers || die "the registry did not answer on $ADDRESS in 10 s (see $S1FLOOD_LOG/registry.log)"
    say "registry running on $ADDRESS (pid $(cat "$PIDFILE"))"
    echo "$ADDRESS"
}

case "${1:-}" in
start) start ;;
stop) stop_pid "$PIDFILE" docker-registry ;;
status) pid_alive "$PIDFILE" && answers ;;
address) echo "$ADDRESS" ;;
*) die "usage: $0 start|stop|status|address" ;;
esac
