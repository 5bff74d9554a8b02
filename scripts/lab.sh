#!/usr/bin/env bash
# JupyterLab on the notebooks, on 127.0.0.1 with a token, no browser opened (`make lab`).
#
# Usage: scripts/lab.sh [NOTEBOOK_DIR] [EXTRA JUPYTER OPTIONS...]
#   NOTEBOOK_DIR  folder JupyterLab serves (default notebooks/); the notebooks' defaults read
#                 ../demo-data and write ../demo-output beside it
# Environment:
#   VENV          the project's venv (default .venv): its jupyter and its `s1flood` kernel
#   LAB_PORT      port on 127.0.0.1 (default 8888)
#   LAB_TOKEN     the token (default: a new random one, printed with the URL)
# A notebook opens on the `s1flood` kernel its metadata names (`make install` registers it), so
# JupyterLab asks for no kernel. Stop it with Ctrl-C (or by the PID it runs as).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
DIR="${1:-notebooks}"
[ "$#" -gt 0 ] && shift
[ -x "$VENV/bin/jupyter-lab" ] || {
    echo "lab.sh: no $VENV/bin/jupyter-lab: make install (its browser extra brings JupyterLab)" >&2
    exit 1
}
TOKEN="${LAB_TOKEN:-$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')}"
ROOT_FLAG=()
[ "$(id -u)" = 0 ] && ROOT_FLAG=(--allow-root)

echo "lab.sh: JupyterLab on $DIR: http://127.0.0.1:${LAB_PORT:-8888}/lab?token=$TOKEN" >&2
exec "$VENV/bin/jupyter-lab" \
    --no-browser \
    --ServerApp.ip=127.0.0.1 \
    --ServerApp.port="${LAB_PORT:-8888}" \
    --ServerApp.port_retries=0 \
    --IdentityProvider.token="$TOKEN" \
    --ServerApp.root_dir="$DIR" \
    --MappingKernelManager.default_kernel_name=s1flood \
    "${ROOT_FLAG[@]}" "$@"
