"""A warm pool: sandboxes started ahead of time, each handed out once and then thrown away.

Handing a used container to the next task would leak files, processes and Python state between
tasks, so a sandbox from the pool is never returned to it; the pool starts a fresh one instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .config import SandboxConfig
from .docker_sandbox import DockerSandbox


class SandboxPool:
    """Keeps ``size`` started sandboxes ready. ``acquire`` hands one out and starts a replacement."""

    def __init__(self, config: SandboxConfig | None = None, *, size: int = 1, client: Any = None) -> None:
        if size < 1:
            raise ValueError("a pool needs a size of at least 1")
        self.config = config or SandboxConfig()
        self.size = size
        self._client = client
        self._ready: asyncio.Queue[asyncio.Task[DockerSandbox]] = asyncio.Queue()
        self._closed = False

    async def __aenter__(self) -> SandboxPool:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Begin warming ``size`` sandboxes (returns at once; they start in the background)."""
        for _ in range(self.size - self._ready.qsize()):
            self._refill()

    def _refill(self) -> None:
        box = DockerSandbox(self.config, client=self._client)
        self._ready.put_nowait(asyncio.ensure_future(self._started(box)))

    @staticmethod
    async def _started(box: DockerSandbox) -> DockerSandbox:
        await box.start()
        return box

    async def wait_ready(self) -> None:
        """Wait until every warm sandbox has started (or failed to)."""
        tasks = list(self._ready._queue)  # type: ignore[attr-defined]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def acquire(self) -> DockerSandbox:
        """A started sandbox for one task; close it when done (it is not reused)."""
        if self._closed:
            raise RuntimeError("the sandbox pool is closed")
        if self._ready.empty():
            self._refill()
        task = self._ready.get_nowait()
        self._refill()
        return await task

    async def close(self) -> None:
        """Remove every warm sandbox not handed out."""
        self._closed = True
        while not self._ready.empty():
            task = self._ready.get_nowait()
            with contextlib.suppress(Exception):
                box = await task
                await box.close()
