#!/usr/bin/env bash
# Idempotent: the peer frameworks bench_loop.py compares against, each in its own venv under .peers/.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PY:-python3}"
install() {  # install <venv name> <import name> <pip spec...>
    local name="$1" module="$2"; shift 2
    local venv=".peers/$name"
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import $module" 2>/dev/null; then
        return 0
    fi
    "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "$@"
}
install openai-agents agents "openai-agents>=0.2"
install pydantic-ai pydantic_ai "pydantic-ai-slim>=1.0"
