"""Re-record the demo cassette: ``python -m m1agent.cli.demo.record``.

The scripted outputs in ``script.py`` are served by a loopback vLLM server and reach the agent over the
real wire through the raw completions backend; every generation is recorded into ``cassette.jsonl``.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from rich.console import Console

from m1agent.backends import Completions
from m1agent.cli.demo import CASSETTE, REPO, TASK
from m1agent.cli.demo.script import OUTPUTS
from m1agent.cli.demo.session import run_session
from m1agent.testing import VLLMServer
from m1agent.testing.cassette import RecordingBackend


def main() -> None:
    """Record a fresh cassette over the loopback server."""
    with VLLMServer(script=list(OUTPUTS)) as server, tempfile.TemporaryDirectory() as tmp:
        backend = RecordingBackend(Completions(server.base_url), CASSETTE)
        outcome = asyncio.run(run_session(backend, REPO, TASK, Console(), sessions=Path(tmp)))
    if not outcome.ok:
        raise SystemExit(f"recording ended with {outcome.stop_reason}; the cassette is not usable")
    print(f"recorded {len(OUTPUTS)} generations into {CASSETTE}")


if __name__ == "__main__":
    main()
