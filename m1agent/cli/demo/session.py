"""One demo session: a Docker sandbox holding a copy of the repository, the coding policy, and a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from m1agent.agent import Agent
from m1agent.backends.base import Backend
from m1agent.cli.display import EventPrinter, print_diff
from m1agent.events import ApprovalRequested, RunFinished
from m1agent.policies.coding import coding_policy
from m1agent.sandboxes.config import SandboxConfig
from m1agent.sandboxes.docker_sandbox import DockerSandbox
from m1agent.sandboxes.tools import SandboxToolset
from m1agent.thinking import ThinkingBudget, ThinkingGovernor

INSTRUCTIONS = (
    "You are a careful software engineer working in a sandbox. The repository is in the folder `repo/` of "
    "the work folder. Run its tests before and after a change, change as little as needed, and end with a "
    "short summary of what you changed and why."
)


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
    """Run ``task`` on a sandboxed copy of ``repo``; the checkout itself is never written."""
    config = SandboxConfig(image=image) if image else SandboxConfig()
    printer = EventPrinter(console)

    def approve(request: ApprovalRequested) -> bool:
        return True  # the demo runs unattended; the policy still decides what needs approval

    async with DockerSandbox(config) as box:
        await box.open_repo(repo)
        agent: Agent[None] = Agent(
            backend,
            INSTRUCTIONS,
            tools=[SandboxToolset(box)],
            policies=[coding_policy("ask")],
            approver=approve,
            sessions=sessions,
            thinking=ThinkingGovernor(ThinkingBudget.m1_80k()),
        )
        finished: RunFinished | None = None
        session_id = ""
        async for event in agent.stream(task):
            printer(event)
            if isinstance(event, RunFinished):
                finished = event
            session_id = getattr(event, "session_id", session_id) or session_id
        changes = await box.repo_changes()
    print_diff(console, changes.patch, title="changes made in the sandbox (your files are untouched)")
    return DemoOutcome(finished.stop_reason if finished else "error", changes.patch, session_id)
