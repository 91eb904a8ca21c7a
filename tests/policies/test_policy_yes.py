"""The deterministic yes-detector: explicit yes only; anything doubtful is not a yes."""

from __future__ import annotations

import pytest
from m1agent.policies import CallableYesDetector, KeywordYesDetector

YES = ["Yes", "yes.", "Yes, please proceed.", "yep", "Sure, go ahead!", "Confirmed.", "OK, do it",
       "That's correct, please go ahead.", "Yes, I confirm.", "y", "Absolutely, yes", "yes\u2019 please"]
NOT_YES = ["No", "no thanks", "Yes, but use my other card", "Maybe", "yes?", "Ok, wait",
           "I'm not sure", "Hmm", "Yes if it's free", "What would it cost?", "Actually, don't.",
           "", "   ", "Cancel that", "Let me think about it", "thanks", "hold on, yes",
           "yes " + "x" * 500]


@pytest.mark.parametrize("text", YES)
def test_explicit_yes(text: str) -> None:
    assert KeywordYesDetector().is_yes(text)


@pytest.mark.parametrize("text", NOT_YES)
def test_not_an_explicit_yes(text: str) -> None:
    assert not KeywordYesDetector().is_yes(text)


def test_a_classifier_that_fails_counts_as_no() -> None:
    def broken(text: str) -> bool:
        raise RuntimeError("model down")

    assert not CallableYesDetector(broken).is_yes("yes")
    assert CallableYesDetector(lambda text: text == "oui").is_yes("oui")


def test_a_chat_model_can_judge_the_yes(counter) -> None:  # type: ignore[no-untyped-def]
    from m1agent.policies import ChatYesDetector

    from m1agent.testing import VLLMServer

    with VLLMServer(script=["<think>\nAgrees.\n</think>\nYes", "No."], tool_parser=None, counter=counter) as server:
        detector = ChatYesDetector(server.base_url, server.model, api_key="sk-secret")
        assert detector.is_yes("Sure thing, book it for me")
        assert detector.is_yes("Sure thing, book it for me")  # cached: no second request
        assert not detector.is_yes("hmm, what would that cost")
        asked = [r.body["messages"][-1]["content"] for r in server.requests if r.body]
    assert asked == ["Sure thing, book it for me", "hmm, what would that cost"]
    assert "sk-secret" not in repr(detector)
    assert not detector.is_yes("yes, after the server is gone")  # unreachable: fail closed
