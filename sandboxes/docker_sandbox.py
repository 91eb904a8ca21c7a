"""``DockerSandbox``: one long-lived, locked-down container per agent session.

Commands do not pay a ``docker exec`` each: one exec starts the in-container agent
(``sandboxes/inside/``, passed on its command line, so any image with ``python3`` works), and
commands travel to it as JSON lines over that exec's socket. The container's own processes run as
``nobody``, the code as the sandbox user, so the code cannot kill the container or read its init's
environment; when the agent dies or hangs, the host kills the sandbox user's processes and starts a
fresh agent while the container and its work volume stay.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import hashlib
import threading
import time
import uuid
import weakref
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from m1agent.errors import M1AgentError
from m1agent.sandbox import CommandResult

from .channel import AgentChannel, AgentLost
from .config import SandboxConfig
from .errors import SandboxTimeout, SandboxUnavailable
from .files import SandboxFiles
from .inside import boot_source
from .lifecycle import owner_labels, reap_once
from .repos import REPO_MOUNT, SandboxRepos

AGENT_SOURCE = boot_source()
CONTAINER_USER = "65534:65534"  # init and the keep-alive: not the code's uid, so out of its reach
AGENT_START_TIMEOUT = 30.0
PY_INTERRUPT_WINDOW = 1.0  # as in inside/repl.py: how long a cell has to stop after KeyboardInterrupt


@functools.lru_cache(maxsize=32)
def _module_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


_shared_client: Any = None
_live: weakref.WeakSet[DockerSandbox] = weakref.WeakSet()


@atexit.register
def _remove_unclosed() -> None:
    # A normal exit without close(): clean up now rather than wait for the next process's reaper.
    for sandbox in list(_live):
        sandbox._remove_sync()


def docker_client() -> Any:
    """A client for the local engine (shared by this process), or ``SandboxUnavailable``."""
    global _shared_client
    if _shared_client is not None:
        return _shared_client
    import docker

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:
        raise SandboxUnavailable(f"cannot reach the Docker engine: {exc}") from exc
    _shared_client = client
    return client


class DockerSandbox(SandboxFiles, SandboxRepos):
    """A sandbox session. Use ``async with DockerSandbox(config) as box:`` or ``start``/``close``."""

    def __init__(
        self, config: SandboxConfig | None = None, *, client: Any = None, session_id: str | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self.session_id = session_id or uuid.uuid4().hex[:12]
        self._client = client
        self.container: Any = None
        self.volume: Any = None
        self._channel: AgentChannel | None = None
        self._snapshot: dict[str, bytes] | None = None
        self._closed = False
        self._recover_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self.container is not None else "new")
        return f"DockerSandbox(session={self.session_id!r}, image={self.config.image!r}, {state})"

    @property
    def name(self) -> str:
        return f"m1agent-sandbox-{self.session_id}"

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> DockerSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Create the work volume and the container, and start the in-container agent."""
        await asyncio.to_thread(self._start_sync)

    def _start_sync(self) -> None:
        if self._client is None:
            self._client = docker_client()
        reap_once(self._client)
        import docker.errors

        cfg = self.config
        api = self._client.api
        labels = {**owner_labels(self.session_id), **cfg.labels}
        # The low-level API saves the inspect calls the high-level one makes on every step.
        volume = api.create_volume(
            f"{self.name}-work",
            driver="local",
            driver_opts={
                "type": "tmpfs",
                "device": "tmpfs",
                "o": f"size={cfg.work_size},uid={cfg.uid},gid={cfg.gid},mode=0755",
            },
            labels=labels,
        )
        self.volume = self._client.volumes.prepare_model(volume)
        binds: dict[str, dict[str, str]] = {volume["Name"]: {"bind": cfg.workdir, "mode": "rw"}}
        if cfg.repo and cfg.repo_mode == "mount":
            binds[str(Path(cfg.repo).resolve())] = {"bind": REPO_MOUNT, "mode": "ro"}
        try:
            host_config = api.create_host_config(
                binds=binds,
                read_only=True,
                tmpfs={"/tmp": f"rw,nosuid,nodev,noexec,size={cfg.tmp_size},mode=1777"},
                network_mode=cfg.network,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                pids_limit=cfg.pids_limit,
                mem_limit=cfg.memory,
                memswap_limit=cfg.memory,
                nano_cpus=int(cfg.cpus * 1e9),
                init=True,
                runtime=cfg.runtime,
                ipc_mode="private",
            )
            try:
                created = api.create_container(
                    cfg.image,
                    ["sleep", "infinity"],
                    name=self.name,
                    user=CONTAINER_USER,
                    working_dir=cfg.workdir,
                    environment=cfg.environment(),
                    labels=labels,
                    host_config=host_config,
                    network_disabled=cfg.network == "none",
                )
            except docker.errors.ImageNotFound as exc:
                raise SandboxUnavailable(f"the sandbox image {cfg.image} is missing") from exc
            self.container = self._client.containers.prepare_model({"Id": created["Id"]})
            _live.add(self)
            api.start(created["Id"])
            # Commands wait for the agent; until then its start overlaps with the caller's own work.
            self._spawn_agent(wait=False)
            if cfg.repo:
                self._open_repo_sync(Path(cfg.repo), mounted=cfg.repo_mode == "mount")
        except Exception as exc:
            self._remove_sync()
            if isinstance(exc, M1AgentError):
                raise
            raise SandboxUnavailable(f"the sandbox container did not start: {exc}") from exc

    def _spawn_agent(self, *, wait: bool = True) -> AgentChannel:
        """Launch the in-container agent; without ``wait``, the first command waits for it instead."""
        api = self._client.api
        exec_id = api.exec_create(
            self.container.id,
            ["python3", "-S", "-c", AGENT_SOURCE],  # -S: the agent needs only the standard library
            stdin=True,
            stdout=True,
            stderr=True,
            user=self.config.user,
            workdir=self.config.workdir,
            environment=self.config.environment(),
        )["Id"]
        channel = AgentChannel(api.exec_start(exec_id, socket=True))
        self._channel = channel
        if wait:
            try:
                channel.ready.result(timeout=AGENT_START_TIMEOUT)
            except (AgentLost, FutureTimeout) as exc:
                raise self._agent_failed(channel, exc) from exc
        return channel

    def _agent_failed(self, channel: AgentChannel, exc: BaseException) -> SandboxUnavailable:
        channel.close()
        self._channel = None
        return SandboxUnavailable(
            f"the sandbox agent did not start in {self.config.image} ({exc or 'no answer'}); the image needs python3"
        )

    def _recover(self, stale: AgentChannel | None = None) -> None:
        """Kill every process of the sandbox user, then start a fresh agent.

        ``stale`` is the channel the caller saw fail; if another caller already replaced it, the
        fresh agent is kept rather than killed again.
        """
        with self._recover_lock:
            if self._channel is not None and self._channel is not stale and self._channel.alive:
                return
            if self._channel is not None:
                self._channel.close()
                self._channel = None
            try:
                if not self._client.api.inspect_container(self.container.id)["State"]["Running"]:
                    self.container.start()
                else:
                    self.container.exec_run(["kill", "-9", "-1"], user=self.config.user)
                self._spawn_agent()
            except M1AgentError:
                raise
            except Exception as exc:
                raise SandboxUnavailable(
                    f"the sandbox container is gone or broken ({exc})", hint="close it and open a new sandbox"
                ) from exc

    async def close(self) -> None:
        """Remove the container and its work volume. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        await asyncio.to_thread(self._remove_sync)

    def _remove_sync(self) -> None:
        _live.discard(self)
        # Either may already be gone (removed by `sandbox prune`, or never created): fine.
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.remove(force=True)
        if self.volume is not None:
            with contextlib.suppress(Exception):
                self.volume.remove(force=True)

    # --- commands ----------------------------------------------------------------------------

    async def run(self, cmd: str, timeout: float = 60.0, stdin: str | None = None) -> CommandResult:
        """Run ``cmd`` with bash in the work dir; everything it started is killed when it ends."""
        return await self._call("sh", timeout, cmd=cmd, stdin=stdin)

    async def run_python(self, code: str, timeout: float = 60.0, cwd: str | None = None) -> CommandResult:
        """Run ``code`` in the session's Python process; variables persist between calls. A fresh
        process (the first, or one restarted after a kill) starts in ``cwd`` (default: the work dir)."""
        return await self._call("py", timeout, code=code, cwd=cwd)

    async def run_module(self, source: str, request: Any, timeout: float = 60.0) -> Any:
        """``handle(request)`` of ``source`` (a standard-library module), run in the resident agent.

        The source travels once per agent; later calls send only its key, so a call costs about
        what a JSON round trip does. ``SandboxTimeout`` after ``timeout`` seconds.
        """
        key = _module_key(source)
        channel = await self._ready_channel()
        fields: dict[str, Any] = {"module": key, "request": request}
        if key not in channel.modules:
            fields["source"] = source
        _, future = channel.request("module", **fields)
        try:
            reply = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            # The agent cannot stop a thread; it finishes on its own while commands go on.
            raise SandboxTimeout(f"the sandbox did not answer within {timeout:g} s") from None
        except AgentLost:
            await asyncio.to_thread(self._recover_after_loss, channel)
            raise
        if "error" in reply:
            raise M1AgentError(f"the sandbox agent failed: {reply['error']}")
        channel.modules.add(key)
        return reply["reply"]

    async def _ready_channel(self) -> AgentChannel:
        """The agent's channel once it answers, restarting the agent when it is gone."""
        if self._closed or self.container is None:
            raise SandboxUnavailable("the sandbox is not running", hint="start it first, or open a new one")
        if self._channel is None or not self._channel.alive:
            await asyncio.to_thread(self._recover, self._channel)
        channel = self._channel
        assert channel is not None
        if not channel.ready.done():
            try:
                await asyncio.wait_for(asyncio.wrap_future(channel.ready), AGENT_START_TIMEOUT)
            except (AgentLost, TimeoutError) as exc:
                raise self._agent_failed(channel, exc) from exc
        return channel

    async def _call(self, op: str, timeout: float, **fields: Any) -> CommandResult:
        started = time.monotonic()
        channel = await self._ready_channel()
        request_id, future = channel.request(op, timeout=timeout, cap=self.config.output_limit, **fields)
        try:
            # A Python cell gets its KeyboardInterrupt second before the agent kills it itself.
            backstop = timeout + self.config.watchdog_grace + (PY_INTERRUPT_WINDOW if op == "py" else 0)
            reply = await asyncio.wait_for(asyncio.wrap_future(future), backstop)
        except TimeoutError:
            await asyncio.to_thread(self._recover, channel)
            note = "the command did not stop in time and every process in the sandbox was killed"
            return _lost(started, note + ("; the Python state was reset" if op == "py" else ""), timed_out=True)
        except AgentLost:
            oom = await asyncio.to_thread(self._recover_after_loss, channel)
            note = "the sandbox's processes were killed and restarted; the Python state was reset"
            return _lost(started, (f"killed: out of memory (limit {self.config.memory}); " if oom else "") + note, oom)
        except asyncio.CancelledError:
            if channel.alive:
                channel.request("cancel", target=request_id)
            raise
        if "error" in reply:
            raise M1AgentError(f"the sandbox agent failed: {reply['error']}")
        note = reply.get("note", "")
        if reply.get("oom_killed"):
            note = f"killed: out of memory (limit {self.config.memory})" + (f"; {note}" if note else "")
        return CommandResult(
            exit_code=int(reply["exit"]),
            stdout=reply["stdout"],
            stderr=reply["stderr"],
            stdout_bytes=int(reply["stdout_bytes"]),
            stderr_bytes=int(reply["stderr_bytes"]),
            timed_out=bool(reply["timed_out"]),
            oom_killed=bool(reply["oom_killed"]),
            duration=float(reply["duration"]),
            note=note,
        )

    def _recover_after_loss(self, stale: AgentChannel) -> bool:
        """Restart the agent after it died; True when the memory limit was what killed it."""
        seen = stale.oom_kills_seen
        oom = seen >= 0 and self._oom_kills() > seen
        self._recover(stale)
        return oom

    def _oom_kills(self) -> int:
        result = self.container.exec_run(
            ["sh", "-c", "grep -h '^oom_kill ' /sys/fs/cgroup/memory.events "
             "/sys/fs/cgroup/memory/memory.oom_control 2>/dev/null | head -n1"],
            user=CONTAINER_USER,
        )
        try:
            return int(result.output.split()[1])
        except (IndexError, ValueError):
            return 0


def _lost(started: float, note: str, oom: bool = False, timed_out: bool = False) -> CommandResult:
    """The result of a command whose agent had to be restarted: no output survives."""
    duration = time.monotonic() - started
    return CommandResult(137, "", "", timed_out=timed_out, oom_killed=oom, duration=duration, note=note)
