# Shared by the bench/*.sh scripts (sourced): the Release build, a temporary folder and the node processes, both gone
# at exit, and the line that stamps a run with the time and the machine's load.

bench_init() {
  dotnet build Hibari.slnx -c Release -nologo -v quiet >/dev/null
  BENCH_DIR=$(mktemp -d)
  BENCH_PIDS=()
  trap 'kill "${BENCH_PIDS[@]}" 2>/dev/null || true; rm -rf "$BENCH_DIR"' EXIT
}

# start_node NAME IP API_PORT SIGNALING_PORT RTC_PORT [--set key=value ...]: a node in the background with warning logs
# and its own data and log folders; its pid is appended to BENCH_PIDS.
start_node() {
  local name=$1 ip=$2 api=$3 sig=$4 rtc=$5
  shift 5
  mkdir -p "$BENCH_DIR/$name"
  # NODE_CPUS=0 pins the node to those cores (taskset), e.g. to measure one core's worth of forwarding.
  ${NODE_CPUS:+taskset -c "$NODE_CPUS"} dotnet src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll --set listen_address="$ip" --set api_port="$api" \
    --set signaling_port="$sig" --set rtc_udp_port="$rtc" --set data_dir="$BENCH_DIR/$name/data" \
    --set log_dir="$BENCH_DIR/$name/log" --set log_level=warning "$@" >"$BENCH_DIR/$name.log" 2>&1 &
  BENCH_PIDS+=($!)
}

# wait_api IP API_PORT: until the node's HTTP API answers (at most 20 s).
wait_api() {
  for _ in $(seq 200); do curl -s -o /dev/null -X POST -H 'x-sora-target: Sora_20171218.GetLicense' "http://$1:$2/" && return 0; sleep 0.1; done
  echo "bench: the node on $1:$2 did not start" >&2
  return 1
}

stamp() { echo "# $(date -u +%FT%TZ) loadavg $(cut -d' ' -f1-3 /proc/loadavg)${1:+ $1}"; }
