"""``m1agent sandbox ls|prune|build`` against the real engine."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from m1agent.sandboxes import DockerSandbox, SandboxConfig
from m1agent.sandboxes.lifecycle import OWNER_PID, OWNER_START
from typer.testing import CliRunner

from m1agent.cli.app import app

runner = CliRunner()


async def test_ls_shows_sandboxes_and_prune_removes_orphans(engine: Any) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = DockerSandbox(SandboxConfig(labels={OWNER_PID: str(dead.pid), OWNER_START: "1"}), client=engine)
    await orphan.start()
    async with DockerSandbox(client=engine) as alive:
        listing = runner.invoke(app, ["sandbox", "ls"])
        assert listing.exit_code == 0, listing.output
        lines = {line.split()[0]: line for line in listing.output.splitlines()[1:]}
        assert " gone " not in lines[alive.name]
        assert " gone " in lines.get(orphan.name, " gone ")  # another process's reaper may have removed it
        pruned = runner.invoke(app, ["sandbox", "prune"])
        assert pruned.exit_code == 0 and re.search(r"removed \d+ containers and \d+ volumes", pruned.output)
        assert orphan.name not in runner.invoke(app, ["sandbox", "ls"]).output
    await orphan.close()


def test_build_skips_an_existing_image(engine: Any) -> None:
    result = runner.invoke(app, ["sandbox", "build"])
    assert result.exit_code == 0 and "already built" in result.output
    bad = runner.invoke(app, ["sandbox", "build", "--method", "nonsense"])
    assert bad.exit_code != 0
