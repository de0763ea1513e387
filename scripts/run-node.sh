#!/usr/bin/env bash
# Runs one Hibari node with the defaults (no cluster) from the Release build, with the demo page on
# http://127.0.0.1:5000/. Extra arguments go to the server,
# e.g. --set listen_address=127.0.0.2 or --config hibari.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
# The demo page (http://127.0.0.1:5000/) serves sora-js-sdk from web/node_modules: install it once.
if command -v npm >/dev/null 2>&1; then web/install.sh; else echo "run-node.sh: npm not found, the demo page will lack sora.js" >&2; fi
dotnet build src/Hibari.Server/Hibari.Server.csproj -c Release -nologo -v quiet
exec dotnet src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll "$@"
