"""What the engine knows about a conversation: who is authenticated, what was read, what ran.

The state is updated only after calls have run (``after_call``) and is plain data, so it can be
inspected, logged, and rebuilt from a history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class ConversationState:
    """Facts established by calls that ran, as the rules read and update them."""

    authenticated_user: str | None = None
    # kind of record ("reservation", "order", ...) -> ids read successfully this conversation
    records_read: dict[str, set[str]] = field(default_factory=dict)
    # limit key -> successful calls counted against it
    call_counts: Counter[str] = field(default_factory=Counter)
    # (index of the user message that said yes, fingerprint of the write it released)
    confirmations_used: set[tuple[int, str]] = field(default_factory=set)
    transferred: bool = False
    calls_run: int = 0
    writes_run: int = 0
    denials: int = 0
    consecutive_denials: int = 0

    def mark_read(self, kind: str, record_id: str) -> None:
        """Remember that record ``record_id`` of ``kind`` was read."""
        self.records_read.setdefault(kind, set()).add(record_id)

    def was_read(self, kind: str, record_id: str) -> bool:
        """Whether record ``record_id`` of ``kind`` was read earlier."""
        return record_id in self.records_read.get(kind, ())

    def snapshot(self) -> dict[str, object]:
        """A JSON-ready copy, for the audit log and reports."""
        return {
            "authenticated_user": self.authenticated_user,
            "records_read": {k: sorted(v) for k, v in sorted(self.records_read.items())},
            "call_counts": dict(sorted(self.call_counts.items())),
            "transferred": self.transferred,
            "calls_run": self.calls_run,
            "writes_run": self.writes_run,
            "denials": self.denials,
        }
