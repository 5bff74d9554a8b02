#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm + munge), started by hand.
#
# Usage: scripts/slurm-local.sh start|stop|status|jobcomp
#   start    install slurm-wlm and munge when missing, write slurm.conf, start munged (unless one
#            answers already), slurmctld and `slurmd -N localhost`, wait until the node is idle
#   stop     stop slurmd, slurmctld and the munged this script started, by their recorded PIDs
#   jobcomp  print the path of the job completion log (one line per finished job)
# The configuration is written to $S1FLOOD_INFRA/slurm/slurm.conf and, unless another one is
# there, to /etc/slurm/slurm.conf, so sbatch/squeue (and Toil) find it without SLURM_CONF.
set -euo pipefail
# shellcheck source=scripts/docker-common.sh
. "$(dirname "$0")/docker-common.sh"

DIR="$S1FLOOD_INFRA/slurm"
CONF="$DIR/slurm.conf"
JOBCOMP="$DIR/jobcomp.log"
MARK="# written by s1flood scripts/slurm-local.sh"

munge_answers() {
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

node_idle() {
    SLURM_CONF="$CONF" sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}

write_conf() {
    local cpus mem
    cpus="$(nproc)"
    mem="$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)"
    mkdir -p "$DIR/state" "$DIR/spool"
    cat >"$CONF" <<CONF
$MARK
ClusterName=local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.own.pid
SlurmdPidFile=$DIR/slurmd.own.pid
SlurmctldLogFile=$S1FLOOD_LOG/slurmctld.log
SlurmdLogFile=$S1FLOOD_LOG/slurmd.log
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    mkdir -p /etc/slurm
    if [ ! -e /etc/slurm/slurm.conf ] || grep -qF "$MARK" /etc/slurm/slurm.conf; then
        cp "$CONF" /etc/slurm/slurm.conf
    else
        say "/etc/slurm/slurm.conf is not ours: clients need SLURM_CONF=$CONF"
    fi
}

start() {
    need_root
    apt_install slurm-wlm munge
    write_conf
    if ! munge_answers; then
        [ -s /etc/munge/munge.key ] || {
            if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key; else
                dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
            chown munge:munge /etc/munge/munge.key
            chmod 400 /etc/munge/munge.key
        }
        mkdir -p /run/munge /var/log/munge /var/lib/munge
        chown munge:munge /run/munge /var/log/munge /var/lib/munge
        runuser -u munge -- /usr/sbin/munged
        local i
        for i in $(seq 1 50); do
            munge_answers && break
            sleep 0.1
        done
        munge_answers || die "munged did not answer"
        cp /run/munge/munged.pid "$S1FLOOD_RUN/munged.pid"
    fi
    if ! pid_alive "$S1FLOOD_RUN/slurmctld.pid"; then
        setsid /usr/sbin/slurmctld -D -f "$CONF" </dev/null >>"$S1FLOOD_LOG/slurmctld.out" 2>&1 &
        echo $! >"$S1FLOOD_RUN/slurmctld.pid"
    fi
    if ! pid_alive "$S1FLOOD_RUN/slurmd.pid"; then
        setsid /usr/sbin/slurmd -D -N localhost -f "$CONF" </dev/null >>"$S1FLOOD_LOG/slurmd.out" 2>&1 &
        echo $! >"$S1FLOOD_RUN/slurmd.pid"
    fi
    local i
    for i in $(seq 1 300); do
        node_idle && break
        kill -0 "$(cat "$S1FLOOD_RUN/slurmctld.pid")" 2>/dev/null || die "slurmctld exited: $(tail -n 1 "$S1FLOOD_LOG/slurmctld.log" 2>/dev/null)"
        kill -0 "$(cat "$S1FLOOD_RUN/slurmd.pid")" 2>/dev/null || die "slurmd exited: $(tail -n 1 "$S1FLOOD_LOG/slurmd.log" 2>/dev/null)"
        sleep 0.1
    done
    node_idle || die "the node did not become idle in 30 s (see $S1FLOOD_LOG/slurmctld.log)"
    say "slurm running: slurmctld pid $(cat "$S1FLOOD_RUN/slurmctld.pid"), slurmd pid $(cat "$S1FLOOD_RUN/slurmd.pid"); job completion log $JOBCOMP"
}

stop() {
    stop_pid "$S1FLOOD_RUN/slurmd.pid" slurmd
    stop_pid "$S1FLOOD_RUN/slurmctld.pid" slurmctld
    stop_pid "$S1FLOOD_RUN/munged.pid" munged
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) pid_alive "$S1FLOOD_RUN/slurmctld.pid" && node_idle ;;
jobcomp) echo "$JOBCOMP" ;;
*) die "usage: $0 start|stop|status|jobcomp" ;;
esac
