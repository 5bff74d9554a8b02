#!/usr/bin/env bash
# A real browser for the notebooks' browser test: Debian's chromium and chromium-driver.
#
# Usage: scripts/chromium-local.sh install|paths
#   install  install Debian's chromium and chromium-driver with apt when missing (root), then
#            print the two paths as `CHROMIUM=...` and `CHROMEDRIVER=...` lines
#   paths    print them, exit 1 when either is missing (installs nothing)
# Exit codes: 1 not installed / not root, 3 Debian's archive cannot be reached (tests skip).
# No browser is downloaded from anywhere else: Debian's build is the one driven.
set -euo pipefail
# shellcheck source=scripts/docker-common.sh
. "$(dirname "$0")/docker-common.sh"

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

paths() {
    [ -x "$CHROMIUM" ] || die "no $CHROMIUM (scripts/chromium-local.sh install, as root)"
    [ -x "$CHROMEDRIVER" ] || die "no $CHROMEDRIVER (scripts/chromium-local.sh install, as root)"
    echo "CHROMIUM=$CHROMIUM"
    echo "CHROMEDRIVER=$CHROMEDRIVER"
}

case "${1:-}" in
install)
    apt_install chromium chromium-driver
    paths
    ;;
paths) paths ;;
*) die "usage: $0 install|paths" ;;
esac
