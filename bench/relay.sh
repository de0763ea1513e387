#!/usr/bin/env bash
# One relay hop (issue 6): a two-node cluster n1@127.0.0.1 + n2@127.0.0.2 (affinity off), the load tool's publishers on
# n1 and one subscriber either on n1 (local, the baseline) or on n2 (every packet relayed n1 → n2 once). For each rate,
# prints the local run and the relayed run; the relay hop's added latency is the difference of their latencies, the
# sending node's cost per relayed packet is n1's µs per published packet with the subscriber on n2 (one relayed copy)
# against the local run (one local subscriber). Prints one JSON line per run.
#   bench/relay.sh                       # rates (packets/s) 1000 10000 50000, 10 s each, 1000-byte packets
#   RATES="1000" DURATION=5 bench/relay.sh
#   RELAY_UDP=true bench/relay.sh        # relayed RTP in UDP datagrams between the media workers instead of the TCP node link (cluster_relay_udp, D-31)
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"1000 10000 50000"}
DURATION=${DURATION:-10}
SIZE=${SIZE:-1000}
RELAY_UDP=${RELAY_UDP:-false}
source bench/lib.sh
bench_init
for n in "n1 127.0.0.1" "n2 127.0.0.2"; do
  set -- $n
  start_node "$1" "$2" 39120 39121 39122 --set license_max_connections=5000 --set cluster=true --set cluster_secret=bench-secret \
    --set node_name="$1@$2" --set default_cluster_affinity=false --set external_signaling_url="ws://$2:39121/signaling" \
    --set external_api_url="http://$2:39120/" --set cluster_relay_udp="$RELAY_UDP"
  wait_api "$2" 39120
done
curl -s -X POST -H 'x-sora-target: Sora_20221221.InitCluster' -d '{"node_name_list":["n1@127.0.0.1","n2@127.0.0.2"]}' http://127.0.0.1:39120/ >/dev/null
for ip in 127.0.0.1 127.0.0.2; do
  for _ in $(seq 300); do grep -q '^hibari_available 1' <<<"$(curl -s --max-time 5 "http://$ip:39120/metrics")" && break; sleep 0.1; done
done
stamp "nproc $(nproc) cluster_relay_udp=$RELAY_UDP"
load() { dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39121/signaling --subscribers 1 \
  --packet-size "$SIZE" --duration "$DURATION" --server-pid "${BENCH_PIDS[0]}" --subscriber-pid "${BENCH_PIDS[1]}" "$@" | tail -1; }
# n2's view of the link from n1: the histogram of frame send time → arrival (µs), as GetStatsReport gives it.
hist() { curl -s -X POST -H 'x-sora-target: Sora_20171010.GetStatsReport' http://127.0.0.2:39120/ \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); e=[x for x in d["cluster_relay"] if x["node_name"].startswith("n1@")]; print(json.dumps(e[0] if e else {}))'; }
# p50/p99 bucket bounds of the frames that arrived between two snapshots of the histogram.
hop() { python3 -c '
import json,sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
counts = [y - x for x, y in zip(a.get("latency_bucket_counts", [0]*13), b["latency_bucket_counts"])]
bounds = b["latency_buckets_us"]; total = sum(counts)
def pct(p):
    seen = 0
    for c, bound in zip(counts, bounds):
        seen += c
        if seen >= total * p / 100: return bound
print(json.dumps({"hop_frames": total, "hop_latency_us_p50_bucket": pct(50), "hop_latency_us_p90_bucket": pct(90), "hop_latency_us_p99_bucket": pct(99),
  "rtp_transport": b.get("rtp_transport"), "hop_rtp_udp": b.get("total_received_rtp_udp", 0) - a.get("total_received_rtp_udp", 0),
  "hop_share_within_us": {str(bound): round(sum(counts[:i + 1]) / max(total, 1), 4) for i, bound in enumerate(bounds[:7])}}))' "$1" "$2"; }
for rate in $RATES; do
  # One publisher sends at most ~4,000 packets/s at 30 frames/s (the load tool's pacing): more publishers for more.
  publishers=$(( (rate + 3999) / 4000 ))
  kbps=$(( rate * SIZE * 8 / 1000 / publishers ))
  echo "# rate $rate packets/s: $publishers publisher(s) at $kbps kbit/s"
  echo "local   $(load --publishers "$publishers" --bitrate "$kbps" --subscriber-url ws://127.0.0.1:39121/signaling)"
  before=$(hist)
  echo "relayed $(load --publishers "$publishers" --bitrate "$kbps" --subscriber-url ws://127.0.0.2:39121/signaling)"
  echo "hop     $(hop "$before" "$(hist)")"
done
curl -s -X POST -H 'x-sora-target: Sora_20171010.GetStatsReport' http://127.0.0.1:39120/ \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print("# n1 cluster_relay:", json.dumps(d.get("cluster_relay")))'
stamp
