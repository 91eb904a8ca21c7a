#!/usr/bin/env bash
# Runs every benchmark in turn; each prints medians and ratios and updates RESULTS.md itself.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in benchmarks/bench_*.py; do
    echo "== $bench"
    .venv/bin/python "$bench"
done
