#!/usr/bin/env bash
# The base image made from Debian's own packages, for machines that cannot reach a public
# container registry: `debootstrap --variant=minbase bookworm` from the mirror the host's apt uses,
# then `docker import`. The root filesystem tarball is cached, so a rerun only imports it (or does
# nothing when the image exists).
#
# Usage: scripts/base-image.sh [IMAGE]   (default local/debian:bookworm; needs the engine of
#        scripts/docker-local.sh, or DOCKER_HOST)
# Environment: S1FLOOD_DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
# shellcheck source=scripts/docker-common.sh
. "$(dirname "$0")/docker-common.sh"

IMAGE="${1:-local/debian:bookworm}"
SUITE=bookworm
CACHE="$S1FLOOD_INFRA/cache/debian-$SUITE-minbase.tar"
export DOCKER_HOST="${DOCKER_HOST:-unix://$S1FLOOD_DOCKER_SOCK}"

if "$DOCKER_CLI" image inspect "$IMAGE" >/dev/null 2>&1; then
    say "$IMAGE exists"
    exit 0
fi
if [ ! -s "$CACHE" ]; then
    need_root
    apt_install debootstrap
    mirror="${S1FLOOD_DEBIAN_MIRROR:-$(debian_mirror)}"
    rootfs="$(mktemp -d "$S1FLOOD_INFRA/rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    say "debootstrap --variant=minbase $SUITE from $mirror"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$S1FLOOD_LOG/debootstrap.log" 2>&1 ||
        die_apt "debootstrap failed (see $S1FLOOD_LOG/debootstrap.log)"
    # Only the suite itself: no host file (resolv.conf, hostname) stays in the image.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
    : >"$rootfs/etc/resolv.conf"
    mkdir -p "$(dirname "$CACHE")"
    tar -C "$rootfs" --numeric-owner -cf "$CACHE.tmp" .
    mv "$CACHE.tmp" "$CACHE"
fi
"$DOCKER_CLI" import --change 'CMD ["/bin/bash"]' "$CACHE" "$IMAGE" >/dev/null
say "imported $IMAGE from $CACHE"
