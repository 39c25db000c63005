#!/usr/bin/env bash
# Runs the hit benchmarks the way BENCHMARKS.md reports them: ten rounds,
# each round running every benchmark once, so that machine noise spreads
# over all of them alike. Usage: bench/run.sh [out.txt]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/hit.txt}
: > "$out"
go test -c -o /tmp/restycache-bench.test . >/dev/null
for _ in $(seq 10); do
  /tmp/restycache-bench.test -test.run '^$' -test.bench '^BenchmarkHit$' -test.benchtime 100000x -test.count 1 >> "$out"
done
go run golang.org/x/perf/cmd/benchstat@latest "$out"
