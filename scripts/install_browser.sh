#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser), unless it is already there.
# Playwright's own browser download does not work here; the tests launch /usr/bin/chromium.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    echo "chromium is installed: $(/usr/bin/chromium --version 2>/dev/null)"
    exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
echo "chromium is installed: $(/usr/bin/chromium --version 2>/dev/null)"
