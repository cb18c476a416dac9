# Shared by bench/run.sh and bench/disk.sh (sourced from the repository root): builds target/jnsq.jar
# when the sources are newer, makes a scratch directory $work (removed on exit), and provides a node on
# 127.0.0.1 with free ports, the bench client and a JSON field reader. Expects $NODE_JVM_OPTS and
# $BENCH_JVM_OPTS; start_node takes extra node flags (after $NODE_FLAGS).
[ -f target/jnsq.jar ] && [ -z "$(find src/main pom.xml -newer target/jnsq.jar -print -quit)" ] || mvn -q -B -DskipTests package
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
stamp=$(date -u +%Y%m%d-%H%M%S)
work=$(mktemp -d)
trap 'stop_node; rm -rf "$work"' EXIT
node_pid=""
start_node() {
  rm -rf "$work/data"; mkdir -p "$work/data"; : > "$work/node.log"
  java $NODE_JVM_OPTS -jar target/jnsq.jar node --tcp-address 127.0.0.1:0 --http-address 127.0.0.1:0 \
    --lookup-http-address 127.0.0.1:0 --lookup-tcp-address 127.0.0.1:0 --admin-http-address 127.0.0.1:0 --data-path "$work/data" ${NODE_FLAGS:-} "$@" > "$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 100); do
    tcp=$(grep -o 'TCP: listening on /127.0.0.1:[0-9]*' "$work/node.log" | grep -o '[0-9]*$' || true)
    http=$(grep -o 'HTTP: listening on /127.0.0.1:[0-9]*' "$work/node.log" | grep -o '[0-9]*$' || true)
    [ -n "$tcp" ] && [ -n "$http" ] && return 0
    sleep 0.1
  done
  echo "node did not start:"; cat "$work/node.log"; exit 1
}
stop_node() {
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; node_pid=""; fi
}
bench() { java $BENCH_JVM_OPTS -jar target/jnsq.jar bench "$@" --tcp-address 127.0.0.1:$tcp --http-address 127.0.0.1:$http --node-pid $node_pid; }
json_field() { grep -o "\"$2\" : [0-9.]*" "$1" | head -1 | grep -o '[0-9.]*$'; }


# Writes the machine's description and the medians of every scenario in $results to
# bench/results/<stamp>-<commit><suffix>.json and .md.  summarize <title> <suffix> <settings line>
summarize() {
  local machine="$work/machine.txt"
  {
    echo "commit $commit, $(date -u +%Y-%m-%dT%H:%M:%SZ), $3"
    echo "cores: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "memory: $(free -h | awk '/Mem:/ {print $2}'); disk: $(df -h "$work" | awk 'NR==2 {print $1}')"
    java -version 2>&1 | head -1
    echo "node JVM: $NODE_JVM_OPTS"
  } > "$machine"
  java $BENCH_JVM_OPTS -jar target/jnsq.jar bench summarize "$results" --machine "$machine" \
    --title "$1 $stamp ($commit)" --out "bench/results/$stamp-$commit$2"
  echo "written: bench/results/$stamp-$commit$2.json and .md"
}
