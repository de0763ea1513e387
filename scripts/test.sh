#!/usr/bin/env bash
# The one test entry point (README, .ci/run): installs what is missing, builds once, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need (none are assumed to be preinstalled).
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
# iptables: the e2e partition scenario cuts nodes apart inside its private network namespace.
command -v iptables >/dev/null 2>&1 || need+=(iptables)
# openssl: the e2e turn_tls scenario makes its test certificate with it.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# ffmpeg: ffprobe and ffmpeg read and decode the recordings (e2e `recording`, the WebM writer's and depacketizers' tests).
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
# usrsctp: the SCTP interop oracle of the tests (never used by the server).
dpkg -s libusrsctp2 >/dev/null 2>&1 || need+=(libusrsctp2)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi
# Debian chromium and the npm packages of the end-to-end tests and the demo page (idempotent).
tests/e2e/install.sh

dotnet build Hibari.slnx -c Release -nologo -v quiet
# ffmpeg is installed above: the tests that read recordings with ffprobe/ffmpeg must run, not pass unchecked.
export HIBARI_REQUIRE_FFMPEG=1
# Multi-process tests start the server from its Release output.
export HIBARI_SERVER_DLL="$PWD/src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll"
log=$(mktemp)
e2e_log=$(mktemp)
trap 'rm -f "$log" "$e2e_log" "${debug_log:-}"' EXIT
set +e
dotnet test tests/Hibari.Tests/Hibari.Tests.csproj -c Release --no-build -nologo \
  --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# End-to-end: headless Debian Chromium + sora-js-sdk against real nodes (tests/e2e/README.md), and the harness's
# own self-tests against its stub node.
# The SFU's in-process tests again in a Debug build, where the owner checks (docs/threads.md) are compiled in and each
# test's node fails its dispose if any state was touched off its owner's thread.
debug_log=$(mktemp)
dotnet build tests/Hibari.Tests/Hibari.Tests.csproj -c Debug -nologo -v quiet && \
  dotnet test tests/Hibari.Tests/Hibari.Tests.csproj -c Debug --no-build -nologo \
    --filter "FullyQualifiedName~Hibari.Tests.Sfu|FullyQualifiedName~Hibari.Tests.Cluster.Relay|FullyQualifiedName~Hibari.Tests.Recording.RecordingServiceTests" 2>&1 | tee "$debug_log"
debug_status=${PIPESTATUS[0]}
[ "$debug_status" -ne 0 ] && status=1
# The release artefact (scripts/package.sh, docs/decisions.md D-49), built once: the e2e scenario published_binary
# starts its self-contained bin/Hibari.Server. If packaging fails, that scenario fails on the missing artefact.
published=$(scripts/package.sh) || echo "scripts/package.sh failed" >&2
export HIBARI_PUBLISHED_DIR="${published:-$PWD/dist/package-failed}"
node tests/e2e/run.mjs --selftest 2>&1 | tee "$e2e_log"; e2e_self=${PIPESTATUS[0]}
node tests/e2e/run.mjs 2>&1 | tee -a "$e2e_log"; e2e_sfu=${PIPESTATUS[0]}
set -e
if [ "$e2e_self" -ne 0 ] || [ "$e2e_sfu" -ne 0 ]; then status=1; fi
# One plain closing line: "N passed, N failed" (xunit + e2e).
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
debug_passed=$(grep -oE 'Passed: +[0-9]+' "$debug_log" | tail -1 | grep -oE '[0-9]+' || echo 0)
debug_failed=$(grep -oE 'Failed: +[0-9]+' "$debug_log" | tail -1 | grep -oE '[0-9]+' || echo 0)
[ "$debug_status" -ne 0 ] && [ "$debug_failed" -eq 0 ] && debug_failed=1 # the Debug build itself failed
read -r e2e_passed e2e_failed < <(awk '/^e2e: [0-9]+ passed, [0-9]+ failed$/ {p += $2; f += $4} END {print p + 0, f + 0}' "$e2e_log")
echo "$((passed + debug_passed + e2e_passed)) passed, $((failed + debug_failed + e2e_failed)) failed"
exit "$status"
