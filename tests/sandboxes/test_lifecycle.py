"""Hardening flags as the engine sees them, labels, the orphan reaper and the warm pool."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from m1agent.sandboxes import DockerSandbox, SandboxConfig, SandboxPool, SandboxUnavailable
from m1agent.sandboxes.lifecycle import OWNER_PID, OWNER_START, SESSION, list_sandboxes, reap


async def test_container_is_locked_down(box: DockerSandbox, engine: Any) -> None:
    attrs = engine.api.inspect_container(box.container.id)
    host = attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"] and not host["Privileged"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["ReadonlyRootfs"] is True and "/tmp" in host["Tmpfs"]
    assert host["NetworkMode"] == "none" and not host["PortBindings"]
    assert host["Memory"] == host["MemorySwap"] == 192 * 1024 * 1024
    assert host["PidsLimit"] == 128 and host["NanoCpus"] == 1_000_000_000 and host["Init"] is True
    assert attrs["Config"]["User"] == "65534:65534"
    labels = attrs["Config"]["Labels"]
    assert labels[OWNER_PID] == str(os.getpid()) and labels[SESSION] == box.session_id
    assert not any("docker.sock" in bind for bind in host["Binds"] or [])


async def test_close_removes_container_and_volume(engine: Any) -> None:
    box = DockerSandbox(client=engine)
    await box.start()
    container_id, volume = box.container.id, box.volume.name
    started = time.monotonic()
    await box.close()
    assert time.monotonic() - started < 5
    assert not engine.containers.list(all=True, filters={"id": container_id})
    assert not engine.volumes.list(filters={"name": volume})
    await box.close()  # twice is fine


async def test_reaper_removes_sandboxes_of_dead_processes(engine: Any) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan_labels = {OWNER_PID: str(dead.pid), OWNER_START: "1"}
    orphan = DockerSandbox(SandboxConfig(labels=orphan_labels), client=engine)
    await orphan.start()
    async with DockerSandbox(client=engine) as alive:
        listed = {info.session: info for info in list_sandboxes(engine)}
        assert not listed[alive.session_id].orphaned
        assert orphan.session_id not in listed or listed[orphan.session_id].orphaned  # (or reaped already)
        # Another process's start-up reaper may get there first, so check what is left, not counts.
        await asyncio.to_thread(reap, engine)
        assert not engine.volumes.list(filters={"name": orphan.volume.name})
        sessions = {info.session for info in list_sandboxes(engine)}
        assert orphan.session_id not in sessions and alive.session_id in sessions
        assert (await alive.run("echo ok")).stdout == "ok\n"
    await orphan.close()  # already reaped: closing is still fine


async def test_warm_pool_hands_out_fresh_sandboxes_once(engine: Any) -> None:
    async with SandboxPool(size=1, client=engine) as pool:
        first = await pool.acquire()
        await first.run("echo secret > left-behind.txt")
        await first.close()
        await pool.wait_ready()  # the replacement warms up in the background
        started = time.monotonic()
        second = await pool.acquire()
        quick = time.monotonic() - started
        assert second.session_id != first.session_id
        assert (await second.run("ls")).stdout == ""  # nothing from the previous task
        await second.close()
    assert quick < 0.5, quick


async def test_many_sandboxes_at_once(engine: Any) -> None:
    boxes = [DockerSandbox(client=engine) for _ in range(3)]
    await asyncio.gather(*(b.start() for b in boxes))
    try:
        results = await asyncio.gather(*(b.run(f"echo {i} > f && cat f") for i, b in enumerate(boxes)))
        assert [r.stdout for r in results] == ["0\n", "1\n", "2\n"]
    finally:
        await asyncio.gather(*(b.close() for b in boxes))


async def test_runtime_is_a_setting_and_failures_leave_nothing(engine: Any) -> None:
    async with DockerSandbox(SandboxConfig(runtime="runc"), client=engine) as box:
        assert engine.api.inspect_container(box.container.id)["HostConfig"]["Runtime"] == "runc"
    before = len(engine.volumes.list(filters={"label": "m1agent.sandbox"}))
    for config, message in (
        (SandboxConfig(image="m1agent-sandbox:no-such-tag"), "is missing"),
        (SandboxConfig(runtime="no-such-runtime"), "did not start"),
    ):
        broken = DockerSandbox(config, client=engine)
        with pytest.raises(SandboxUnavailable, match=message):
            await broken.start()
        await broken.close()
    assert len(engine.volumes.list(filters={"label": "m1agent.sandbox"})) == before


OWNER_SCRIPT = """
import asyncio, sys, time
from m1agent.sandboxes import DockerSandbox
box = DockerSandbox()
asyncio.run(box.start())
print(box.name, flush=True)
if sys.argv[1] == "hang":
    time.sleep(600)
"""


async def test_owners_that_exit_or_are_killed_leave_nothing_for_long(engine: Any) -> None:
    # A normal exit without close(): removed at exit.
    done = subprocess.run([sys.executable, "-c", OWNER_SCRIPT, "exit"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not engine.containers.list(all=True, filters={"name": done.stdout.strip()})
    # SIGKILL skips every handler: the container stays until a reaper sees its owner is gone.
    owner = subprocess.Popen([sys.executable, "-c", OWNER_SCRIPT, "hang"], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    name = (await asyncio.to_thread(owner.stdout.readline)).strip()
    assert engine.containers.list(all=True, filters={"name": name})
    owner.kill()
    owner.wait()
    await asyncio.to_thread(reap, engine)
    assert not engine.containers.list(all=True, filters={"name": name})
    assert not engine.volumes.list(filters={"name": f"{name}-work"})
