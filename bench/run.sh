#!/usr/bin/env bash
# The standard benchmark set. Starts a fresh node for each run on 127.0.0.1 (free ports) with fixed JVM
# options, runs every scenario RUNS times and writes the median and spread of each figure to
# bench/results/<date>-<commit>.json and .md, with the machine's description. About 4-5 minutes.
#   RUNS=3 SECS=8 bench/run.sh        (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-8}
# bin/jnsq's default JVM options, as users run the node (a backlog lives off the heap). Override with NODE_JVM_OPTS.
NODE_JVM_OPTS=${NODE_JVM_OPTS:--Xms64m -Xmx1g -Xmn32m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError}
BENCH_JVM_OPTS=${BENCH_JVM_OPTS:--Xmx1g}


NODE_FLAGS="--mem-queue-size 10000000"   # nsqd keeps this much in memory; jnsq keeps its log tail by bytes
source bench/lib.sh   # builds the jar if stale; sets commit, stamp, work

results="$work/results"; mkdir -p "$results"
for r in $(seq 1 "$RUNS"); do
  java $BENCH_JVM_OPTS -jar target/jnsq.jar bench loopback --runfor 2s --json "$results/loopback.$r.json"
done

echo "== pub-only (2 connections, MPUB 200 x 200 B, ${SECS}s), then draining that backlog from one channel (RDY 2500)"
for r in $(seq 1 "$RUNS"); do
  start_node
  curl -s -X POST "http://127.0.0.1:$http/topic/create?topic=sub_bench" && curl -s -X POST "http://127.0.0.1:$http/channel/create?topic=sub_bench&channel=ch"
  bench pub --like-bench-writer --concurrency 2 --runfor "${SECS}s" --json "$results/pub-200x200.$r.json"
  n=$(json_field "$results/pub-200x200.$r.json" messages); rss=$(json_field "$results/pub-200x200.$r.json" node_rss_bytes)
  sed -i "s/^}/, \"bytes_per_message\" : $((rss / n))\n}/" "$results/pub-200x200.$r.json"
  bench sub --concurrency 1 --rdy 2500 --count "$n" --runfor "$((SECS * 3))s" --json "$results/sub-backlog.$r.json"
  stop_node
done

echo "== sub of a 1M backlog"
for r in $(seq 1 "$RUNS"); do
  start_node
  curl -s -X POST "http://127.0.0.1:$http/topic/create?topic=sub_bench" && curl -s -X POST "http://127.0.0.1:$http/channel/create?topic=sub_bench&channel=ch"
  bench pub --concurrency 2 --count 1000000 --runfor 60s > /dev/null
  bench sub --concurrency 1 --rdy 2500 --count 1000000 --runfor 60s --json "$results/sub-1M.$r.json"
  stop_node
done

echo "== e2e at full speed, then at 50% of it"
for r in $(seq 1 "$RUNS"); do
  start_node
  bench e2e --concurrency 1 --runfor "${SECS}s" --json "$results/e2e-full.$r.json"
  stop_node
done
full=$(for r in $(seq 1 "$RUNS"); do json_field "$results/e2e-full.$r.json" msgs_per_sec; done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
half=$(awk -v f="$full" 'BEGIN { printf "%.0f", f / 2 }')
for r in $(seq 1 "$RUNS"); do
  start_node
  bench e2e --concurrency 1 --runfor "${SECS}s" --rate "$half" --json "$results/e2e-50pct.$r.json"
  stop_node
done

echo "== 100 topics x 2 channels"
for r in $(seq 1 "$RUNS"); do
  start_node
  bench e2e --concurrency 1 --topics 100 --channels 2 --batch-size 20 --runfor "${SECS}s" --json "$results/e2e-100topics-2channels.$r.json"
  stop_node
done

summarize "jnsq benchmark" "" "RUNS=$RUNS SECS=$SECS"
