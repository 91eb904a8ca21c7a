"""Finding a tokenizer: a path, ``M1AGENT_TOKENIZER``, a cached Hugging Face snapshot, a server, or an estimate."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from m1agent.tokens.approx import ApproxCounter
from m1agent.tokens.base import TokenCounter, TokenizerError
from m1agent.tokens.bpe import MERGES_FILE, BPECounter
from m1agent.tokens.server import ServerCounter

if TYPE_CHECKING:
    from m1agent.messages import Message, ToolSpec

log = logging.getLogger("m1agent.tokens")

ENV_VAR = "M1AGENT_TOKENIZER"
TOKENIZER_JSON = "tokenizer.json"
_HF_REPOS = ("models--MiniMaxAI--MiniMax-M1-80k", "models--MiniMaxAI--MiniMax-M1-40k")


class HFTokenizerCounter:
    """Exact counts from a ``tokenizer.json`` through the optional ``tokenizers`` package."""

    exact = True

    def __init__(self, path: Path) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise TokenizerError(
                f"{path} needs the 'tokenizers' package to load",
                hint="pip install tokenizers, or point at a directory holding merges.txt instead",
            ) from None
        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as error:  # the Rust loader raises plain Exception subclasses
            raise TokenizerError(f"cannot load {path}: {error}") from None
        self.name = f"hf-tokenizer:{path}"

    def count(self, text: str) -> int:
        """Tokens in ``text``; added-token strings count as one each."""
        return len(self.encode(text))

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: list[int]) -> str:
        """The text of ``ids``."""
        return str(self._tokenizer.decode(ids, skip_special_tokens=False))


def counter_from_path(path: str | os.PathLike[str]) -> TokenCounter:
    """The exact counter for a model directory, a ``merges.txt`` or a ``tokenizer.json``.

    A directory holding both files is read through ``merges.txt`` (faster, no extra dependency).
    """
    target = Path(path).expanduser()
    if not target.exists():
        raise TokenizerError(f"tokenizer path {target} does not exist")
    if target.is_dir():
        if (target / MERGES_FILE).is_file():
            return BPECounter.from_merges(target / MERGES_FILE)
        if (target / TOKENIZER_JSON).is_file():
            return HFTokenizerCounter(target / TOKENIZER_JSON)
        raise TokenizerError(f"{target} holds neither {MERGES_FILE} nor {TOKENIZER_JSON}")
    if target.suffix == ".json":
        return HFTokenizerCounter(target)
    return BPECounter.from_merges(target)


def _hugging_face_snapshot() -> Path | None:
    """A MiniMax-M1 snapshot already in the local Hugging Face cache, as vLLM self-hosters have."""
    hub = os.environ.get("HF_HUB_CACHE") or str(
        Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface") / "hub"
    )
    for repo in _HF_REPOS:
        snapshots = Path(hub) / repo / "snapshots"
        if snapshots.is_dir():
            for snapshot in sorted(snapshots.iterdir()):
                if (snapshot / MERGES_FILE).is_file():
                    return snapshot
    return None


def _server_counter(server_url: str, model: str | None) -> TokenCounter:
    counter = ServerCounter(server_url, model=model)
    try:
        counter.count("<end_of_sentence>")
    except TokenizerError as error:
        counter.close()
        log.warning("token counts are estimates: %s", error)
        return ApproxCounter(reason=f"{counter.url} unavailable")
    return counter


def load_counter(
    path: str | os.PathLike[str] | None = None, *, server_url: str | None = None, model: str | None = None
) -> TokenCounter:
    """The best M1 token counter available, tried in this order:

    1. ``path``: a model directory holding ``merges.txt`` (or ``tokenizer.json`` with ``tokenizers``
       installed), or one of those files. A bad path is an error, never a silent fallback.
    2. The ``M1AGENT_TOKENIZER`` environment variable, read the same way.
    3. A MiniMax-M1 snapshot in the local Hugging Face cache.
    4. ``server_url``: a vLLM server's ``POST /tokenize`` (``model`` names the served model). If the server
       does not answer, a warning is logged and the estimate below is used.
    5. :class:`ApproxCounter`, an estimate that over-counts (``exact`` is False).
    """
    if path is not None:
        return counter_from_path(path)
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        try:
            return counter_from_path(from_env)
        except TokenizerError as error:
            raise TokenizerError(f"{ENV_VAR}={from_env}: {error.args[0]}", hint=error.hint) from None
    snapshot = _hugging_face_snapshot()
    if snapshot is not None:
        return counter_from_path(snapshot)
    if server_url:
        return _server_counter(server_url, model)
    return ApproxCounter()


def count_messages(
    messages: Sequence[Mapping[str, Any]] | Sequence[Message],
    tools: Sequence[Mapping[str, Any]] | Sequence[ToolSpec] | None = None,
    *,
    counter: TokenCounter | None = None,
    add_generation_prompt: bool = True,
) -> int:
    """Tokens in the prompt that ``render`` builds from ``messages`` and ``tools``.

    Both may be OpenAI-format dicts or the typed history (``m1agent.messages``). Pass ``counter`` when
    counting often: without it, ``load_counter()`` runs on every call.
    """
    from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
    from m1agent.protocol.render import render

    typed = [not isinstance(m, Mapping) for m in messages]
    if any(typed) and not all(typed):
        raise TypeError("count_messages takes OpenAI-format dicts or typed messages, not a mix of both")
    wire_messages: Sequence[Mapping[str, Any]] = (
        to_openai_messages(cast("Sequence[Message]", messages)) if any(typed) else cast(Any, messages)
    )
    wire_tools: Sequence[Mapping[str, Any]] | None = cast(Any, tools)
    if tools is not None and any(not isinstance(t, Mapping) for t in tools):
        wire_tools = tools_to_openai(cast("Sequence[ToolSpec]", tools))
    prompt = render(wire_messages, wire_tools, add_generation_prompt=add_generation_prompt)
    return (counter or load_counter()).count(prompt)
