"""Undo for a tau2 database: run a task, then put every touched record back, instead of loading the
multi-megabyte database again for each task (seconds per task for airline)."""

from __future__ import annotations

from typing import Any

_MISSING = object()


class JournalDict(dict[Any, Any]):
    """A top-level table of a tau2 DB that hands out private copies of records on first access, and
    remembers the originals (or that the key was new), so ``restore`` brings the table back exactly.

    Whole-table iteration (``values()``/``items()``) does not copy: tau2's tools use it only to read.
    ``Journal.verify`` checks that promise by comparing the restored DB's hash with the original one.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.originals: dict[Any, Any] = {}

    def _touch(self, key: Any) -> None:
        if key in self.originals:
            return
        original = dict.get(self, key, _MISSING)
        self.originals[key] = original
        if original is not _MISSING:
            copy = original.model_copy(deep=True) if hasattr(original, "model_copy") else original
            dict.__setitem__(self, key, copy)

    def __getitem__(self, key: Any) -> Any:
        self._touch(key)
        return dict.__getitem__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            return default
        return self[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._touch(key)
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._touch(key)
        return dict.pop(self, key, *default)

    def changed(self) -> bool:
        """Whether any record handed out differs from its original, or a key was added or removed."""
        for key, original in self.originals.items():
            present = dict.__contains__(self, key)
            if original is _MISSING:
                if present:
                    return True
            elif not present or dict.__getitem__(self, key) != original:
                return True
        return False

    def restore(self) -> None:
        """Put back every original record and drop every added key."""
        for key, original in self.originals.items():
            if original is _MISSING:
                dict.pop(self, key, None)
            else:
                dict.__setitem__(self, key, original)
        self.originals.clear()


class Journal:
    """Wraps every top-level table of ``env.tools.db`` in a ``JournalDict``."""

    def __init__(self, env: Any) -> None:
        self.env = env
        db = env.tools.db
        self.tables: list[JournalDict] = []
        for name, value in list(vars(db).items()):
            if isinstance(value, dict):
                table = JournalDict(value)
                object.__setattr__(db, name, table)
                self.tables.append(table)
        self.initial_hash = str(env.get_db_hash())

    def db_hash(self) -> str:
        """tau2's hash of the current DB. When no record changed, the content is exactly the initial
        content, so its hash is the initial one (computed by tau2); ``verify`` guards that shortcut."""
        if not any(table.changed() for table in self.tables):
            return self.initial_hash
        return str(self.env.get_db_hash())

    def restore(self) -> None:
        """Back to the state the journal started from."""
        for table in self.tables:
            table.restore()

    def verify(self) -> bool:
        """Whether the restored DB hashes as it did at the start (no write escaped the journal)."""
        self.restore()
        return str(self.env.get_db_hash()) == self.initial_hash
