"""The package installs with its namespace mapping and the console script answers."""

import importlib
import subprocess
import sys


def test_namespace_mapping() -> None:
    for name in ("m1agent.tools", "m1agent.policies", "m1agent.sandboxes"):
        module = importlib.import_module(name)
        assert module.__file__ is not None
        assert name.split(".")[1] in module.__file__


def test_console_script_version() -> None:
    out = subprocess.run([sys.executable, "-m", "m1agent", "version"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0.1.0"
