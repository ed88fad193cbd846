#!/usr/bin/env bash
# Install the single-machine hub's pieces (`make hub`, tests/test_hub.py, benchmarks/class_load.py):
# JupyterHub, jupyterhub-idle-culler and nbgitpuller from hub/requirements.txt into the venv (the
# learners' environment too), and configurable-http-proxy from npm into $VENV/hub-node.
# Idempotent: a second run checks the versions and installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
CHP_VERSION=5.3.0
CHP="$VENV/hub-node/node_modules/.bin/configurable-http-proxy"

[[ -x "$VENV/bin/python" ]] || { echo "no $VENV: run \`make install\` first" >&2; exit 1; }

# every name==version line of hub/requirements.txt installed at that version?
if ! "$VENV/bin/python" - <<'PY'
import re, sys
from importlib.metadata import PackageNotFoundError, version
for line in open("hub/requirements.txt"):
    if match := re.fullmatch(r"([\w.-]+)==(\S+)", line.strip()):
        try:
            assert version(match[1]) == match[2]
        except (PackageNotFoundError, AssertionError):
            sys.exit(1)
PY
then
    "$VENV/bin/python" -m pip install -q -r hub/requirements.txt
fi

if ! command -v npm >/dev/null; then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nodejs npm
fi
if [[ "$("$CHP" --version 2>/dev/null)" != "$CHP_VERSION" ]]; then
    npm install --silent --no-fund --no-audit --prefix "$VENV/hub-node" \
        "configurable-http-proxy@$CHP_VERSION"
fi
echo "hub installed: jupyterhub $("$VENV/bin/jupyterhub" --version), configurable-http-proxy $("$CHP" --version)"
