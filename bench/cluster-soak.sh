#!/usr/bin/env bash
# Cluster soak (issue 13 part 6; not CI): three nodes n1..n3 on 127.0.0.1–3 (or NET.1–3) (relay on, affinity off), one channel with a
# publisher and N subscribers on n1 and the same on n2 (each side receives the other's publisher across relay), one
# subscriber replaced every second on each side, and n3 restarted (SIGTERM, start again from its data_dir) every
# RESTART_EVERY seconds. Every 10 s each node's RSS, threads, open file descriptors and managed heap go into a CSV;
# at the end bench/plot-soak.py draws them into an SVG and prints a summary.
#   bench/cluster-soak.sh                                  # 7200 s (2 h), N = 20 per side at 1000 kbit/s, n3 restarted every 600 s
#   SECONDS_TOTAL=1200 RESTART_EVERY=300 bench/cluster-soak.sh
#   OUT=docs/reliability-soak bench/cluster-soak.sh        # where the CSV and SVG go (default: a temporary folder, printed)
#   NET=127.0.1 bench/cluster-soak.sh                      # the nodes on NET.1–3 (default 127.0.0), e.g. to leave the
#                                                          # test suite's 127.0.0.1–4 cluster ports free during a long run
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${SECONDS_TOTAL:-7200}
RESTART_EVERY=${RESTART_EVERY:-600}
N=${N:-20}
BITRATE=${BITRATE:-1000}
NET=${NET:-127.0.0}
source bench/lib.sh
bench_init
OUT=${OUT:-$(mktemp -d -t hibari-soak-XXXXXX)}
mkdir -p "$OUT"
declare -A PID
node_up() { # NAME IP
  start_node "$1" "$2" 39500 39501 39502 --set cluster=true --set cluster_secret=bench-soak-secret-0123 --set node_name="$1@$2" \
    --set default_cluster_affinity=false --set external_signaling_url="ws://$2:39501/signaling" --set external_api_url="http://$2:39500/" \
    --set license_max_connections=5000
  PID[$1]=${BENCH_PIDS[-1]}
  wait_api "$2" 39500
}
# Reads the whole answer before looking (with pipefail, `curl | grep -q` fails when grep stops reading first: the first
# 2-hour run recorded ~8 % false "unavailable" samples that way).
available() { local m; m=$(curl -s --max-time 5 "http://$1:39500/metrics") && grep -q '^hibari_available 1' <<<"$m"; }
node_up n1 $NET.1; node_up n2 $NET.2; node_up n3 $NET.3
curl -s -X POST -H 'x-sora-target: Sora_20221221.InitCluster' \
  -d "{\"node_name_list\":[\"n1@$NET.1\",\"n2@$NET.2\",\"n3@$NET.3\"]}" http://$NET.1:39500/ >/dev/null
for ip in $NET.1 $NET.2 $NET.3; do for _ in $(seq 300); do available $ip && break; sleep 0.1; done; done
stamp "nproc $(nproc) N=$N per side, ${BITRATE} kbit/s, n3 restarted every ${RESTART_EVERY} s" | tee "$OUT/soak.txt"

load() { # IP NAME
  dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url "ws://$1:39501/signaling" --channel cluster-soak \
    --subscribers "$N" --bitrate "$BITRATE" --packet-size 1000 --soak "$SECONDS_TOTAL" --server-pid "${PID[$2]}" >"$OUT/load-$2.csv" 2>"$OUT/load-$2.err" &
  LOADS+=($!)
}
LOADS=()
load $NET.1 n1; load $NET.2 n2

CSV="$OUT/soak.csv"
echo "t_s,node,rss_mib,threads,fds,gc_heap_mib,available" >"$CSV"
start=$SECONDS; next_restart=$RESTART_EVERY; restarts=0
declare -A IP=([n1]=$NET.1 [n2]=$NET.2 [n3]=$NET.3)
while [ $((SECONDS - start)) -lt "$SECONDS_TOTAL" ]; do
  t=$((SECONDS - start))
  for n in n1 n2 n3; do
    p=${PID[$n]}
    if [ -d "/proc/$p" ]; then
      rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$p/status"); thr=$(awk '/^Threads:/ {print $2}' "/proc/$p/status")
      fds=$(ls "/proc/$p/fd" | wc -l)
      heap=$(curl -s --max-time 5 "http://${IP[$n]}:39500/metrics" | awk '/^hibari_gc_heap_bytes / {printf "%.1f", $2/1048576}')
      avail=$(available "${IP[$n]}" && echo 1 || echo 0)
      echo "$t,$n,$rss,$thr,$fds,${heap:-},$avail" >>"$CSV"
    fi
  done
  if [ "$t" -ge "$next_restart" ] && [ $((SECONDS_TOTAL - t)) -gt 60 ]; then
    next_restart=$((next_restart + RESTART_EVERY)); restarts=$((restarts + 1))
    kill -TERM "${PID[n3]}"; for _ in $(seq 100); do [ -d "/proc/${PID[n3]}" ] || break; sleep 0.1; done
    node_up n3 $NET.3
    for _ in $(seq 300); do available $NET.3 && break; sleep 0.1; done
    stamp "n3 restarted at t=$t s ($restarts)" | tee -a "$OUT/soak.txt"
  fi
  sleep 10
done
wait "${LOADS[@]}" || true
stamp "done; $restarts restarts of n3" | tee -a "$OUT/soak.txt"
for n in n1 n2; do echo "load on $n: $(tail -1 "$OUT/load-$n.csv")" | tee -a "$OUT/soak.txt"; done
python3 bench/plot-soak.py "$CSV" "$OUT/soak.svg" | tee -a "$OUT/soak.txt"
echo "CSV, SVG and summary in $OUT"
