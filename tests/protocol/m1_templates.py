"""The real M1 templates, read at test time, and Jinja set up the way transformers sets it up.

No template text is committed. The model's own template comes from the ``tokenizer_config.json`` of a
MiniMax-M1 release folder (``M1AGENT_TOKENIZER``, then the Hugging Face cache, then ``../shared/
m1-tokenizer``). vLLM's released template comes from the vllm 0.23.0 source release on PyPI, cached in
``.m1agent-test/`` by ``scripts/setup.d/50-vllm-template.sh`` (run here when the file is missing). The
unreleased main-branch version differs from the released one only in its two labels; it is derived
from it and checked against the digest recorded in ``golden/render_cases.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import jinja2.ext
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "render_cases.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
_HF_REPOS = ("models--MiniMaxAI--MiniMax-M1-80k", "models--MiniMaxAI--MiniMax-M1-40k")
NO_HF_TEMPLATE = (
    "MiniMax-M1's tokenizer_config.json was not found: set M1AGENT_TOKENIZER to a MiniMax-M1 release "
    "folder that holds it (e.g. the MiniMaxAI/MiniMax-M1-80k snapshot), or have that release in the "
    "Hugging Face cache"
)
VLLM_VERSION = "0.23.0"
VLLM_TEMPLATE = ROOT / ".m1agent-test" / f"vllm-{VLLM_VERSION}" / "tool_chat_template_minimax_m1.jinja"
VLLM_SETUP = ROOT / "scripts" / "setup.d" / "50-vllm-template.sh"
NO_VLLM_TEMPLATE = (
    f"vLLM's released M1 template is not cached and could not be fetched: run "
    f"scripts/setup.d/50-vllm-template.sh with PyPI reachable (it reads the vllm {VLLM_VERSION} sdist)"
)
# The special tokens apply_chat_template passes to every template, from the release's config.
SPECIAL_TOKENS = {"bos_token": "<beginning_of_sentence>", "eos_token": "<end_of_sentence>",
                  "unk_token": "<end_of_document>"}


def _unavailable(reason: str) -> Any:
    """Skip, or fail where CI promises M1's release files (M1AGENT_REQUIRE_TOKENIZER=1)."""
    if os.environ.get("M1AGENT_REQUIRE_TOKENIZER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def find_tokenizer_config() -> Path | None:
    """The release's ``tokenizer_config.json``, looked for where a self-hoster's machine has it."""
    candidates = []
    from_env = os.environ.get("M1AGENT_TOKENIZER")
    if from_env:
        path = Path(from_env).expanduser()
        candidates.append(path if path.is_dir() else path.parent)
    hub = os.environ.get("HF_HUB_CACHE") or str(
        Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface") / "hub"
    )
    for repo in _HF_REPOS:
        snapshots = Path(hub) / repo / "snapshots"
        if snapshots.is_dir():
            candidates.extend(sorted(snapshots.iterdir()))
    candidates.append(ROOT.parent / "shared" / "m1-tokenizer")
    return next((c / TOKENIZER_CONFIG for c in candidates if (c / TOKENIZER_CONFIG).is_file()), None)


@cache
def _hf_template() -> str | None:
    found = find_tokenizer_config()
    if found is None:
        return None
    template = json.loads(found.read_text(encoding="utf-8")).get("chat_template")
    return template if isinstance(template, str) else None


def hf_template() -> str:
    """MiniMax-M1's own chat template, or skip with the one reason."""
    template = _hf_template()
    return template if template is not None else _unavailable(NO_HF_TEMPLATE)


@cache
def _vllm_template() -> str | None:
    if not VLLM_TEMPLATE.is_file():
        subprocess.run(["bash", str(VLLM_SETUP)], cwd=ROOT, capture_output=True, timeout=600, check=False)
    return VLLM_TEMPLATE.read_text(encoding="utf-8") if VLLM_TEMPLATE.is_file() else None


def vllm_template() -> str:
    """The M1 template every vLLM release ships (0.9.2 to 0.23.0), or skip with the one reason."""
    template = _vllm_template()
    return template if template is not None else _unavailable(NO_VLLM_TEMPLATE)


def vllm_main_template() -> str:
    """The unreleased main-branch version: the released text with ``MiniMax AI`` for ``assistant``."""
    released = vllm_template()
    derived = released.replace("ai_setting=assistant", "ai_setting=MiniMax AI").replace(
        "ai name=assistant", "ai name=MiniMax AI"
    )
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))["template"]["sha256"]
    assert hashlib.sha256(derived.encode("utf-8")).hexdigest() == recorded
    return derived


class _GenerationTag(jinja2.ext.Extension):
    """transformers' ``{% generation %}`` tag (it marks assistant text for masks; output unchanged)."""

    tags: ClassVar[set[str]] = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_passthrough"), [], [], body).set_lineno(lineno)

    def _passthrough(self, caller: Any) -> str:
        return str(caller())


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


@cache
def compiled(template: str) -> jinja2.Template:
    """The template compiled as transformers' ``_compile_jinja_template`` compiles it."""
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template)


def apply_chat_template(
    template: str, messages: list[Any], tools: list[Any] | None, add_generation_prompt: bool
) -> str:
    """What ``apply_chat_template(messages, tools=tools, tokenize=False, ...)`` renders."""
    return compiled(template).render(
        messages=messages,
        tools=tools,
        documents=None,
        add_generation_prompt=add_generation_prompt,
        **SPECIAL_TOKENS,
    )
