"""Reading what the person types: line editing, a history file, multi-line input, and y/n/always answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import WordCompleter
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

CONTINUATION = "… "


def _bindings() -> KeyBindings:
    """Enter sends; a trailing backslash or Esc-Enter (Alt-Enter) starts a new line instead."""
    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.document.text_before_cursor.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return keys


class Prompter:
    """The prompt of ``m1agent code``; ``toolbar`` gives the status line shown under it."""

    def __init__(self, history: Path | None, toolbar: Callable[[], str], commands: list[str]) -> None:
        if history is not None:
            history.parent.mkdir(parents=True, exist_ok=True)
        self._session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)) if history is not None else InMemoryHistory(),
            key_bindings=_bindings(),
            multiline=True,  # Enter is bound above; multiline lets the buffer hold several lines
            prompt_continuation=lambda width, line, soft: CONTINUATION.rjust(width),
            bottom_toolbar=lambda: toolbar(),
            completer=WordCompleter(commands, sentence=True),
            complete_while_typing=False,
        )

    async def read(self) -> str:
        """The next input (may span lines). Raises ``EOFError`` on Ctrl-D, ``KeyboardInterrupt`` on Ctrl-C."""
        return await self._session.prompt_async("› ")

    async def choose(self, question: str, answers: dict[str, str]) -> str:
        """Ask until one of ``answers`` (key -> meaning) is given; returns the key. Ctrl-C/Ctrl-D answer 'n'."""
        keys = "/".join(f"[{k}]{v[1:]}" if v.startswith(k) else f"{k}={v}" for k, v in answers.items())
        ask: PromptSession[str] = PromptSession(bottom_toolbar=self._session.bottom_toolbar)
        while True:
            try:
                reply = (await ask.prompt_async(f"{question} {keys} ")).strip().lower()
            except (EOFError, KeyboardInterrupt):
                return "n" if "n" in answers else next(iter(answers))
            for key, meaning in answers.items():
                if reply in (key, meaning):
                    return key
