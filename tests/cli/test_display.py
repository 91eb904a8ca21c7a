"""The event display: what a person reads for recoveries, long results and diffs."""

from rich.console import Console

from m1agent.cli.display import EventPrinter, print_diff
from m1agent.events import ContextChanged, ThinkingRecovery, ToolCallFinished


def _printer() -> tuple[EventPrinter, Console]:
    console = Console(record=True, width=120, color_system=None)
    return EventPrinter(console), console


def test_a_thinking_recovery_is_shown_once_with_its_note() -> None:
    printer, console = _printer()
    note = "the answer cannot be forced on a chat backend, whose prompt cannot be continued"
    printer(ThinkingRecovery(2, "retry", note, backend_can_continue=False))
    printer(ContextChanged("thinking_recovery", f"retry: {note}"))
    text = console.export_text()
    assert "thinking budget (retry)" in text
    assert text.count("chat backend") == 1


def test_long_results_keep_their_end_where_the_verdict_is() -> None:
    printer, console = _printer()
    lines = [f"line {i}" for i in range(100)] + ["FAILED (failures=2)"]
    printer(ToolCallFinished(0, "call_0_0", "run_shell", "\n".join(lines)))
    text = console.export_text()
    assert "line 0" in text and "FAILED (failures=2)" in text
    assert "lines not shown" in text and "line 50" not in text


def test_an_empty_diff_says_so() -> None:
    console = Console(record=True, width=80, color_system=None)
    print_diff(console, "")
    assert "no changes" in console.export_text()
