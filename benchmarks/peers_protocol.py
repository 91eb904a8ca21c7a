"""Peer for ``bench_protocol.py``: vLLM's streaming ``minimax`` tool parser, outside vLLM.

Idempotent setup in ``benchmarks/.peers/vllm-minimax/`` (gitignored):
- a venv with the parser's own third-party imports (pydantic, regex, partial-json-parser);
- for each vLLM release below, its wheel fetched with ``pip download --no-deps`` and only
  ``vllm/entrypoints/openai/tool_parsers/{minimax_tool_parser,abstract_tool_parser,utils}.py`` unpacked;
- small stand-ins for the rest of the ``vllm`` package those files import (logger, request and delta
  models, id helpers), written by us; vLLM's parser code itself is run unchanged.
The parser is then driven by ``peer_vllm_minimax.py`` inside that venv, with the same per-delta
bookkeeping as vLLM's chat serving loop (``current_text = previous_text + delta``, token-id lists).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers" / "vllm-minimax"
VENV = PEERS / "venv"
PY = VENV / "bin" / "python"
# 0.10.0 carries the first parser (PR 20297); 0.11.0 the rewritten streaming one.
VERSIONS = {"vLLM 0.10.0 minimax (gen 1)": "0.10.0", "vLLM 0.11.0 minimax (gen 2)": "0.11.0"}
PARSER_DIR = "vllm/entrypoints/openai/tool_parsers"
NEEDED = ("minimax_tool_parser.py", "abstract_tool_parser.py", "utils.py")

Driver = Callable[[list[str], str, list[dict]], tuple[float, float, str]]

_STANDINS = {
    "vllm/__init__.py": "",
    "vllm/entrypoints/__init__.py": "",
    "vllm/entrypoints/openai/__init__.py": "",
    f"{PARSER_DIR}/__init__.py": "",
    "vllm/transformers_utils/__init__.py": "",
    "vllm/transformers_utils/tokenizer.py": "from typing import Any\nAnyTokenizer = Any\n",
    "vllm/logger.py": "import logging\n\ndef init_logger(name):\n    return logging.getLogger(name)\n",
    "vllm/utils/__init__.py": (
        "def import_from_path(name, path):\n    raise NotImplementedError\n\n"
        "def is_list_of(value, typ, *, check='first'):\n"
        "    return isinstance(value, list) and all(isinstance(v, typ) for v in value)\n"
    ),
    "vllm/entrypoints/chat_utils.py": (
        "import uuid\n\ndef random_tool_call_id():\n    return f'chatcmpl-tool-{uuid.uuid4().hex}'\n\n"
        "def make_tool_call_id(id_type='random', func_name=None, idx=None):\n    return random_tool_call_id()\n"
    ),
    "vllm/entrypoints/openai/protocol.py": '''
from typing import Literal, Optional
from pydantic import BaseModel, ConfigDict, Field
import uuid

class OpenAIBaseModel(BaseModel):
    model_config = ConfigDict(extra="allow")

class ChatCompletionRequest(OpenAIBaseModel):
    model: str = "MiniMaxAI/MiniMax-M1-80k"
    tools: Optional[list[dict]] = None
    tool_choice: Optional[str] = "auto"

class FunctionCall(OpenAIBaseModel):
    name: str
    arguments: str

class ToolCall(OpenAIBaseModel):
    id: str = Field(default_factory=lambda: f"chatcmpl-tool-{uuid.uuid4().hex}")
    type: Literal["function"] = "function"
    function: FunctionCall

class DeltaFunctionCall(BaseModel):
    name: Optional[str] = None
    arguments: Optional[str] = None

class DeltaToolCall(OpenAIBaseModel):
    id: Optional[str] = None
    type: Optional[Literal["function"]] = None
    index: int
    function: Optional[DeltaFunctionCall] = None

class DeltaMessage(OpenAIBaseModel):
    role: Optional[str] = None
    content: Optional[str] = None
    reasoning_content: Optional[str] = None
    tool_calls: list[DeltaToolCall] = Field(default_factory=list)

class ExtractedToolCallInformation(BaseModel):
    tools_called: bool
    tool_calls: list[ToolCall]
    content: Optional[str] = None
''',
}


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def setup() -> dict[str, Path]:
    """Make the peer environment if it is not there yet; return each version's package root."""
    if not PY.exists():
        _run([sys.executable, "-m", "venv", str(VENV)])
    check = subprocess.run([str(PY), "-c", "import pydantic, regex, partial_json_parser"], capture_output=True)
    if check.returncode:
        _run([str(PY), "-m", "pip", "install", "-q", "pydantic>=2", "regex", "partial-json-parser"])
    roots = {}
    for label, version in VERSIONS.items():
        root = PEERS / f"vllm-{version}"
        if not all((root / PARSER_DIR / name).exists() for name in NEEDED):
            wheels = PEERS / "wheels"
            found = sorted(wheels.glob(f"vllm-{version}-*.whl")) if wheels.exists() else []
            if not found:
                _run([str(PY), "-m", "pip", "download", "-q", "--no-deps", f"vllm=={version}", "-d", str(wheels)])
                found = sorted(wheels.glob(f"vllm-{version}-*.whl"))
            with zipfile.ZipFile(found[0]) as wheel:
                for name in NEEDED:
                    member = f"{PARSER_DIR}/{name}"
                    if member in wheel.namelist():
                        wheel.extract(member, root)
            for rel, body in _STANDINS.items():
                path = root / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    path.write_text(body)
        roots[label] = root
    return roots


def load() -> tuple[str, list[tuple[str, Driver]]]:
    """A note for RESULTS.md and one driver per parser generation (empty when setup failed)."""
    try:
        roots = setup()
    except (subprocess.CalledProcessError, OSError, IndexError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return f"not measured here: its environment could not be set up ({detail.strip()[:200]}).", []
    note = (
        "measured in this run: vLLM's own parser modules from the release wheels, driven as vLLM's chat "
        "serving loop drives them (`current_text = previous_text + delta`, token-id lists rebuilt per delta)."
    )
    return note, [(label, _driver(root)) for label, root in roots.items()]


def _driver(root: Path) -> Driver:
    def drive(pieces: list[str], text: str, expected: list[dict]) -> tuple[float, float, str]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=PEERS, delete=False) as handle:
            json.dump({"pieces": pieces, "expected": expected}, handle)
        try:
            done = subprocess.run(
                [str(PY), str(HERE / "peer_vllm_minimax.py"), str(root), handle.name],
                capture_output=True, text=True, check=True,
            )
        finally:
            Path(handle.name).unlink()
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return result["cpu"], result["loop_cpu"], result["check"]

    return drive
