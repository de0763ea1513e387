#!/usr/bin/env bash
# The one test entry point (README, .ci/run): installs what is missing, builds once, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need (none are assumed to be preinstalled).
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

dotnet build Hibari.slnx -c Release -nologo -v quiet
# Multi-process tests start the server from its Release output.
export HIBARI_SERVER_DLL="$PWD/src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test tests/Hibari.Tests/Hibari.Tests.csproj -c Release --no-build -nologo \
  --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line: "N passed, N failed".
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "${passed} passed, ${failed} failed"
exit "$status"
