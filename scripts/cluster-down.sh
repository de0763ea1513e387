#!/usr/bin/env bash
# Stops the nodes started by scripts/cluster-up.sh (SIGTERM). Pass --wipe to delete their data_dirs too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=.hibari-cluster
for f in "$root"/*.pid; do [ -e "$f" ] || continue; kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; done
if [ "${1:-}" = "--wipe" ]; then rm -rf "$root"; fi
