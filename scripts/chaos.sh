#!/usr/bin/env bash
# The long fault suite (issue 13; not CI): every crash and partition scenario of docs/reliability.md, REPEAT times in
# a row (default 5), to expose races a single run misses. Builds Release once; needs what scripts/test.sh installs
# (iptables, Chromium, the e2e npm packages: run scripts/test.sh once first on a fresh machine).
#   scripts/chaos.sh                 # every scenario 5 times
#   REPEAT=2 scripts/chaos.sh        # fewer rounds
#   ONLY=cluster_partition scripts/chaos.sh     # one e2e scenario (and no multi-process test)
# Prints one line per run and a summary; exits non-zero if any run failed. Logs of failed runs stay in $CHAOS_LOGS.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${REPEAT:-5}
CHAOS_LOGS=${CHAOS_LOGS:-$(mktemp -d -t hibari-chaos-XXXXXX)}
mkdir -p "$CHAOS_LOGS"
E2E=(cluster_partition cluster_partition_followers cluster_partition_oneway cluster_partition_temporary
     cluster_partition_flapping cluster_crash_publisher cluster_minority_disconnect)
# Multi-process tests with SIGKILL in them (xunit filter).
TESTS="FullyQualifiedName~ClusterCrashTests|FullyQualifiedName~Full_cluster_kill_and_restart|FullyQualifiedName~Init_register_kill_minority_restart|FullyQualifiedName~Temporary_node_removed_after_kill"
if [ -n "${ONLY:-}" ]; then E2E=("$ONLY"); TESTS=""; fi

dotnet build Hibari.slnx -c Release -nologo -v quiet >"$CHAOS_LOGS/build.log" 2>&1 || { cat "$CHAOS_LOGS/build.log"; exit 1; }
export HIBARI_SERVER_DLL="$PWD/src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll"

declare -A passed failed
run() { # name, command...
  local name=$1; shift
  local log="$CHAOS_LOGS/$name-$round.log" start=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed[$name]=$(( ${passed[$name]:-0} + 1 )); echo "round $round: $name passed in $((SECONDS - start)) s"; rm -f "$log"
  else
    failed[$name]=$(( ${failed[$name]:-0} + 1 )); echo "round $round: $name FAILED in $((SECONDS - start)) s (log: $log)"
  fi
}
for round in $(seq 1 "$REPEAT"); do
  [ -n "$TESTS" ] && run multi-process dotnet test tests/Hibari.Tests -c Release --no-build -nologo --filter "$TESTS"
  for s in "${E2E[@]}"; do run "$s" node tests/e2e/run.mjs --only "$s"; done
done

echo "== chaos summary ($REPEAT rounds) =="
status=0
for name in $( (for k in "${!passed[@]}" "${!failed[@]}"; do echo "$k"; done) | sort -u); do
  echo "  $name: ${passed[$name]:-0} passed, ${failed[$name]:-0} failed"
  [ "${failed[$name]:-0}" -eq 0 ] || status=1
done
exit "$status"
