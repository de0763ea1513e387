#!/usr/bin/env bash
# Load matrix of the SFU (issue 3): one node on 127.0.0.1 (fresh data dir, warning logs), then the load tool for each
# subscriber count, 1 publisher each run. Prints one JSON line per run (see tools/Hibari.Load/Program.cs).
#   bench/load-matrix.sh                 # N = 10 50 200 at 2500 kbit/s, 1000-byte packets, 15 s each
#   N="10 50" BITRATE=4000 bench/load-matrix.sh
#   NODE_CPUS=0 LOAD_CPUS=1 WORKERS=1 bench/load-matrix.sh   # node pinned to core 0, load tool to core 1
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-"10 50 200"}
BITRATE=${BITRATE:-2500}
DURATION=${DURATION:-15}
source bench/lib.sh
bench_init
start_node node 127.0.0.1 39100 39101 39102 --set license_max_connections=5000 ${WORKERS:+--set media_workers=$WORKERS}
pid=${BENCH_PIDS[0]}
wait_api 127.0.0.1 39100
stamp "nproc $(nproc)"
for n in $N; do
  ${LOAD_CPUS:+taskset -c "$LOAD_CPUS"} dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39101/signaling --subscribers "$n" \
    --bitrate "$BITRATE" --packet-size 1000 --duration "$DURATION" --server-pid "$pid" | tail -1
done
stamp
