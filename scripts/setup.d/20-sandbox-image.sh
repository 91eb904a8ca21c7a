#!/usr/bin/env bash
# Make sure the sandbox image exists; build it offline (debootstrap + docker import) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash sandboxes/images/offline/build.sh
