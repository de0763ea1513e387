#!/usr/bin/env bash
# Messaging through one node (issue 5): two load-tool clients (A sends on #load, B receives; their own SCTP + DCEP)
# for each message size as fast as possible, then paced runs for latency; then two Chromium clients (sora-js-sdk) with
# the e2e harness's bench_messaging scenario. Prints one JSON line per run.
#   bench/messaging.sh                    # sizes 100 1000 10000, rates 1000 10000, 10 s each
#   SIZES="1000" RATES="" BROWSER=0 bench/messaging.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100 1000 10000"}
RATES=${RATES:-"1000 10000"}
DURATION=${DURATION:-10}
BROWSER=${BROWSER:-1}
source bench/lib.sh
bench_init
start_node node 127.0.0.1 39110 39111 39112 --set data_channel_messaging=true
pid=${BENCH_PIDS[0]}
wait_api 127.0.0.1 39110
load() { dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39111/signaling --duration "$DURATION" \
  --warmup 2 --server-pid "$pid" "$@" | tail -1; }
stamp "nproc $(nproc)"
for size in $SIZES; do load --messaging "$size"; done
for rate in $RATES; do load --messaging 1000 --rate "$rate"; done
curl -s -X POST -H 'x-sora-target: Sora_20171010.GetStatsReport' http://127.0.0.1:39110/ \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print("# node:", {k: v for k, v in d.items() if "message" in k})'
if [ "$BROWSER" = 1 ]; then node tests/e2e/run.mjs --only bench_messaging --timeout-ms 60000 --watchdog-ms 600000 | grep -E '^\s+\{|PASS|FAIL'; fi
stamp
