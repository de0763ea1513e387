#!/usr/bin/env bash
# Installs what the e2e tests need, idempotently:
#   - Debian `chromium` (apt-get), only when /usr/bin/chromium is missing;
#   - the npm packages of tests/e2e (`npm ci`), only when node_modules is missing or older than package-lock.json.
# Works as root; otherwise uses sudo for apt-get when it is available.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install.sh: /usr/bin/chromium is missing and we are not root (no sudo): install the Debian package 'chromium'" >&2
    exit 1
  fi
  echo "install.sh: installing Debian chromium (apt-get)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

# `npm ci` writes node_modules/.package-lock.json; it is stale when package-lock.json changed since.
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ] || [ "$here/package.json" -nt "$stamp" ]; then
  echo "install.sh: npm ci in $here" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The demo page's sora-js-sdk (web/node_modules), used by the demo_page scenarios.
if [ -x "$here/../../web/install.sh" ]; then "$here/../../web/install.sh"; fi
