#!/usr/bin/env bash
# Install what the browser tests (tests/browser) need, unless it is already there: Debian's
# Chromium (Playwright's own browser download does not work here; the tests launch
# /usr/bin/chromium) and axe-core, the accessibility checker, from npm at the version
# tests/browser/axe/package-lock.json pins.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
packages=()
[[ -x /usr/bin/chromium ]] || packages+=(chromium)
command -v npm >/dev/null || packages+=(nodejs npm)
if (( ${#packages[@]} )); then
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${packages[@]}"
fi
echo "chromium is installed: $(/usr/bin/chromium --version 2>/dev/null)"

axe=tests/browser/axe
if [[ ! -f $axe/node_modules/axe-core/axe.min.js ]]; then
    npm ci --prefix "$axe" --no-audit --no-fund
fi
echo "axe-core is installed: $(node -p "require('./$axe/node_modules/axe-core/package.json').version")"
