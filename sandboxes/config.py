"""How a Docker sandbox is set up. The defaults are the locked-down ones; loosen them on purpose."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

IMAGE_VERSION = (Path(__file__).parent / "images" / "VERSION").read_text().strip()
DEFAULT_IMAGE = f"m1agent-sandbox:{IMAGE_VERSION}"

# Names that smell of credentials are never copied from the host, even when asked.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Settings of one sandbox container.

    ``memory`` is also the memory+swap limit, so the sandbox never swaps. ``work_size`` bounds the
    work volume, which is memory-backed (tmpfs), so filling it cannot fill the host's disk.
    ``env`` is the whole environment the sandbox gets besides a few harmless defaults; ``pass_env``
    copies named host variables, but refuses names that look like secrets.
    """

    image: str = DEFAULT_IMAGE
    runtime: str | None = None  # e.g. "runsc" for gVisor, when the engine has it
    user: str = "1000:1000"
    workdir: str = "/work"
    memory: str = "512m"
    cpus: float = 1.0
    pids_limit: int = 256
    tmp_size: str = "256m"
    work_size: str = "1g"
    network: str = "none"  # "none", or a Docker network name when the code must reach out
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # values may be sensitive
    pass_env: tuple[str, ...] = ()
    output_limit: int = 32_000  # bytes kept per stream (head and tail halves)
    max_read_bytes: int = 16 * 1024 * 1024
    max_write_bytes: int = 64 * 1024 * 1024
    max_copy_bytes: int = 256 * 1024 * 1024
    watchdog_grace: float = 5.0  # seconds past a command's timeout before the host steps in
    repo: str | None = None  # a host checkout to work on; never written to
    repo_mode: Literal["copy", "mount"] = "copy"
    repo_dest: str = "repo"
    repo_exclude: tuple[str, ...] = (".git", ".venv", "node_modules", "__pycache__", ".mypy_cache")
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def uid(self) -> int:
        return int(self.user.split(":")[0])

    @property
    def gid(self) -> int:
        parts = self.user.split(":")
        return int(parts[1]) if len(parts) > 1 else self.uid

    def environment(self) -> dict[str, str]:
        """The sandbox's environment: defaults, then ``env``, then allowed host variables."""
        result = {
            "HOME": "/tmp/home",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        result.update(self.env)
        for name in self.pass_env:
            if _SECRET_NAME.search(name):
                raise ValueError(
                    f"refusing to pass {name} into the sandbox: it looks like a secret; "
                    "give the value through SandboxConfig.env if it is really meant to be there"
                )
            if name in os.environ:
                result[name] = os.environ[name]
        return result


def parse_size(text: str) -> int:
    """``"512m"`` -> bytes (k, m, g suffixes, powers of 1024)."""
    text = text.strip().lower().rstrip("b")
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)
