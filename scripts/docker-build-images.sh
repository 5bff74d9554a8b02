#!/usr/bin/env bash
# Build the step images: PREFIX-base, then PREFIX-discover, PREFIX-classify, PREFIX-aggregate
# (and PREFIX-classify-snap when S1FLOOD_BUILD_SNAP=1), all tagged with the project's version,
# PREFIX being ghcr.io/s1flood/s1flood: the names the release workflow publishes and the CWL
# tools pull (s1flood.package_images.IMAGE_PREFIX), so cwltool finds them here without a pull.
#
# Usage: scripts/docker-build-images.sh [STEP...]   (default: all; needs a running engine:
#        scripts/docker-local.sh start, or DOCKER_HOST)
# Environment:
#   S1FLOOD_BASE_IMAGE    FROM of the base layer; default local/debian:bookworm, made here by
#                         scripts/base-image.sh; `default` keeps the Dockerfile's pinned Debian
#   S1FLOOD_IMAGE_PREFIX  image name prefix (default ghcr.io/s1flood/s1flood-)
#   S1FLOOD_BUILD_SNAP    1 to build classify-snap (needs ESA's SNAP download server)
#   S1FLOOD_PIP_CONF_EXTRA  a file appended to the pip settings secret (tests put a canary here)
# The host's CA bundle and pip index settings reach the builds only as BuildKit secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/docker-common.sh
. scripts/docker-common.sh

export DOCKER_HOST="${DOCKER_HOST:-unix://$S1FLOOD_DOCKER_SOCK}"
export DOCKER_BUILDKIT=1
PREFIX="${S1FLOOD_IMAGE_PREFIX:-ghcr.io/s1flood/s1flood-}"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/s1flood/_version.py)"
[ -n "$VERSION" ] || die "no __version__ in src/s1flood/_version.py"
BASE_FROM="${S1FLOOD_BASE_IMAGE:-local/debian:bookworm}"
"$DOCKER_CLI" version >/dev/null 2>&1 || die "no Docker engine at $DOCKER_HOST (run scripts/docker-local.sh start)"

secrets="$(mktemp -d)"
trap 'rm -rf "$secrets"' EXIT
chmod 700 "$secrets"
# CA bundle: the one pip on this host trusts.
ca="${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}"
[ -s "$ca" ] && cp "$ca" "$secrets/ca" || : >"$secrets/ca"
# pip settings: the host's index URLs (file:// ones stay on the host), trusted hosts, timeouts.
{
    echo "[global]"
    pip_cmd="$(command -v pip3 || command -v pip || true)"
    if [ -n "$pip_cmd" ]; then
        "$pip_cmd" config list 2>/dev/null |
            sed -n -E "s/^(global|install|:env:)\.(index-url|extra-index-url|trusted-host|timeout|default-timeout|retries)='(.*)'$/\2 = \3/p" |
            sed -E 's#(^| )file://[^ ]*##g' | awk -F' = ' '$2 != ""' | sed 's/^default-timeout/timeout/' |
            awk -F' = ' '!seen[$1]++'
    fi
    if [ -n "${S1FLOOD_PIP_CONF_EXTRA:-}" ]; then cat "$S1FLOOD_PIP_CONF_EXTRA"; fi
} >"$secrets/pipconf"

build() { # build NAME DOCKERFILE [BUILD-ARG...]
    local name="$1" file="$2" start
    shift 2
    local args=()
    for a in "$@"; do args+=(--build-arg "$a"); done
    start=$(date +%s)
    "$DOCKER_CLI" build --network host --progress plain -q \
        --secret "id=ca,src=$secrets/ca" --secret "id=pipconf,src=$secrets/pipconf" \
        -f "$file" -t "$PREFIX$name:$VERSION" "${args[@]}" . >"$S1FLOOD_LOG/build-$name.log" 2>&1 ||
        die "building $PREFIX$name:$VERSION failed: $(grep -v '^\s*$' "$S1FLOOD_LOG/build-$name.log" | tail -n 1) (log: $S1FLOOD_LOG/build-$name.log)"
    say "built $PREFIX$name:$VERSION in $(($(date +%s) - start)) s"
}

steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=(discover classify aggregate classify-snap)

if [ "$BASE_FROM" = "local/debian:bookworm" ]; then
    scripts/base-image.sh "$BASE_FROM"
fi
base_args=()
[ "$BASE_FROM" = default ] || base_args=("BASE_IMAGE=$BASE_FROM")
build base docker/base.Dockerfile "${base_args[@]}"
for step in "${steps[@]}"; do
    case "$step" in
    discover) nb=notebooks/01-discover.ipynb ;;
    classify | classify-snap) nb=notebooks/02-classify.ipynb ;;
    aggregate) nb=notebooks/03-aggregate.ipynb ;;
    *) die "unknown step $step (discover, classify, aggregate, classify-snap)" ;;
    esac
    [ -f "$nb" ] || die "$nb not found: the $step image bakes it in"
    if [ "$step" = classify-snap ]; then
        if [ "${S1FLOOD_BUILD_SNAP:-0}" != 1 ]; then
            say "skipped ${PREFIX}classify-snap:$VERSION: SNAP's installer comes only from ESA's download server, unreachable here (set S1FLOOD_BUILD_SNAP=1 where it is reachable)"
            continue
        fi
        build classify "docker/classify.Dockerfile" "S1FLOOD_BASE=${PREFIX}base:$VERSION"
        build classify-snap docker/classify-snap.Dockerfile "S1FLOOD_CLASSIFY=${PREFIX}classify:$VERSION"
    else
        build "$step" "docker/$step.Dockerfile" "S1FLOOD_BASE=${PREFIX}base:$VERSION"
    fi
done
# Earlier builds of the same tags leave untagged images behind: drop them (the build cache stays).
"$DOCKER_CLI" image prune -f >/dev/null 2>&1 || true
"$DOCKER_CLI" builder prune -f --keep-storage 4GB >/dev/null 2>&1 || true
