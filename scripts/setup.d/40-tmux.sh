#!/usr/bin/env bash
# tmux drives `m1agent code` in the interactive UI's tests (send-keys, capture-pane). Skips when present.
set -euo pipefail
if command -v tmux >/dev/null 2>&1; then
    exit 0
fi
echo "tmux: installing (apt)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq tmux >/dev/null
