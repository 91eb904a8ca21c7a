"""Labels on everything a sandbox creates, and the reaper that removes what a dead process left.

``atexit`` and signal handlers miss SIGKILL and the OOM killer, so each process, when it starts its
first sandbox, removes labelled containers and volumes whose owner process (same host, same PID
and same start time, so a reused PID does not count) is gone.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

LABEL = "m1agent.sandbox"
OWNER_HOST = "m1agent.owner.host"
OWNER_PID = "m1agent.owner.pid"
OWNER_START = "m1agent.owner.start"
SESSION = "m1agent.session"
CREATED = "m1agent.created"

_reaped_in_this_process = False
_reap_lock = threading.Lock()


def process_start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot), or "" when it is not running."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return ""


def owner_labels(session_id: str) -> dict[str, str]:
    """The labels that tie a container or volume to this process."""
    pid = os.getpid()
    return {
        LABEL: "1",
        SESSION: session_id,
        OWNER_HOST: socket.gethostname(),
        OWNER_PID: str(pid),
        OWNER_START: process_start_time(pid),
        CREATED: str(int(time.time())),
    }


def owner_is_gone(labels: dict[str, str]) -> bool:
    """True when the labels name a process on this host that no longer runs."""
    if labels.get(OWNER_HOST) != socket.gethostname():
        return False  # another machine's engine client: not ours to judge
    try:
        pid = int(labels.get(OWNER_PID, ""))
    except ValueError:
        return True
    started = process_start_time(pid)
    return not started or started != labels.get(OWNER_START, started)


@dataclass(frozen=True, slots=True)
class SandboxInfo:
    """One labelled container, as ``m1agent sandbox ls`` shows it."""

    name: str
    session: str
    status: str
    image: str
    owner_pid: str
    orphaned: bool
    created: float


def list_sandboxes(client: Any) -> list[SandboxInfo]:
    """Every labelled sandbox container on the engine."""
    result = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels or {}
        result.append(
            SandboxInfo(
                name=container.name,
                session=labels.get(SESSION, ""),
                status=container.status,
                image=(container.attrs.get("Config") or {}).get("Image", ""),
                owner_pid=labels.get(OWNER_PID, ""),
                orphaned=owner_is_gone(labels),
                created=float(labels.get(CREATED, "0") or 0),
            )
        )
    return result


def reap(client: Any, *, everything: bool = False) -> tuple[int, int]:
    """Remove orphaned (or, with ``everything``, all) labelled containers and volumes.

    Returns how many containers and volumes were removed.
    """
    containers = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        if everything or owner_is_gone(container.labels or {}):
            try:
                container.remove(force=True, v=True)
                containers += 1
            except Exception:  # already gone, or being removed by its owner: fine either way
                pass
    volumes = 0
    for volume in client.volumes.list(filters={"label": LABEL}):
        if everything or owner_is_gone(volume.attrs.get("Labels") or {}):
            try:
                volume.remove(force=True)
                volumes += 1
            except Exception:  # still in use by a container being torn down
                pass
    return containers, volumes


def reap_once(client: Any) -> None:
    """Reap orphans the first time this process starts a sandbox."""
    global _reaped_in_this_process
    with _reap_lock:
        if _reaped_in_this_process:
            return
        _reaped_in_this_process = True
    reap(client)
