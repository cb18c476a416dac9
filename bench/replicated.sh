#!/usr/bin/env bash
# The replicated scenario: three node processes on 127.0.0.1 with --replicas 3 (free ports), NSQ-style
# MPUB 200 x 200 B from 2 connections to the topic's leader, then from 2 connections to a follower (which
# forwards through Raft), then kill -9 of the leader while a follower is published to over HTTP, timing
# the gap until publishing succeeds again. Figures are printed; indicative only on a shared machine.
#   SECS=8 bench/replicated.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-8}
PIPELINE=${PIPELINE:-1}   # MPUBs in flight per connection (1 = wait for each OK, as bench_writer)
NODE_JVM_OPTS=${NODE_JVM_OPTS:--Xms64m -Xmx1g -Xmn32m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError}
BENCH_JVM_OPTS=${BENCH_JVM_OPTS:--Xmx1g}
[ -f target/jnsq.jar ] && [ -z "$(find src/main pom.xml -newer target/jnsq.jar -print -quit)" ] || mvn -q -B -DskipTests package
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# 18 distinct free loopback ports (6 per node), all held while picked.
read -r -a P <<< "$(python3 -c 'import socket
s=[socket.socket() for _ in range(18)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')"
start() {   # start <i> [seed]
  local i=$1 b=$(( $1 * 6 ))
  mkdir -p "$work/n$i"
  java $NODE_JVM_OPTS -jar target/jnsq.jar node --data-path "$work/n$i" --broadcast-address 127.0.0.1 \
    --tcp-address 127.0.0.1:${P[$b]} --http-address 127.0.0.1:${P[$((b+1))]} --lookup-http-address 127.0.0.1:${P[$((b+2))]} \
    --lookup-tcp-address 127.0.0.1:0 --admin-http-address "" --cluster-address 127.0.0.1:${P[$((b+3))]} \
    --raft-address 127.0.0.1:${P[$((b+4))]} --replicas 3 --raft-groups 4 --mem-queue-size 10000000 ${2:+--seed-node 127.0.0.1:${P[3]}} \
    > "$work/n$i.log" 2>&1 &
  pids[$i]=$!
}
start 0; sleep 2; start 1 seed; start 2 seed
tcp() { echo ${P[$(( $1 * 6 ))]}; }
http() { echo ${P[$(( $1 * 6 + 1 ))]}; }
for _ in $(seq 1 300); do curl -sf -d warm "http://127.0.0.1:$(http 0)/pub?topic=sub_bench" > /dev/null && break; sleep 0.2; done
leader=""
for _ in $(seq 1 100); do
  for i in 0 1 2; do
    curl -s "http://127.0.0.1:$(http $i)/stats?format=json&topic=sub_bench" | grep -q '"leading":true' && leader=$i && break
  done
  [ -n "$leader" ] && break; sleep 0.2
done
[ -n "$leader" ] || { echo "no leader"; tail -20 "$work"/n*.log; exit 1; }
follower=$(( (leader + 1) % 3 ))
echo "leader: node $leader; follower used: node $follower"
curl -s -X POST "http://127.0.0.1:$(http $leader)/channel/create?topic=sub_bench&channel=ch" > /dev/null
bench() { java $BENCH_JVM_OPTS -jar target/jnsq.jar bench "$@"; }
echo "== pub to the leader (2 connections, MPUB 200 x 200 B, pipeline $PIPELINE, ${SECS}s)"
bench pub --concurrency 2 --pipeline "$PIPELINE" --runfor "${SECS}s" --tcp-address 127.0.0.1:$(tcp $leader) --http-address 127.0.0.1:$(http $leader) | tail -3
echo "== pub to a follower (forwarded through Raft)"
bench pub --concurrency 2 --pipeline "$PIPELINE" --runfor "${SECS}s" --tcp-address 127.0.0.1:$(tcp $follower) --http-address 127.0.0.1:$(http $follower) | tail -3
echo "== sub of that backlog from the leader's channel"
bench sub --concurrency 1 --rdy 2500 --runfor "${SECS}s" --tcp-address 127.0.0.1:$(tcp $leader) --http-address 127.0.0.1:$(http $leader) | tail -3
echo "== kill -9 of the leader while node $follower is published to (HTTP /pub, one at a time)"
python3 - "$(http $follower)" "${pids[$leader]}" <<'PY'
import sys, time, urllib.request, os, signal
port, victim = sys.argv[1], int(sys.argv[2])
def pub():
    try:
        return urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/pub?topic=sub_bench", data=b"x"), timeout=5).status == 200
    except Exception:
        return False
ok = 0
t_end = time.time() + 2
while time.time() < t_end: ok += pub()
killed = time.time(); os.kill(victim, signal.SIGKILL)
while not pub():
    if time.time() - killed > 30: print("publishing did not resume within 30 s"); sys.exit(1)
    time.sleep(0.02)
print(f"publishes before the kill: {ok} in 2 s; failover (kill -9 until a publish succeeds): {int((time.time() - killed) * 1000)} ms")
PY
for i in 0 1 2; do
  [ "$i" = "$leader" ] && continue
  echo "node $i RSS after the run: $(( $(ps -o rss= -p "${pids[$i]}") / 1024 )) MB"
done
