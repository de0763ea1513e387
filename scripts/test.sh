#!/usr/bin/env bash
# The one test entry point (README, .ci/run): installs what is missing, builds once, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need (none are assumed to be preinstalled).
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

dotnet build Hibari.slnx -c Release -nologo -v quiet
# Multi-process tests start the server from its Release output (HIBARI_SERVER_DLL).
export HIBARI_SERVER_DLL="$PWD/src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll"
dotnet test tests/Hibari.Tests/Hibari.Tests.csproj -c Release --no-build -nologo \
  --logger "console;verbosity=normal" "$@"
