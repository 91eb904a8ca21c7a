"""The sandbox agent: the code that runs inside the container, shipped as source at each start.

The host runs ``python3 -S -c <boot_source()>`` in one ``docker exec`` and keeps its socket open.
The boot script holds these modules' sources and imports them from memory as the package
``m1box``, so any image with ``python3`` (>= 3.8) works and nothing is baked in. The modules keep
to the standard library and to Python 3.8 idioms; this file is the only one that runs on the host.
"""

from __future__ import annotations

from pathlib import Path

MODULES = ("processes", "shell", "repl", "modules", "main")
PACKAGE = "m1box"

# Plain finder and loader classes: importing importlib.abc would pull in importlib.resources,
# pathlib and more, about 30 ms of the agent's start.
_BOOT = """\
import sys
from importlib.machinery import ModuleSpec
SOURCES = %r
class Loader:
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        name = module.__name__
        exec(compile(SOURCES[name], "<%%s>" %% name, "exec"), module.__dict__)
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name not in SOURCES:
            return None
        return ModuleSpec(name, Loader(), is_package=name == %r)
sys.meta_path.insert(0, Finder())
from m1box.main import main
main()
"""


def boot_source() -> str:
    """The one-argument program that starts the agent inside the container."""
    here = Path(__file__).parent
    sources = {PACKAGE: ""} | {f"{PACKAGE}.{name}": (here / f"{name}.py").read_text() for name in MODULES}
    return _BOOT % (sources, PACKAGE)
