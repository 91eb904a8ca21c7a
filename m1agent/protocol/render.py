"""OpenAI-format messages and tools -> the raw M1 prompt, byte-identical to a named chat template.

Three templates, chosen with ``template=``:

- ``"hf"`` (the default): MiniMax-M1's own template, the ``chat_template`` of the release's
  ``tokenizer_config.json`` (``ai_setting=assistant`` / ``ai name=assistant``), as transformers'
  ``apply_chat_template`` renders it after :func:`~m1agent.protocol.render_hf.hf_messages` has put the
  messages in the shape it reads. This is what the model was trained to read. One deliberate
  deviation, off with ``strict=True``: earlier tool calls are written into the assistant content in
  M1's own ``<tool_calls>`` form, where the template would drop them (see ``render_hf``).
- ``"vllm"``: vLLM's ``examples/tool_chat_template_minimax_m1.jinja`` as every release ships it
  (0.9.2 to 0.23.0; ``ai name=assistant``), after what vLLM 0.23's server does to the request first
  (see ``vllm_request``): the prompt a vLLM 0.23 server renders for the same chat request.
- ``"vllm-main"``: the same file at the one main-branch commit that said ``ai name=MiniMax AI``
  (never released), with the message clean-up this renderer has always applied and tools as given.
  Kept so that prompts rendered before stay reproducible.

Byte identity matters because prefix caching and exact token accounting depend on it. Nothing is
escaped here: apply :func:`neutralize_special_tokens` to untrusted user and tool text first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, get_args

from m1agent.protocol import render_hf, render_vllm, vllm_request
from m1agent.protocol.render_common import (
    BEGIN_OF_DOCUMENT,
    BEGIN_OF_SENTENCE,
    END_OF_DOCUMENT,
    END_OF_SENTENCE,
    PromptRenderError,
    ai_header,
    messages_checked,
)
from m1agent.protocol.render_vllm import DEFAULT_SYSTEM_PROMPT

TemplateName = Literal["hf", "vllm", "vllm-main"]
TEMPLATES: Final[tuple[str, ...]] = get_args(TemplateName)
DEFAULT_TEMPLATE: Final = "hf"
_AI_NAMES: Final = {"hf": render_hf.AI_NAME, "vllm": "assistant", "vllm-main": "MiniMax AI"}

__all__ = [
    "BEGIN_OF_DOCUMENT",
    "BEGIN_OF_SENTENCE",
    "DEFAULT_SYSTEM_PROMPT",
    "DEFAULT_TEMPLATE",
    "END_OF_DOCUMENT",
    "END_OF_SENTENCE",
    "TEMPLATES",
    "PromptRenderError",
    "TemplateName",
    "generation_prompt",
    "neutralize_special_tokens",
    "render",
]


def _checked_template(template: str) -> str:
    if template not in _AI_NAMES:
        raise PromptRenderError(f"unknown template {template!r}: choose one of {', '.join(TEMPLATES)}")
    return template


def generation_prompt(template: str = DEFAULT_TEMPLATE) -> str:
    """The header a prompt ends with to open the model's turn: ``<beginning_of_sentence>ai name=…\\n``."""
    return ai_header(_AI_NAMES[_checked_template(template)])


def render(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    add_generation_prompt: bool = True,
    template: TemplateName | str = DEFAULT_TEMPLATE,
    strict: bool = False,
) -> str:
    """Render OpenAI-format ``messages`` and ``tools`` into the raw M1 prompt of ``template``.

    ``strict`` matters for ``"hf"`` only: it renders exactly what the template renders, dropping
    earlier tool calls, instead of writing them into the history as the model wrote them. Raises
    :class:`PromptRenderError` where the template (or, for ``"vllm"``, the server) would fail, and on an
    empty conversation. The inputs are not modified.
    """
    template = _checked_template(template)
    checked = messages_checked(messages)
    if template == "hf":
        return render_hf.render_template(
            render_hf.hf_messages(checked, strict=strict), tools, add_generation_prompt=add_generation_prompt
        )
    if template == "vllm":
        conversation: Sequence[Mapping[str, Any]] = vllm_request.conversation(checked)
        wire_tools: Sequence[Any] | None = vllm_request.normalize_tools(tools)
    else:
        conversation, wire_tools = render_vllm.main_branch_cleanup(checked), tools
    return render_vllm.render_template(
        conversation, wire_tools, ai_name=_AI_NAMES[template], add_generation_prompt=add_generation_prompt
    )


_ZERO_WIDTH_SPACE = "\u200b"
# Longest first, so that "</tool_calls>" is handled before "<tool_calls>" could match inside it.
_INJECTABLE = (
    "<beginning_of_sentence>",
    "<begin_of_document>",
    "<end_of_sentence>",
    "<end_of_document>",
    "</tool_calls>",
    "<tool_calls>",
    "</think>",
    "<think>",
)


def neutralize_special_tokens(text: str) -> str:
    """Defuse control strings in untrusted text before it goes into a raw prompt.

    A zero-width space after the ``<`` turns ``<end_of_sentence>``, ``<beginning_of_sentence>``,
    ``<begin_of_document>`` and ``<end_of_document>`` into plain text the tokenizer cannot read as control
    tokens, and keeps ``<think>``/``<tool_calls>`` tags in tool output from being copied as real structure.
    The text still reads the same to the model. Apply it to user and tool text, never to whole prompts.
    """
    if "<" not in text:
        return text
    for tag in _INJECTABLE:
        if tag in text:
            text = text.replace(tag, tag[0] + _ZERO_WIDTH_SPACE + tag[1:])
    return text
