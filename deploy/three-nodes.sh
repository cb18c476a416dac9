#!/usr/bin/env bash
# Three jnsq nodes on this machine forming one cluster, each with its own ports and data path under
# ${JNSQ_DATA:-/tmp/jnsq-three}. Node n listens on TCP 4n50, HTTP 4n51, lookup HTTP 4n61 and TCP 4n60, admin UI 4n71,
# cluster 735(n-1);
# nodes 2 and 3 join through node 1. Ctrl-C stops all three (each writes its queues to disk first).
#   deploy/three-nodes.sh
#   curl 127.0.0.1:4361/nodes        # node 3 lists all three
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data=${JNSQ_DATA:-/tmp/jnsq-three}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
"$here/bin/jnsq" --version > /dev/null   # build once before starting three JVMs
for n in 1 2 3; do
  mkdir -p "$data/n$n"
  seed=()
  [ "$n" -gt 1 ] && seed=(--seed-node 127.0.0.1:7350)
  "$here/bin/jnsq" node --data-path "$data/n$n" --broadcast-address 127.0.0.1 \
    --tcp-address "127.0.0.1:4${n}50" --http-address "127.0.0.1:4${n}51" \
    --lookup-http-address "127.0.0.1:4${n}61" --lookup-tcp-address "127.0.0.1:4${n}60" \
    --admin-http-address "127.0.0.1:4${n}71" --cluster-address "127.0.0.1:735$((n - 1))" "${seed[@]}" \
    > "$data/n$n.log" 2>&1 &
  pids+=($!)
  echo "node $n: tcp 127.0.0.1:4${n}50  http 127.0.0.1:4${n}51  lookup 127.0.0.1:4${n}61  admin http://127.0.0.1:4${n}71  log $data/n$n.log"
done
wait
