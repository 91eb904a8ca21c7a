#!/usr/bin/env bash
# Idempotent setup of the real parts the tests use. Each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup.d/*.sh; do
    [ -e "$step" ] || continue
    bash "$step"
done
