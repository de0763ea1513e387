#!/usr/bin/env bash
# Load matrix of the SFU (issue 3): one node on 127.0.0.1 (fresh data dir, warning logs), then the load tool for each
# subscriber count, 1 publisher each run. Prints one JSON line per run (see tools/Hibari.Load/Program.cs).
#   bench/load-matrix.sh                 # N = 10 50 200 at 2500 kbit/s, 1000-byte packets, 15 s each
#   N="10 50" BITRATE=4000 bench/load-matrix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-"10 50 200"}
BITRATE=${BITRATE:-2500}
DURATION=${DURATION:-15}
dotnet build Hibari.slnx -c Release -nologo -v quiet >/dev/null
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
dotnet src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll --set listen_address=127.0.0.1 --set api_port=39100 \
  --set signaling_port=39101 --set rtc_udp_port=39102 --set data_dir="$dir/data" --set log_dir="$dir/log" \
  --set log_level=warning --set license_max_connections=5000 >"$dir/node.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null -X POST -H 'x-sora-target: Sora_20171218.GetLicense' http://127.0.0.1:39100/ && break; sleep 0.1; done
echo "# $(date -u +%FT%TZ) loadavg $(cut -d' ' -f1-3 /proc/loadavg) nproc $(nproc)"
for n in $N; do
  dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:39101/signaling --subscribers "$n" \
    --bitrate "$BITRATE" --packet-size 1000 --duration "$DURATION" --server-pid "$pid" | tail -1
done
echo "# $(date -u +%FT%TZ) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
