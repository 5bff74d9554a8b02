# shellcheck shell=bash
# Shared helpers for the local-infrastructure scripts (sourced, never run).
#
# Everything a script starts lives under one state directory ($S1FLOOD_INFRA, default
# /var/lib/s1flood-infra): data, logs, PID files and caches. Daemons are started by hand (no
# systemd) and stopped by the PID recorded when they started.
#
# Environment:
#   S1FLOOD_INFRA        state directory (default /var/lib/s1flood-infra)
#   S1FLOOD_DOCKER_SOCK  socket of the project's own dockerd (default /run/s1flood-docker.sock)

set -euo pipefail

S1FLOOD_INFRA="${S1FLOOD_INFRA:-/var/lib/s1flood-infra}"
S1FLOOD_DOCKER_SOCK="${S1FLOOD_DOCKER_SOCK:-/run/s1flood-docker.sock}"
S1FLOOD_RUN="$S1FLOOD_INFRA/run"
S1FLOOD_LOG="$S1FLOOD_INFRA/log"
# The engine's own client: a newer `docker` on PATH may lack the classic builder.
DOCKER_CLI="${DOCKER_CLI:-/usr/bin/docker}"

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# Exit code 3: Debian's archive cannot be reached (tests skip on it rather than fail).
APT_UNREACHABLE=3
die_apt() {
    echo "$(basename "$0"): $*" >&2
    exit "$APT_UNREACHABLE"
}

say() {
    echo "$(basename "$0"): $*" >&2
}

need_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages and starts daemons)"
}

# apt_install PKG... : install the Debian packages that are not installed yet.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    [ "${#missing[@]}" = 0 ] && return 0
    need_root
    say "installing ${missing[*]}"
    # An apt list older than a day (or none) is refreshed once.
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
        apt-get update -q >"$S1FLOOD_LOG/apt-update.log" 2>&1 ||
            die_apt "apt-get update failed (see $S1FLOOD_LOG/apt-update.log)"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >"$S1FLOOD_LOG/apt-install.log" 2>&1 ||
        die_apt "apt-get install ${missing[*]} failed (see $S1FLOOD_LOG/apt-install.log)"
}

# pid_alive FILE : true when FILE names a running process, and it is still the program the
# file is named after (dockerd.pid -> dockerd), not another one that reused the PID.
pid_alive() {
    local pid comm
    [ -s "$1" ] || return 1
    pid="$(cat "$1")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    [ "$comm" = "$(basename "$1" .pid)" ] || [ "$comm" = "$(basename "$1" .pid | cut -c1-15)" ]
}

# stop_pid FILE NAME : stop the process whose PID FILE records (TERM, then KILL after 20 s).
stop_pid() {
    local file="$1" name="$2" pid i
    if ! pid_alive "$file"; then
        rm -f "$file"
        return 0
    fi
    pid="$(cat "$file")"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) did not stop in 20 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
    say "stopped $name (pid $pid)"
}

# debian_mirror : the Debian mirror the host's apt uses (deb822 or one-line sources).
debian_mirror() {
    local uri
    uri="$(grep -hs -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)"
    if [ -z "$uri" ]; then
        uri="$(grep -hs -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '{for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' |
            grep -v -- '-security' | head -n 1 || true)"
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

mkdir -p "$S1FLOOD_RUN" "$S1FLOOD_LOG" 2>/dev/null || true
