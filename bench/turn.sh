#!/usr/bin/env bash
# TURN cost (issue 15, docs/decisions.md D-57): one node on 127.0.0.1, 1 publisher → N subscribers, every client
# direct over UDP, through the node's TURN server over UDP, or over TCP; the runs are interleaved (direct, udp, tcp,
# direct, …) so the machine's load affects them alike. One JSON line per run (tools/Hibari.Load/Program.cs), prefixed
# with the mode; server_us_per_forwarded_packet is the node's CPU per packet the subscribers received.
#   bench/turn.sh                          # N=50, 1600 kbit/s of 1000-byte packets (200 packets/s), 15 s, 3 rounds
#   N=100 ROUNDS=5 bench/turn.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
BITRATE=${BITRATE:-1600}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-"direct udp tcp"}
source bench/lib.sh
bench_init
start_node node 127.0.0.1 39200 39201 39202 --set license_max_connections=5000 --set turn_udp_port=39210 \
  --set turn_tcp_listen_port=39210 ${WORKERS:+--set media_workers=$WORKERS}
pid=${BENCH_PIDS[0]}
wait_api 127.0.0.1 39200
stamp "nproc $(nproc)"
for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    turn=()
    [ "$mode" = direct ] || turn=(--turn "$mode")
    line=$(dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39201/signaling --subscribers "$N" \
      --bitrate "$BITRATE" --packet-size 1000 --duration "$DURATION" --server-pid "$pid" "${turn[@]}" | tail -1)
    echo "$mode $line"
  done
done
stamp
