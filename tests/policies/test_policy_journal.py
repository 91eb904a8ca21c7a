"""The journal that restores a tau2 DB between tasks, and its no-change hash shortcut."""

from __future__ import annotations

from m1agent.policies.tau.domain import TauDomain
from m1agent.policies.tau.journal import Journal


def test_journal_restores_changes_additions_and_removals() -> None:
    env = TauDomain("retail").new_env()
    journal = Journal(env)
    users = env.tools.db.users
    some_user = next(iter(users))
    assert journal.db_hash() == journal.initial_hash
    _ = users[some_user].email  # a read hands out a copy but changes nothing
    assert journal.db_hash() == journal.initial_hash
    users[some_user].email = "changed@example.com"
    assert journal.db_hash() != journal.initial_hash
    journal.restore()
    assert users[some_user].email != "changed@example.com"
    users["new_user"] = users[some_user]
    assert any(t.changed() for t in journal.tables)
    journal.restore()
    assert "new_user" not in users
    users.pop(some_user)
    assert journal.db_hash() != journal.initial_hash
    assert journal.verify()
    assert some_user in users
