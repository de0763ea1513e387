#!/usr/bin/env bash
# Soak (issue 11; not part of CI): one node on 127.0.0.1, 1 publisher → N subscribers at ~20k forwarded packets/s for
# SECONDS, one subscriber replaced every second; the node's RSS and thread count every 10 s (CSV), then a summary that
# says whether both stayed within ±10 % of their median after the first minute.
#   bench/soak.sh                        # 1800 s, N = 66 at 2500 kbit/s (≈ 300 packets/s × 66 ≈ 20k packets/s)
#   SECONDS_TOTAL=300 N=30 bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${SECONDS_TOTAL:-1800}
N=${N:-66}
BITRATE=${BITRATE:-2500}
source bench/lib.sh
bench_init
start_node node 127.0.0.1 39400 39401 39402 --set license_max_connections=5000 ${WORKERS:+--set media_workers=$WORKERS}
pid=${BENCH_PIDS[0]}
wait_api 127.0.0.1 39400
stamp "nproc $(nproc)"
dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39401/signaling --subscribers "$N" \
  --bitrate "$BITRATE" --packet-size 1000 --soak "$SECONDS_TOTAL" --server-pid "$pid"
stamp
