#!/usr/bin/env bash
# Builds the JMH micro-benchmarks (Maven profile "bench") and runs them; extra arguments go to JMH,
# e.g. bench/jmh.sh CodecBenchmark -prof gc
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -Pbench -DskipTests package
exec java -cp "target/classes:$(cat target/bench.classpath)" org.openjdk.jmh.Main "$@"
