"""Exhaustion is recognized, and each recovery changes the request (never the same one twice)."""

from m1agent.backends.base import ModelRequest, ModelResponse
from m1agent.messages import UserMessage
from m1agent.protocol.types import ParseProblem, ProblemKind, ToolCallPart, Turn
from m1agent.thinking import ThinkingBudget, ThinkingGovernor, detect_exhaustion, merge_forced
from m1agent.usage import Usage

CUT = ModelResponse(
    turn=Turn(thinking="let me think about", problems=(ParseProblem(ProblemKind.UNCLOSED_THINK, "cut"),)),
    usage=Usage(input_tokens=100, output_tokens=500),
    finish_reason="length",
    raw_text="<think>\nlet me think about",
)
EMPTY = ModelResponse(turn=Turn(thinking="done thinking"), usage=Usage(), finish_reason="stop",
                      raw_text="<think>\ndone thinking\n</think>\n")


def _request() -> ModelRequest:
    return ModelRequest(messages=[UserMessage("q")], max_tokens=600)


def test_detects_both_signs() -> None:
    cut = detect_exhaustion(CUT)
    empty = detect_exhaustion(EMPTY)
    assert cut is not None and cut.kind == "cut_inside_think"
    assert empty is not None and empty.kind == "no_answer_after_think"
    answered = ModelResponse(turn=Turn(thinking="x", text="42"), usage=Usage(), finish_reason="stop")
    called = ModelResponse(turn=Turn(tool_calls=(ToolCallPart("f", {}, "c"),)), usage=Usage(),
                           finish_reason="tool_calls")
    assert detect_exhaustion(answered) is None and detect_exhaustion(called) is None


def test_force_continues_the_same_generation_on_raw_backends() -> None:
    gov = ThinkingGovernor(ThinkingBudget(per_turn=500, answer_reserve=100))
    tried: set[str] = set()
    exhaustion = detect_exhaustion(CUT)
    assert exhaustion is not None
    step = gov.recover(_request(), CUT, exhaustion, can_continue=True, prompt_tokens=100,
                       context_window=10_000, tried=tried)
    assert step.action == "force" and step.request is not None
    assert step.request.continuation == "<think>\nlet me think about\n</think>\n"
    assert step.request.max_tokens == 100
    answer = ModelResponse(turn=Turn(text="42"), usage=Usage(input_tokens=600, output_tokens=3),
                           finish_reason="stop", raw_text="42")
    merged = merge_forced(CUT, answer)
    assert merged.turn.thinking == "let me think about" and merged.turn.text == "42"
    assert merged.turn.problems == () and merged.usage.output_tokens == 503


def test_chat_backends_retry_bigger_then_stop_and_say_why() -> None:
    gov = ThinkingGovernor(ThinkingBudget(per_turn=500, answer_reserve=100))
    tried: set[str] = set()
    exhaustion = detect_exhaustion(CUT)
    assert exhaustion is not None
    first = gov.recover(_request(), CUT, exhaustion, can_continue=False, prompt_tokens=100,
                        context_window=10_000, tried=tried)
    assert first.action == "retry" and first.request is not None
    assert first.request.max_tokens == 1_200
    assert "chat backend" in first.note
    second = gov.recover(first.request, CUT, exhaustion, can_continue=False, prompt_tokens=100,
                         context_window=10_000, tried=tried)
    assert second.action == "stop" and second.request is None


def test_retry_impossible_without_room_goes_to_stop() -> None:
    gov = ThinkingGovernor(ThinkingBudget(per_turn=500, answer_reserve=100, recovery=("retry", "stop")))
    exhaustion = detect_exhaustion(CUT)
    assert exhaustion is not None
    step = gov.recover(_request(), CUT, exhaustion, can_continue=True, prompt_tokens=100,
                       context_window=700, tried=set())
    assert step.action == "stop" and "retry was not possible" in step.note


def test_thinking_counted_from_server_usage_first() -> None:
    gov = ThinkingGovernor()
    reported = ModelResponse(turn=Turn(thinking="abc"), usage=Usage(thinking_tokens=77), finish_reason="stop")
    assert gov.account(reported).usage.thinking_tokens == 77 == gov.thinking_tokens(reported)


def test_thinking_events_survive_the_transcript() -> None:
    from m1agent.events import ThinkingRecovery, ThinkingSpent, TurnStarted, event_from_json, event_to_json

    for event in (ThinkingRecovery(2, "retry", "retrying (force is impossible)", False, "cut_inside_think", 800),
                  ThinkingSpent(2, 400, 700, 300, 1_500, 10_000), TurnStarted(2, 5, 400, 300)):
        assert event_from_json(event_to_json(event)) == event
