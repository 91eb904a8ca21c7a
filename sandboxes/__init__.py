"""Sandbox drivers: where model-written code runs, locked down. ``DockerSandbox`` is the default."""

from .archive import SizeLimitExceeded, UnsafeArchive
from .channel import AgentLost
from .config import DEFAULT_IMAGE, SandboxConfig
from .diff import RepoChanges
from .docker_sandbox import DockerSandbox, docker_client
from .errors import SandboxTimeout, SandboxUnavailable
from .files import SandboxFileError
from .pool import SandboxPool

__all__ = [
    "DEFAULT_IMAGE",
    "AgentLost",
    "DockerSandbox",
    "RepoChanges",
    "SandboxConfig",
    "SandboxFileError",
    "SandboxPool",
    "SandboxTimeout",
    "SandboxUnavailable",
    "SizeLimitExceeded",
    "UnsafeArchive",
    "docker_client",
]
