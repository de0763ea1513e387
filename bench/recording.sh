#!/usr/bin/env bash
# Recording cost (issue 16, docs/decisions.md D-58): one node on 127.0.0.1 (Release, warning logs, archive_dir in the
# temporary folder, recording_min_free_disk_space_mb=0), K synthetic publishers → N synthetic subscribers in one
# channel, the same load without (`plain`) and with (`record`) the channel recorded (load tool --record: StartRecording
# after the joins, StopRecording after the publishers stop; one archive per publisher). The modes are interleaved
# (plain, record, plain, …) so the machine's load affects them alike. One JSON line per run (tools/Hibari.Load/Program.cs),
# prefixed with the mode; a record line adds what the archives' .json files say: archive_bytes, recorded_packets,
# dropped_packets (must be 0). Then a summary: per mode the node's µs CPU per forwarded packet, its cores over the
# window, latency, loss, archives; and CPU per recorded stream = (cores record − cores plain, same round) / K, also as
# µs per recorded packet (÷ the publishers' sent packets/s: every one is recorded when dropped_packets is 0).
#   bench/recording.sh                     # N=50, K=2 publishers at 1000 kbit/s of 1000-byte packets, 15 s, 3 rounds
#   N=5 PUBLISHERS=10 bench/recording.sh   # 10 recorded streams: enough recording CPU to rise above a shared machine's noise
#   N=20 PUBLISHERS=1 BITRATE=2000 ROUNDS=2 bench/recording.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
PUBLISHERS=${PUBLISHERS:-2}
BITRATE=${BITRATE:-1000}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-"plain record"}
source bench/lib.sh
bench_init
archive=$BENCH_DIR/archive
start_node node 127.0.0.1 39300 39301 39302 --set license_max_connections=5000 --set turn_udp_port=0 \
  --set turn_tcp_listen_port=0 --set archive_dir="$archive" --set recording_min_free_disk_space_mb=0 \
  ${WORKERS:+--set media_workers=$WORKERS}
pid=${BENCH_PIDS[0]}
wait_api 127.0.0.1 39300
stamp "nproc $(nproc) N=$N PUBLISHERS=$PUBLISHERS BITRATE=$BITRATE DURATION=$DURATION"
results=$BENCH_DIR/results
# Round 0 (WARMUP_DURATION s per mode, default 5; 0 skips it) is the JIT's warm-up: printed as "warmup", not counted.
WARMUP_DURATION=${WARMUP_DURATION:-5}
rounds=$(seq "$ROUNDS"); [ "$WARMUP_DURATION" = 0 ] || rounds="0 $rounds"
for round in $rounds; do
  for mode in $MODES; do
    rec=()
    [ "$mode" = plain ] || rec=(--record http://127.0.0.1:39300/)
    line=$(dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39301/signaling --subscribers "$N" \
      --publishers "$PUBLISHERS" --bitrate "$BITRATE" --packet-size 1000 --duration "$([ "$round" = 0 ] && echo "$WARMUP_DURATION" || echo "$DURATION")" \
      --server-pid "$pid" "${rec[@]}" | tail -1)
    if [ "$mode" = record ]; then
      # The archives' .json files are written when the recording's end has closed them; the report comes last.
      dir=$archive/$(jq -r .recording_id <<<"$line")
      for _ in $(seq 100); do compgen -G "$dir/report-*.json" >/dev/null && break; sleep 0.1; done
      compgen -G "$dir/report-*.json" >/dev/null || { echo "bench: no report in $dir" >&2; exit 1; }
      line=$(jq -c --slurpfile a <(cat "$dir"/archive-*.json) '. + {archives: ($a | length), archive_bytes: ([$a[].size] | add),
        recorded_packets: ([$a[].stats.recorded_packets] | add), dropped_packets: ([$a[].stats.dropped_packets] | add),
        dropped_frames: ([$a[].stats.dropped_frames] | add)}' <<<"$line")
    fi
    [ "$round" = 0 ] && echo "warmup $mode $line" && continue
    echo "$mode $line"
    jq -c --arg mode "$mode" --argjson round "$round" '. + {mode: $mode, round: $round}' <<<"$line" >>"$results"
  done
done
stamp
echo "# summary: median over rounds (latency: the median run's p50 / p99); record − plain per round"
jq -rs --argjson k "$PUBLISHERS" '
  def med: sort | .[(length - 1) / 2 | floor];
  def r(n): . * pow(10; n) | round / pow(10; n);
  (group_by(.mode)[] | . as $runs | ($runs | sort_by(.latency_us_p50) | .[(length - 1) / 2 | floor]) as $m |
    "\(.[0].mode): us/fwd pkt \([$runs[].server_us_per_forwarded_packet] | map(tostring) | join(", ")) median \([$runs[].server_us_per_forwarded_packet] | med)"
    + " | cores \([$runs[].server_cpu_cores] | map(tostring) | join(", ")) median \([$runs[].server_cpu_cores] | med)"
    + " | fwd pps \([$runs[].forwarded_pps] | med) sent pps \([$runs[].sent_pps] | med)"
    + " | latency p50/p99 \($m.latency_us_p50)/\($m.latency_us_p99) max \([$runs[].latency_us_max] | max)"
    + " | loss % max \([$runs[].loss_percent] | max)"
    + (if .[0].mode == "record" then " | archives \([$runs[].archives] | add) MiB/run \([$runs[].archive_bytes / 1048576 | r(1)] | map(tostring) | join(", "))"
      + " | recorded/sent packets \([$runs[] | "\(.recorded_packets)/\(.recorded_sent_packets)"] | join(", ")) dropped packets \([$runs[].dropped_packets] | add) frames \([$runs[].dropped_frames] | add)" else "" end)),
  (group_by(.round) | map(select(length == 2) | (map(select(.mode == "plain"))[0]) as $p | (map(select(.mode == "record"))[0]) as $r
    | {d: ($r.server_cpu_cores - $p.server_cpu_cores), pps: $r.sent_pps}) as $d |
    "cores per recorded stream (record − plain) / \($k), rounds: \([$d[].d / $k | r(4)] | map(tostring) | join(", ")) median \([$d[].d / $k] | med | r(4))"
    + " | us per recorded packet: \([$d[] | .d * 1e6 / .pps | r(1)] | map(tostring) | join(", ")) median \([$d[] | .d * 1e6 / .pps] | med | r(1))")
' "$results"
