#!/usr/bin/env bash
# Runs one Hibari node with the defaults (no cluster) from the Release build. Extra arguments go to the server,
# e.g. --set listen_address=127.0.0.2 or --config hibari.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Hibari.Server/Hibari.Server.csproj -c Release -nologo -v quiet
exec dotnet src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll "$@"
