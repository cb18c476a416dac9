#!/usr/bin/env bash
# The disk benchmark set: the node with bin/jnsq's default JVM options and nsqd's default flags, as
# NSQ's own bench.sh runs nsqd (bench_writer: 2 connections, MPUB 200 x 200 B, 15 s, no channel yet, so
# the backlog spills to disk; then bench_reader: 2 connections, RDY 2500, 10 s). Then the same with
# --mem-queue-size 0, publishing in --durable mode, and draining a 1M backlog that is all on disk.
# Figures go to bench/results/<date>-<commit>-disk.json and .md. About 5 minutes with RUNS=3.
#   RUNS=3 bench/disk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
# bin/jnsq's defaults (see there); override with NODE_JVM_OPTS.
NODE_JVM_OPTS=${NODE_JVM_OPTS:--Xms64m -Xmx1g -Xmn32m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError}
BENCH_JVM_OPTS=${BENCH_JVM_OPTS:--Xmx1g}

source bench/lib.sh   # builds the jar if stale; sets commit, stamp, work
results="$work/results"; mkdir -p "$results"

echo "== nsqd's bench.sh with nsqd's defaults: write 15 s (topic without channels), then read 10 s"
for r in $(seq 1 "$RUNS"); do
  start_node
  bench pub --like-bench-writer --concurrency 2 --runfor 15s --json "$results/defaults-write-15s.$r.json"
  bench sub --concurrency 2 --rdy 2500 --runfor 10s --json "$results/defaults-read-10s.$r.json"
  stop_node
done

echo "== the same with --mem-queue-size 0 (everything through disk)"
for r in $(seq 1 "$RUNS"); do
  start_node --mem-queue-size 0
  bench pub --like-bench-writer --concurrency 2 --runfor 15s --json "$results/memq0-write-15s.$r.json"
  bench sub --concurrency 2 --rdy 2500 --runfor 10s --json "$results/memq0-read-10s.$r.json"
  stop_node
done

echo "== --durable: every MPUB answered after fsync; 1 MPUB in flight per connection (bench_writer), then 8"
for r in $(seq 1 "$RUNS"); do
  start_node --durable
  bench pub --like-bench-writer --concurrency 2 --runfor 10s --json "$results/durable-write-pipeline1.$r.json"
  stop_node
  start_node --durable
  bench pub --concurrency 2 --pipeline 8 --runfor 10s --json "$results/durable-write-pipeline8.$r.json"
  stop_node
  start_node
  bench pub --concurrency 2 --pipeline 8 --runfor 10s --json "$results/defaults-write-pipeline8.$r.json"
  stop_node
done

echo "== drain a 1M backlog that is all on disk (--mem-queue-size 0, channel created first)"
for r in $(seq 1 "$RUNS"); do
  start_node --mem-queue-size 0
  curl -s -X POST "http://127.0.0.1:$http/topic/create?topic=sub_bench" && curl -s -X POST "http://127.0.0.1:$http/channel/create?topic=sub_bench&channel=ch"
  bench pub --concurrency 2 --count 1000000 --runfor 60s > /dev/null
  bench sub --concurrency 1 --rdy 2500 --count 1000000 --runfor 60s --json "$results/drain-1M-from-disk.$r.json"
  stop_node
done

summarize "jnsq disk benchmark" "-disk" "RUNS=$RUNS"
