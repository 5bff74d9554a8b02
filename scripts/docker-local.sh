#!/usr/bin/env bash
# A Docker engine for this project, started by hand (no systemd) on its own socket.
#
# Usage: scripts/docker-local.sh start|stop|status|env
#   start   install Debian's docker.io when missing, start dockerd (overlay2, no bridge: builds use
#           --network host, containers started by cwltool have loopback only) and wait for it;
#           prints `export DOCKER_HOST=unix://SOCK`
#   stop    stop dockerd by the PID recorded at start
#   status  exit 0 when the engine answers
#   env     print `export DOCKER_HOST=...`
# State: $S1FLOOD_INFRA/docker (images, build cache: kept between runs), PID in $S1FLOOD_INFRA/run.
set -euo pipefail
# shellcheck source=scripts/docker-common.sh
. "$(dirname "$0")/docker-common.sh"

PIDFILE="$S1FLOOD_RUN/dockerd.pid"

engine_answers() {
    DOCKER_HOST="unix://$S1FLOOD_DOCKER_SOCK" "$DOCKER_CLI" version >/dev/null 2>&1
}

start() {
    need_root
    apt_install docker.io
    if pid_alive "$PIDFILE" && engine_answers; then
        echo "export DOCKER_HOST=unix://$S1FLOOD_DOCKER_SOCK"
        return 0
    fi
    rm -f "$S1FLOOD_DOCKER_SOCK"
    mkdir -p "$S1FLOOD_INFRA/docker" "$S1FLOOD_RUN/docker-exec"
    setsid /usr/sbin/dockerd \
        --storage-driver=overlay2 \
        --data-root "$S1FLOOD_INFRA/docker" \
        --exec-root "$S1FLOOD_RUN/docker-exec" \
        --pidfile "$S1FLOOD_RUN/dockerd.own.pid" \
        --bridge=none --iptables=false --ip-masq=false \
        -H "unix://$S1FLOOD_DOCKER_SOCK" \
        </dev/null >"$S1FLOOD_LOG/dockerd.log" 2>&1 &
    echo $! >"$PIDFILE"
    local i
    for i in $(seq 1 300); do
        engine_answers && break
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || die "dockerd exited at start: $(tail -n 1 "$S1FLOOD_LOG/dockerd.log")"
        sleep 0.1
    done
    engine_answers || die "dockerd did not answer in 30 s (see $S1FLOOD_LOG/dockerd.log)"
    say "dockerd running (pid $(cat "$PIDFILE"), socket $S1FLOOD_DOCKER_SOCK)"
    echo "export DOCKER_HOST=unix://$S1FLOOD_DOCKER_SOCK"
}

case "${1:-}" in
start) start ;;
stop) stop_pid "$PIDFILE" dockerd ;;
status) pid_alive "$PIDFILE" && engine_answers ;;
env) echo "export DOCKER_HOST=unix://$S1FLOOD_DOCKER_SOCK" ;;
*) die "usage: $0 start|stop|status|env" ;;
esac
