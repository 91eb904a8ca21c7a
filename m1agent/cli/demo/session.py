"""One demo session: the coding agent of ``build_coding_agent`` on a sandboxed copy of the bundled repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from m1agent.backends.base import Backend
from m1agent.cli.coding import coding_environment
from m1agent.cli.config import CodingConfig, SandboxSettings
from m1agent.cli.display import EventPrinter, print_diff
from m1agent.events import ApprovalRequested, RunFinished


@dataclass(frozen=True)
class DemoOutcome:
    """How the session ended, and the reviewable patch."""

    stop_reason: str
    patch: str
    session_id: str

    @property
    def ok(self) -> bool:
        return self.stop_reason == "completed" and bool(self.patch)


async def run_session(
    backend: Backend, repo: Path, task: str, console: Console, *, sessions: Path, image: str | None = None
) -> DemoOutcome:
    """Run ``task`` on a sandboxed copy of ``repo``; the checkout itself is never written.

    The coding agent is the one ``m1agent code`` and ``m1agent run`` build, in ``ask`` mode; the
    user's config files are not read, so the demo runs the same everywhere.
    """
    config = CodingConfig(mode="ask", sessions_dir=str(sessions), sandbox=SandboxSettings(image=image or ""))
    printer = EventPrinter(console)

    def approve(request: ApprovalRequested) -> bool:
        return True  # the demo runs unattended; the policy still decides what needs approval

    finished: RunFinished | None = None
    session_id = ""
    async with coding_environment(config, repo, backend=backend, approver=approve) as cs:
        async for event in cs.agent.stream(task):
            printer(event)
            if isinstance(event, RunFinished):
                finished = event
            session_id = getattr(event, "session_id", session_id) or session_id
        changes = await cs.workspace.diff()
    print_diff(console, changes.patch, title="changes made in the sandbox (your files are untouched)")
    return DemoOutcome(finished.stop_reason if finished else "error", changes.patch, session_id)
