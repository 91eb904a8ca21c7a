#!/usr/bin/env bash
# Idempotent setup of the real parts the tests and the demo use. Each step skips what is already there.
# With arguments, only the steps whose names start with one of them run (e.g. `10-docker 20-sandbox`).
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup.d/*.sh; do
    [ -e "$step" ] || continue
    name=$(basename "$step")
    if [ $# -gt 0 ]; then
        wanted=0
        for prefix in "$@"; do
            case "$name" in "$prefix"*) wanted=1 ;; esac
        done
        [ "$wanted" = 1 ] || continue
    fi
    bash "$step"
done
