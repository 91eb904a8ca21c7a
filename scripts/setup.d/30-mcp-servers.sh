#!/usr/bin/env bash
# Published MCP servers the MCP tests drive, installed into .m1agent-test/mcp (their own venv and
# node_modules, so their dependencies never clash with ours). Skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=".m1agent-test/mcp"
PY_SERVERS=(mcp-server-time mcp-server-git)
NPM_SERVERS=(@modelcontextprotocol/server-everything @modelcontextprotocol/server-filesystem)
mkdir -p "$DEST"

PYTHON="${PYTHON:-python3}"
if [ ! -x "$DEST/venv/bin/python" ]; then
    "$PYTHON" -m venv "$DEST/venv"
fi
missing=()
for pkg in "${PY_SERVERS[@]}"; do
    [ -x "$DEST/venv/bin/$pkg" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "mcp servers: installing ${missing[*]} (PyPI)"
    "$DEST/venv/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "mcp servers: npm is missing; installing nodejs and npm (Debian)"
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
missing=()
for pkg in "${NPM_SERVERS[@]}"; do
    [ -f "$DEST/node_modules/$pkg/package.json" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "mcp servers: installing ${missing[*]} (npm)"
    [ -f "$DEST/package.json" ] || echo '{"name": "m1agent-test-mcp", "private": true}' > "$DEST/package.json"
    npm install --prefix "$DEST" --no-audit --no-fund --silent "${missing[@]}"
fi
