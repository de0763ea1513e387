#!/usr/bin/env bash
# Simulcast forwarding cost (issue 12): one node on 127.0.0.1 (warning logs), 1 synthetic publisher, N synthetic
# subscribers, three cases interleaved RUNS times, one JSON line per run (tools/Hibari.Load/Program.cs):
#   single  one layer at R kbit/s                                   (forwarded layer = everything received)
#   sim-r0  r0/r1/r2 at R, 2R, 4R; subscribers on r0 (the default)   (forwarded layer at R, 7R received)
#   sim-r2  r0/r1/r2 at R/4, R/2, R; subscribers ask r2              (forwarded layer at R, 1.75R received)
# server_us_per_forwarded_packet = node CPU / packets the subscribers received; server_us_per_sent_packet = node CPU /
# packets the publisher sent (all layers). The subscribers answer with transport-cc (extmap 6) but send no feedback:
# every receiver's estimate stays at its 2.5 Mbps start, so R must stay under 0.9 × 2.5 Mbps for sim-r2 to get r2.
#   bench/simulcast.sh                         # N=50, R=1600 kbit/s (≈ 210 packets/s of 1000 B), 15 s, 3 rounds
#   N=20 RATE=800 DURATION=10 RUNS=1 bench/simulcast.sh
#   PACKET=500 bench/simulcast.sh              # 500-byte packets: twice the packets/s at the same kbit/s
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
RATE=${RATE:-1600}
DURATION=${DURATION:-15}
RUNS=${RUNS:-3}
PACKET=${PACKET:-1000}
# IDLE=S: the node's CPU for S s after the joins, before publishing (load tool --idle): the marginal µs per forwarded packet.
IDLE=${IDLE:-0}
CASES=${CASES:-"single sim-r0 sim-r2"}
source bench/lib.sh
# As bench_init, but builds only the two projects it runs (the machine is shared); SKIP_BUILD=1 skips that too.
[ -n "${SKIP_BUILD:-}" ] || { dotnet build src/Hibari.Server -c Release -nologo -v quiet >/dev/null; dotnet build tools/Hibari.Load -c Release -nologo -v quiet >/dev/null; }
BENCH_DIR=$(mktemp -d)
BENCH_PIDS=()
trap 'kill "${BENCH_PIDS[@]}" 2>/dev/null || true; rm -rf "$BENCH_DIR"' EXIT
start_node node 127.0.0.1 39130 39131 39132 --set license_max_connections=5000 ${WORKERS:+--set media_workers=$WORKERS}
pid=${BENCH_PIDS[0]}
wait_api 127.0.0.1 39130
stamp "nproc $(nproc) N=$N RATE=$RATE PACKET=$PACKET DURATION=$DURATION"
load() { dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39131/signaling --subscribers "$N" \
  --packet-size "$PACKET" --duration "${DURATION}" --server-pid "$pid" --idle "$IDLE" "$@" | tail -1; }
# Round 0 (WARMUP_DURATION s per case, default 5; 0 skips it) is the JIT's warm-up: printed as "warmup", not counted.
WARMUP_DURATION=${WARMUP_DURATION:-5}
rounds=$(seq "$RUNS"); [ "$WARMUP_DURATION" = 0 ] || rounds="0 $rounds"
for run in $rounds; do
  for c in $CASES; do
    case $c in
      single) args=(--bitrate "$RATE") ;;
      sim-r0) args=(--simulcast --simulcast-bitrates "$RATE,$((RATE * 2)),$((RATE * 4))") ;;
      sim-r2) args=(--simulcast --simulcast-bitrates "$((RATE / 4)),$((RATE / 2)),$RATE" --simulcast-rid r2) ;;
    esac
    if [ "$run" = 0 ]; then echo "warmup $c $(cut -d' ' -f1-3 /proc/loadavg) $(DURATION=$WARMUP_DURATION IDLE=0 load "${args[@]}" | cut -c1-120)"; continue; fi
    echo "$c $run $(cut -d' ' -f1-3 /proc/loadavg) $(load "${args[@]}")"
  done
done
stamp
