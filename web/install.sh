#!/usr/bin/env bash
# Installs the demo page's only dependency (sora-js-sdk, served as /sora.js) with `npm ci`,
# only when web/node_modules is missing or older than package-lock.json. Same as `npm ci --prefix web`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ] || [ "$here/package.json" -nt "$stamp" ]; then
  echo "web/install.sh: npm ci in $here" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
