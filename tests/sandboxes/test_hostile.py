"""Hostile code: each attack is contained, ends with a clear result, and the session stays usable."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import os
import socket
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from m1agent.sandboxes import DockerSandbox, SandboxConfig, UnsafeArchive
from m1agent.sandboxes.archive import extract_checked


async def still_usable(box: DockerSandbox) -> None:
    result = await box.run("echo alive", timeout=10)
    assert result.stdout == "alive\n", result


async def test_fork_bomb_is_contained_and_others_are_unharmed(box: DockerSandbox, engine: Any) -> None:
    async with DockerSandbox(client=engine) as neighbour:
        bomb = asyncio.create_task(box.run(":(){ :|:& };: ; sleep 30", timeout=3))
        await asyncio.sleep(1.5)
        calm = await neighbour.run("echo fine", timeout=10)
        result = await bomb
    assert calm.stdout == "fine\n"
    # The bomb runs into the pids limit, the timeout kills its whole process group.
    assert result.timed_out and result.duration < 5, result
    await still_usable(box)
    await asyncio.sleep(0.5)
    count = await box.run("ls -d /proc/[0-9]* | wc -l")
    assert int(count.stdout) < 12, count


async def test_memory_bomb_is_oom_killed(box: DockerSandbox) -> None:
    result = await box.run("python3 -c \"b = []\nwhile True: b.append(bytearray(16 << 20))\"", timeout=30)
    assert result.oom_killed and result.exit_code == 137, result
    assert "out of memory (limit 192m)" in result.note
    await still_usable(box)
    # A child killed for memory inside a longer script: the script goes on, and the result says why.
    script = "python3 -c 'bytearray(1 << 30)'; echo after $?"
    survived = await box.run(script, timeout=30)
    assert survived.oom_killed and survived.exit_code == 0 and survived.stdout == "after 137\n"


async def test_memory_bomb_in_the_repl_resets_it(box: DockerSandbox) -> None:
    result = await box.run_python("b = []\nwhile True:\n    b.append(bytearray(16 << 20))", timeout=30)
    assert result.oom_killed, result
    assert "out of memory" in result.note and "variables from earlier cells are gone" in result.note
    assert (await box.run_python("1 + 1")).stdout == "2\n"


async def test_cpu_spin_past_the_timeout(box: DockerSandbox) -> None:
    started = time.monotonic()
    result = await box.run("while :; do :; done", timeout=1)
    assert result.timed_out and time.monotonic() - started < 3
    await still_usable(box)


async def test_filling_the_disk_stops_at_the_volume_size(box: DockerSandbox) -> None:
    work = await box.run("dd if=/dev/zero of=big bs=1M count=500", timeout=30)
    assert work.exit_code != 0 and "No space left" in work.stderr
    tmp = await box.run("dd if=/dev/zero of=/tmp/big bs=1M count=500", timeout=30)
    assert tmp.exit_code != 0 and "No space left" in tmp.stderr
    await box.run("rm -f big /tmp/big")
    await still_usable(box)


async def test_no_network_to_the_internet_or_the_host(box: DockerSandbox, engine: Any) -> None:
    # The host as containers would reach it (the bridge gateway) and as its own name resolves.
    bridge = engine.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = bridge.get("Gateway") or str(ipaddress.ip_network(bridge["Subnet"])[1])
    host_ip = socket.gethostbyname(socket.gethostname())
    targets = ("1.1.1.1", gateway, host_ip)
    probe = (
        "import socket\n"
        f"for host in {targets!r}:\n"
        "    s = socket.socket(); s.settimeout(2)\n"
        "    try:\n"
        "        s.connect((host, 53)); print(host, 'connected')\n"
        "    except OSError as e:\n"
        "        print(host, 'blocked', e.errno)\n"
    )
    result = await box.run_python(probe)
    assert "connected" not in result.stdout
    assert result.stdout.count("blocked") == 3, result
    interfaces = await box.run("ls /sys/class/net")
    assert interfaces.stdout.split() == ["lo"]


async def test_no_docker_socket_and_no_secrets(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIMAX_API_KEY", "sk-secret-value-123")
    monkeypatch.setenv("HARMLESS", "visible")
    config = SandboxConfig(pass_env=("HARMLESS",))
    async with DockerSandbox(config, client=engine) as box:
        socket_check = await box.run("ls -l /var/run/docker.sock /run/docker.sock")
        environ = await box.run("cat /proc/1/environ")
        everything = await box.run("env; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'")
    assert socket_check.exit_code != 0 and "No such file" in socket_check.stderr
    assert environ.exit_code != 0 and "Permission denied" in environ.stderr
    assert "sk-secret-value-123" not in everything.stdout and "MINIMAX" not in everything.stdout
    assert "HARMLESS=visible" in everything.stdout
    with pytest.raises(ValueError, match="looks like a secret"):
        SandboxConfig(pass_env=("MINIMAX_API_KEY",)).environment()


async def test_no_way_to_gain_privileges(box: DockerSandbox) -> None:
    attempt = "import os\ntry:\n    os.setuid(0)\nexcept PermissionError:\n    print('denied')"
    setuid = await box.run_python(attempt)
    assert setuid.stdout == "denied\n"
    status = await box.run("grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status")
    fields = dict(line.split(":\t") for line in status.stdout.strip().splitlines())
    assert fields == {"CapPrm": "0000000000000000", "CapEff": "0000000000000000", "NoNewPrivs": "1"}
    # A set-uid copy of a shell gains nothing: the owner is the sandbox user, and no_new_privs holds.
    await box.run("cp /bin/sh ./suid-sh && chmod u+s ./suid-sh")
    assert (await box.run("./suid-sh -c 'id -u'")).stdout == "1000\n"


async def test_writing_outside_the_work_dir_fails(box: DockerSandbox) -> None:
    for target in ("/etc/evil", "/usr/bin/evil", "/evil", "/root/evil"):
        result = await box.run(f"echo x > {target}")
        assert result.exit_code != 0, target
        assert "Read-only file system" in result.stderr or "Permission denied" in result.stderr
    assert (await box.run("echo ok > inside && cat inside")).stdout == "ok\n"


async def test_a_hundred_megabytes_of_output(box: DockerSandbox) -> None:
    result = await box.run("head -c 100000000 /dev/zero | tr '\\0' a", timeout=60)
    assert result.exit_code == 0 and result.stdout_bytes == 100_000_000
    assert len(result.stdout) < box.config.output_limit + 100
    await still_usable(box)


async def test_zombies_are_reaped(box: DockerSandbox) -> None:
    # Orphans whose parent exits without waiting for them land on the container's init, which reaps them.
    spawn = (
        "import os, time\nfor _ in range(20):\n    if os.fork() == 0:\n        os._exit(0)\n"
        "time.sleep(0.2)\nopen('forked', 'w').close()\ntime.sleep(30)"
    )
    script = (
        f"python3 -c \"{spawn}\" & until [ -e forked ]; do sleep 0.05; done; "
        "grep -l '^State:.Z' /proc/*/status 2>/dev/null | wc -l"
    )
    zombies_while_alive = await box.run(script, timeout=20)
    assert int(zombies_while_alive.stdout) >= 1, zombies_while_alive
    await asyncio.sleep(0.5)
    after = await box.run("grep -l '^State:.Z' /proc/*/status 2>/dev/null | wc -l")
    assert int(after.stdout) == 0


async def test_a_hung_agent_is_caught_by_the_host_watchdog(box: DockerSandbox) -> None:
    # Freeze the in-container agent itself: only the host can notice and recover.
    started = time.monotonic()
    result = await box.run("kill -STOP $PPID; sleep 60", timeout=1)
    assert result.timed_out and "killed" in result.note
    assert time.monotonic() - started < 1 + box.config.watchdog_grace + 5
    await still_usable(box)


async def test_killing_every_process_loses_only_the_session_state(box: DockerSandbox) -> None:
    await box.write_files({"keep.txt": "still here"})
    assert (await box.run("python3 -c 'bytearray(1 << 30)'")).oom_killed  # an earlier, unrelated OOM kill
    result = await box.run("kill -9 -1")
    assert result.exit_code == 137 and "restarted" in result.note
    assert not result.oom_killed and "out of memory" not in result.note
    assert await box.read_file("keep.txt") == b"still here"
    await still_usable(box)


async def test_tarball_with_dotdot_members_writes_nothing(tmp_path: Path) -> None:
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        for name in ("top/fine.txt", "top/../../escaped.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchive, match="leaves its directory"):
        extract_checked(hostile.getvalue(), target)
    assert not (tmp_path / "escaped.txt").exists() and not (target / "fine.txt").exists()


async def test_links_leaving_the_folder_do_not_come_out(box: DockerSandbox, tmp_path: Path) -> None:
    await box.run("mkdir -p out && echo data > out/a.txt && ln -s /etc/passwd out/passwd")
    with pytest.raises(UnsafeArchive, match="points outside"):
        await box.copy_out("out", tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    await box.run("rm out/passwd && ln -s ../../.. out/up")
    with pytest.raises(UnsafeArchive):
        await box.copy_out("out", tmp_path / "dest")
    await box.run("rm out/up && ln -s a.txt out/alias")
    written = await box.copy_out("out", tmp_path / "dest")
    assert sorted(written) == ["a.txt", "alias"]
    assert os.readlink(tmp_path / "dest" / "alias") == "a.txt"
