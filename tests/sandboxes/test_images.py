"""Any image with python3 works, not only ours: the agent is sent at start, never baked in."""

from __future__ import annotations

import io
from typing import Any

import pytest
from m1agent.sandboxes import DEFAULT_IMAGE, DockerSandbox, SandboxConfig, SandboxUnavailable

# Like a stock image: runs as root by default, no uid 1000 account, no /work folder.
PLAIN_DOCKERFILE = f"""
FROM {DEFAULT_IMAGE}
USER root
RUN sed -i '/^sandbox:/d' /etc/passwd /etc/group /etc/shadow && rmdir /work
WORKDIR /
"""
PLAIN_TAG = "m1agent-sandbox-test:plain"


@pytest.fixture(scope="module")
def plain_image(engine: Any) -> str:
    try:
        engine.images.get(PLAIN_TAG)
    except Exception:
        engine.images.build(fileobj=io.BytesIO(PLAIN_DOCKERFILE.encode()), tag=PLAIN_TAG, rm=True)
    return PLAIN_TAG


async def test_a_plain_image_works_with_the_same_guarantees(engine: Any, plain_image: str) -> None:
    async with DockerSandbox(SandboxConfig(image=plain_image), client=engine) as box:
        who = await box.run("id -u; pwd; echo $HOME")
        assert who.stdout.split() == ["1000", "/work", "/tmp/home"]
        await box.write_files({"x.txt": "data"})
        assert (await box.run("cat x.txt && touch y")).stdout == "data"
        assert (await box.run_python("2 ** 10")).stdout == "1024\n"
        assert (await box.run("touch /etc/evil")).exit_code != 0


NO_PYTHON_DOCKERFILE = f"""
FROM {DEFAULT_IMAGE}
USER root
RUN rm -f /usr/bin/python3* /usr/bin/python
USER 1000:1000
"""
NO_PYTHON_TAG = "m1agent-sandbox-test:no-python"


async def test_an_image_without_python_gets_a_clear_error(engine: Any) -> None:
    try:
        engine.images.get(NO_PYTHON_TAG)
    except Exception:
        engine.images.build(fileobj=io.BytesIO(NO_PYTHON_DOCKERFILE.encode()), tag=NO_PYTHON_TAG, rm=True)
    async with DockerSandbox(SandboxConfig(image=NO_PYTHON_TAG), client=engine) as box:
        with pytest.raises(SandboxUnavailable, match="needs python3"):
            await box.run("echo hi")
