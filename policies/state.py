"""What the engine knows about a conversation: who is authenticated, what was read, what ran.

The state is updated only after calls have run (``after_call``) and is plain data: ``to_json`` and
``from_json`` turn it into JSON and back, so the transcript can record it and a resumed run (in
another process too) starts from exactly what the live run knew.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ConversationState:
    """Facts established by calls that ran, as the rules read and update them."""

    authenticated_user: str | None = None
    # kind of record ("reservation", "order", ...) -> ids read successfully this conversation
    records_read: dict[str, set[str]] = field(default_factory=dict)
    # limit key -> successful calls counted against it
    call_counts: Counter[str] = field(default_factory=Counter)
    # confirmations a call has used up (see ConfirmationGate.key): one yes releases one call
    confirmations_used: set[str] = field(default_factory=set)
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

    def to_json(self) -> dict[str, Any]:
        """All of the state as JSON data, in a canonical order (equal states give equal data)."""
        data: dict[str, Any] = dict(self.snapshot())
        data["confirmations_used"] = sorted(self.confirmations_used)
        data["consecutive_denials"] = self.consecutive_denials
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ConversationState:
        """The state ``to_json`` wrote; ``None`` or ``{}`` is a new conversation. Fields of the wrong
        type are skipped (the transcript is the engine's own output; this only keeps a hand-edited one
        from crashing the run)."""
        state = cls()
        if not isinstance(data, Mapping):
            return state
        user = data.get("authenticated_user")
        state.authenticated_user = user if isinstance(user, str) and user else None
        records = data.get("records_read")
        if isinstance(records, Mapping):
            for kind, ids in records.items():
                if isinstance(ids, list):
                    state.records_read[str(kind)] = {str(i) for i in ids}
        counts = data.get("call_counts")
        if isinstance(counts, Mapping):
            state.call_counts.update({str(k): int(v) for k, v in counts.items() if isinstance(v, int)})
        used = data.get("confirmations_used")
        if isinstance(used, list):
            state.confirmations_used = {str(key) for key in used}
        state.transferred = data.get("transferred") is True
        for name in ("calls_run", "writes_run", "denials", "consecutive_denials"):
            value = data.get(name)
            if isinstance(value, int):
                setattr(state, name, value)
        return state
