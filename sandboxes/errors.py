"""What goes wrong with a sandbox as a whole (file and archive errors live with their modules)."""

from __future__ import annotations

from m1agent.errors import M1AgentError


class SandboxUnavailable(M1AgentError):
    """No Docker engine, no sandbox image, or a container that would not start."""

    hint = "start Docker (scripts/setup.d/10-docker.sh) and build the image with `m1agent sandbox build`"


class SandboxTimeout(M1AgentError):
    """A resident module's call did not answer in time (it may still finish in the background)."""
