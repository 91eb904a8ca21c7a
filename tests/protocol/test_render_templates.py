"""Every template variant, byte for byte against the real template file rendered by Jinja.

Jinja is set up as transformers sets it up (``templates.py``). The ``vllm`` reference goes through vLLM
0.23's own request handling first (``vllm_oracle.py``, transcribed from its source); the ``hf``
reference gets the messages in the template's shape from ``hf_messages``, or as given when they already
are. Where the template fails, ``render`` must fail too, with ``PromptRenderError``.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import jinja2
import m1_conversations as conv
import m1_templates as templates
import pytest
import vllm_oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from m1agent.protocol.render import TEMPLATES, PromptRenderError, generation_prompt, render
from m1agent.protocol.render_hf import hf_messages
from m1agent.protocol.render_vllm import main_branch_cleanup

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="session")
def hf_text() -> str:
    return templates.hf_template()


@pytest.fixture(scope="session")
def vllm_text() -> str:
    return templates.vllm_template()


@pytest.fixture(scope="session")
def vllm_main_text() -> str:
    return templates.vllm_main_template()


def _expect(reference: Any, rendered: Any) -> None:
    """Both render the same bytes, or both fail."""
    try:
        expected = reference()
    except (jinja2.exceptions.TemplateError, TypeError, ValueError, AssertionError, KeyError):
        with pytest.raises(PromptRenderError):
            rendered()
        return
    assert rendered() == expected


def test_the_template_files_are_the_released_ones(hf_text: str, vllm_text: str, vllm_main_text: str) -> None:
    assert len(vllm_text) == 3442 and "ai name=assistant" in vllm_text
    assert len(vllm_main_text) == 3446 and "ai name=MiniMax AI" in vllm_main_text
    assert "ai name=assistant" in hf_text and "message['content'][0]['text']" in hf_text
    assert [generation_prompt(t) for t in TEMPLATES] == [
        "<beginning_of_sentence>ai name=assistant\n",
        "<beginning_of_sentence>ai name=assistant\n",
        "<beginning_of_sentence>ai name=MiniMax AI\n",
    ]


@EXAMPLES
@given(messages=conv.conversations(), tools=conv.server_tools, prompt=st.booleans())
def test_vllm_is_what_a_vllm_0_23_server_renders(
    vllm_text: str, messages: list[dict[str, Any]], tools: list[Any] | None, prompt: bool
) -> None:
    before = copy.deepcopy((messages, tools))
    _expect(
        lambda: templates.apply_chat_template(
            vllm_text, vllm_oracle.conversation(messages), vllm_oracle.tool_dicts(tools), prompt
        ),
        lambda: render(messages, tools, template="vllm", add_generation_prompt=prompt),
    )
    assert (messages, tools) == before


@EXAMPLES
@given(messages=conv.conversations(), tools=conv.any_tools, prompt=st.booleans())
def test_vllm_main_is_the_main_branch_template(
    vllm_main_text: str, messages: list[dict[str, Any]], tools: list[Any] | None, prompt: bool
) -> None:
    _expect(
        lambda: templates.apply_chat_template(vllm_main_text, main_branch_cleanup(messages), tools, prompt),
        lambda: render(messages, tools, template="vllm-main", add_generation_prompt=prompt),
    )


@EXAMPLES
@given(messages=conv.conversations(), tools=conv.any_tools, prompt=st.booleans(), strict=st.booleans())
def test_hf_is_the_models_own_template(
    hf_text: str, messages: list[dict[str, Any]], tools: list[Any] | None, prompt: bool, strict: bool
) -> None:
    before = copy.deepcopy(messages)
    _expect(
        lambda: templates.apply_chat_template(hf_text, hf_messages(messages, strict=strict), tools, prompt),
        lambda: render(messages, tools, add_generation_prompt=prompt, strict=strict),
    )
    assert messages == before


# Messages already in the shape the model's template reads: list content, named tool-result parts.
_parts = conv.text_parts()
_named_results = st.lists(st.fixed_dictionaries({"type": st.just("text"), "name": conv.names, "text": conv.texts}),
                          min_size=1, max_size=3)
_hf_message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": _parts}),
    st.fixed_dictionaries({"role": st.just("assistant"), "content": st.lists(st.one_of(
        st.fixed_dictionaries({"type": st.just("text"), "text": conv.assistant_text}),
        st.fixed_dictionaries({"type": st.just("image")})), max_size=3)}),
    st.fixed_dictionaries({"role": st.just("tool"), "content": _named_results}),
)


def _no_adjacent_tools(messages: list[dict[str, Any]]) -> bool:
    return not any(a["role"] == b["role"] == "tool" for a, b in itertools.pairwise(messages))


@EXAMPLES
@given(messages=st.lists(_hf_message, min_size=1, max_size=8).filter(_no_adjacent_tools), tools=conv.any_tools,
       prompt=st.booleans())
def test_hf_messages_in_the_templates_shape_render_as_given(
    hf_text: str, messages: list[dict[str, Any]], tools: list[Any] | None, prompt: bool
) -> None:
    assert hf_messages(messages) == messages
    _expect(
        lambda: templates.apply_chat_template(hf_text, messages, tools, prompt),
        lambda: render(messages, tools, add_generation_prompt=prompt, strict=True),
    )


# --- where the templates fail, render fails --------------------------------------------------------

FAILING = {
    "vllm": [
        [{"role": "system", "content": None}, {"role": "user", "content": "x"}],  # [][0]['text']
        [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}],
    ],
    "vllm-main": [
        [{"role": "system", "content": []}, {"role": "user", "content": "x"}],
        [{"role": "user", "content": "x"}, {"role": "tool", "content": [{"type": "text"}]}],
    ],
    "hf": [
        [{"role": "user", "content": []}],
        [{"role": "user", "content": [{"type": "text", "text": 5}]}],
        [{"role": "system", "content": [{"text": None}]}, {"role": "user", "content": "x"}],
        [{"role": "tool", "content": [{"type": "text", "name": "n"}]}],
        [{"role": "assistant", "content": 5}],
    ],
}


@pytest.mark.parametrize(
    ("template", "messages"), [(t, m) for t, cases in FAILING.items() for m in cases], ids=lambda x: str(x)[:40]
)
def test_render_fails_where_the_template_fails(
    template: str, messages: list[dict[str, Any]], request: pytest.FixtureRequest
) -> None:
    text = request.getfixturevalue({"hf": "hf_text", "vllm": "vllm_text", "vllm-main": "vllm_main_text"}[template])
    shaped = {"hf": lambda m: hf_messages(m, strict=True), "vllm": vllm_oracle.conversation,
              "vllm-main": main_branch_cleanup}[template]
    with pytest.raises((jinja2.exceptions.TemplateError, TypeError)):
        templates.apply_chat_template(text, shaped(messages), None, True)
    with pytest.raises(PromptRenderError) as info:
        render(messages, template=template)
    assert info.value.hint


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(PromptRenderError, match="choose one of hf, vllm, vllm-main"):
        render([{"role": "user", "content": "x"}], template="chatml")
