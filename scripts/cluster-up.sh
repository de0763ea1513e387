#!/usr/bin/env bash
# Starts N regular + M temporary Hibari nodes on 127.0.0.1, 127.0.0.2, ... and initialises the cluster.
#   scripts/cluster-up.sh [REGULAR=3] [TEMPORARY=0]
# Each node keeps its data_dir under .hibari-cluster/NAME and logs to .hibari-cluster/NAME.log.
# Stop everything with: scripts/cluster-down.sh
set -euo pipefail
cd "$(dirname "$0")/.."
regular=${1:-3}
temporary=${2:-0}
secret=${HIBARI_CLUSTER_SECRET:-local-cluster-secret}
root=.hibari-cluster
mkdir -p "$root"
dotnet build src/Hibari.Server/Hibari.Server.csproj -c Release -nologo -v quiet
dll=src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll

start_node() { # name ip temporary
  local name=$1 ip=$2 temp=$3
  nohup dotnet "$dll" \
    --set cluster=true --set "cluster_secret=$secret" --set "cluster_temporary_node=$temp" \
    --set "listen_address=$ip" --set "node_name=$name@$ip" --set "data_dir=$root/$name" \
    --set "external_signaling_url=ws://$ip:5000/signaling" --set "external_api_url=http://$ip:3000/" \
    >"$root/$name.log" 2>&1 &
  echo $! >"$root/$name.pid"
}

wait_api() { # ip
  for _ in $(seq 1 200); do
    curl -s -o /dev/null -X POST -H 'x-sora-target: Sora_20171218.GetLicense' "http://$1:3000/" && return 0
    sleep 0.1
  done
  echo "node on $1 did not start; see $root/*.log" >&2; return 1
}

names=()
for i in $(seq 1 "$regular"); do start_node "node$i" "127.0.0.$i" false; names+=("\"node$i@127.0.0.$i\""); done
for j in $(seq 1 "$temporary"); do i=$((regular + j)); start_node "temp$j" "127.0.0.$i" true; done
for i in $(seq 1 $((regular + temporary))); do wait_api "127.0.0.$i"; done

list=$(IFS=,; echo "${names[*]}")
curl -sf -X POST -H 'x-sora-target: Sora_20221221.InitCluster' -d "{\"node_name_list\":[$list]}" http://127.0.0.1:3000/ && echo
for j in $(seq 1 "$temporary"); do
  i=$((regular + j))
  curl -sf -X POST -H 'x-sora-target: Sora_20211215.RegisterClusterNode' -d '{"contact_node_name":"node1@127.0.0.1"}' "http://127.0.0.$i:3000/" && echo
done
curl -s -X POST -H 'x-sora-target: Sora_20211215.ListClusterNodes' http://127.0.0.1:3000/ && echo
