"""Commands and the notebook-like Python session, against the real engine."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest
from m1agent.sandboxes import DockerSandbox, SandboxConfig, SandboxTimeout

from m1agent.errors import M1AgentError
from m1agent.sandbox import Sandbox

LIST_PROCESSES = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"


async def processes(box: DockerSandbox) -> str:
    """The command lines of every process the sandbox user can see."""
    return (await box.run(LIST_PROCESSES)).stdout


async def test_shell_exit_code_streams_and_stdin(box: DockerSandbox) -> None:
    assert isinstance(box, Sandbox)
    ok = await box.run("echo out; echo err >&2; exit 3")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (3, "out\n", "err\n")
    assert (ok.stdout_bytes, ok.stderr_bytes) == (4, 4)
    piped = await box.run("tr a-z A-Z", stdin="hello")
    assert piped.stdout == "HELLO"
    where = await box.run("pwd; id -u")
    assert where.stdout.split() == ["/work", "1000"]


async def test_python_state_persists_like_a_notebook(box: DockerSandbox) -> None:
    first = await box.run_python("import math\nx = 20\ndef double(v):\n    return 2 * v")
    assert first.exit_code == 0 and first.stdout == ""
    second = await box.run_python("print('side'); double(x) + math.floor(1.5)")
    assert second.stdout == "side\n41\n"
    failed = await box.run_python("1 / 0")
    assert failed.exit_code == 1 and "ZeroDivisionError" in failed.stderr
    assert (await box.run_python("x")).stdout == "20\n"


async def test_python_timeout_interrupts_and_keeps_variables(box: DockerSandbox) -> None:
    await box.run_python("kept = 'yes'")
    result = await box.run_python("while True:\n    pass", timeout=1)
    assert result.timed_out and "KeyboardInterrupt" in result.stderr
    assert "kept" in result.note
    assert (await box.run_python("kept")).stdout == "'yes'\n"


async def test_python_that_ignores_interrupts_is_killed_and_reset(box: DockerSandbox) -> None:
    await box.run_python("lost = 1")
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    result = await box.run_python(stubborn, timeout=1)
    assert result.timed_out and ("restarted" in result.note or "reset" in result.note)
    after = await box.run_python("'lost' in globals()")
    assert after.stdout == "False\n"


async def test_output_is_capped_keeping_head_and_tail(engine: Any) -> None:
    config = SandboxConfig(output_limit=1000)
    async with DockerSandbox(config, client=engine) as box:
        result = await box.run("echo START; seq 1 100000; echo END")
    assert result.stdout.startswith("START\n") and result.stdout.endswith("END\n")
    assert result.stdout_bytes == len("START\nEND\n") + sum(len(f"{i}\n") for i in range(1, 100001))
    assert "bytes omitted" in result.stdout and len(result.stdout) < 1100
    assert result.truncated


async def test_commands_run_concurrently_in_one_sandbox(box: DockerSandbox) -> None:
    started = time.monotonic()
    results = await asyncio.gather(*(box.run(f"sleep 1; echo {i}") for i in range(4)))
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(4)]
    assert time.monotonic() - started < 3.5


async def test_background_processes_end_with_their_command(box: DockerSandbox) -> None:
    result = await box.run("sleep 300 & echo started", timeout=10)
    assert result.stdout == "started\n" and result.duration < 5
    assert "sleep 300" not in await processes(box)


async def test_cancelling_a_call_kills_its_command(box: DockerSandbox) -> None:
    task = asyncio.create_task(box.run("sleep 30; echo never", timeout=60))
    await asyncio.sleep(0.5)
    task.cancel()
    await asyncio.sleep(0.3)
    assert "sleep 30" not in await processes(box)


async def test_a_fresh_python_process_starts_in_the_given_folder(box: DockerSandbox) -> None:
    await box.run("mkdir -p /work/sub")
    assert (await box.run_python("import os\nos.getcwd()", cwd="/work/sub")).stdout == "'/work/sub'\n"
    await box.run_python("os.chdir('/tmp')", cwd="/work/sub")
    assert (await box.run_python("os.getcwd()", cwd="/work/sub")).stdout == "'/tmp'\n"  # a running one keeps its own
    died = await box.run_python("os._exit(3)", cwd="/work/sub")
    assert "restarted" in died.note
    assert (await box.run_python("import os\nos.getcwd()", cwd="/work/sub")).stdout == "'/work/sub'\n"


HELPER = "import os\n\ndef handle(request):\n    if request == 'boom':\n        raise ValueError('no')\n" \
    "    if request == 'slow':\n        import time\n        time.sleep(3)\n    return [os.getpid(), request]\n"


async def test_resident_modules_run_in_the_agent_without_a_process(box: DockerSandbox) -> None:
    await box.run("true")
    channel: Any = box._channel
    # Whoever writes to the agent first, a key only ever loads the source it is the hash of.
    key = hashlib.sha256(HELPER.encode()).hexdigest()
    _, forged = channel.request("module", module=key, source="def handle(r):\n    return 'forged'\n", request=1)
    assert "does not match its key" in forged.result(timeout=10)["error"]
    first = await box.run_module(HELPER, {"x": 1})
    second = await box.run_module(HELPER, "again")
    assert first[1] == {"x": 1} and second[1] == "again"
    assert first[0] == second[0] == channel.ready.result()["pid"]
    with pytest.raises(M1AgentError, match="ValueError: no"):
        await box.run_module(HELPER, "boom")
    with pytest.raises(SandboxTimeout):
        await box.run_module(HELPER, "slow", timeout=0.5)
    # A slow module call leaves the agent and its commands alone.
    assert (await box.run("echo still here")).stdout == "still here\n"
    assert (await box.run_module(HELPER, 2))[0] == first[0]
