"""The audit log: every decision and state change the engine makes, with its reason."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

AuditPoint = Literal["turn", "call", "after", "end"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One decision (``allow``/``deny``/``ask``) or state note (``note``) at one of the three points."""

    seq: int
    point: AuditPoint
    tool: str
    call_id: str
    action: str
    rule: str = ""
    reason: str = ""
    at: float = 0.0

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


AuditSink = Callable[[AuditEntry], None]


class JsonlAuditLog:
    """Appends each entry as one JSON line and flushes, so a crash loses nothing written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def __call__(self, entry: AuditEntry) -> None:
        self._file.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def now() -> float:
    """Wall time for audit entries."""
    return time.time()
