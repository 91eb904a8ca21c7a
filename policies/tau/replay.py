"""Gold replay: every task's gold actions through m1agent's loop, dispatcher and policy engine.

The scripted model plays a compliant agent: it authenticates the task's user first, reads each record
before writing it, and lists each write's arguments so that the simulated user can answer "yes".
Only the domain rules can then refuse a gold action. The end state is hashed with tau2's own DB model
and compared with tau2's gold hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from m1agent.policies.audit import AuditEntry
from m1agent.policies.pack import Pack, load_pack
from m1agent.policies.tau.domain import TauDomain, TauView
from m1agent.policies.tau.journal import Journal

from m1agent.agent import Agent
from m1agent.backends.replay import Replay
from m1agent.limits import Limits
from m1agent.protocol.types import ToolCallPart, Turn, call_id

OPENING = "Hi, I need help with my account."
YES = "Yes, please go ahead."
INSTRUCTIONS = "You are a customer service agent. Follow the domain policy."


@dataclass(frozen=True, slots=True)
class Denial:
    """A call the engine refused during a replay."""

    task_id: str
    tool: str
    rule: str
    reason: str
    gold: bool  # a gold action (not one of the simulated auth/read calls)


@dataclass(slots=True)
class TaskReplay:
    """One task's outcome."""

    task_id: str
    gold_hash: str
    end_hash: str
    gold_actions: int
    calls: int
    denials: list[Denial] = field(default_factory=list)

    @property
    def db_match(self) -> bool:
        """Whether the end state equals tau2's gold end state."""
        return self.gold_hash == self.end_hash


@dataclass(slots=True)
class ReplayReport:
    """All tasks of one domain."""

    domain: str
    tasks: list[TaskReplay] = field(default_factory=list)
    journal_intact: bool = True

    @property
    def denied_tasks(self) -> list[str]:
        """Tasks in which the engine refused at least one gold action."""
        return [t.task_id for t in self.tasks if any(d.gold for d in t.denials)]

    @property
    def matched(self) -> int:
        """Tasks whose end state equals the gold end state."""
        return sum(t.db_match for t in self.tasks)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.domain}: {self.matched}/{len(self.tasks)} DB matches; gold actions denied in tasks "
            f"{', '.join(self.denied_tasks) or 'none'}"
        )


@dataclass(slots=True)
class _Script:
    runs: list[list[Turn]] = field(default_factory=list)
    gold_ids: set[str] = field(default_factory=set)
    count: int = 0
    # what the user says first: the identity the authenticating call then looks up
    opening: str = OPENING

    def call(self, name: str, arguments: dict[str, Any], *, gold: bool) -> None:
        part = ToolCallPart(name, arguments, call_id(self.count, 0))
        if gold:
            self.gold_ids.add(part.id)
        self._current().append(Turn(tool_calls=(part,)))
        self.count += 1

    def say(self, text: str) -> None:
        self._current().append(Turn(text=text))
        self.runs.append([])
        self.count += 1

    def _current(self) -> list[Turn]:
        if not self.runs:
            self.runs.append([])
        return self.runs[-1]


class GoldReplay:
    """Replays the gold actions of a domain's tasks (see the module docstring)."""

    def __init__(self, domain: str, pack: Pack | None = None) -> None:
        self.domain = TauDomain(domain)
        self.pack = pack or load_pack(domain)
        self.env = self.domain.new_env()
        self.journal = Journal(self.env)
        self.view = TauView(self.env)
        self.tools = TauDomain.tools(self.env)
        self.writes = TauDomain.write_tools(self.env)

    def run(
        self, task_ids: Iterable[str] | None = None, progress: Callable[[TaskReplay], None] | None = None
    ) -> ReplayReport:
        """Replay the chosen tasks (all by default), restoring the DB between tasks."""
        import asyncio

        wanted = set(task_ids) if task_ids is not None else None
        report = ReplayReport(self.domain.name)
        for task in self.domain.tasks:
            if wanted is not None and str(task.id) not in wanted:
                continue
            result = asyncio.run(self.replay_task(task))
            report.tasks.append(result)
            if progress is not None:
                progress(result)
        report.journal_intact = self.journal.verify()
        return report

    def gold_hash(self, task: Any) -> str:
        """tau2's gold end state for ``task``, as its evaluator computes it, on the journaled DB."""
        env = self.env
        for action in task.evaluation_criteria.actions or []:
            try:
                env.make_tool_call(action.name, requestor=action.requestor, **action.arguments)
            except Exception:
                continue
        digest = self.journal.db_hash()
        self.journal.restore()
        return digest

    async def replay_task(self, task: Any) -> TaskReplay:
        """Our run of one task: the scripted conversation through ``Agent`` with the pack's engine."""
        if getattr(task, "initial_state", None) is not None:
            raise NotImplementedError("tasks with an initial state are not replayed on a shared DB")
        gold = self.gold_hash(task)
        actions = [a for a in task.evaluation_criteria.actions or [] if a.requestor == "assistant"]
        script = self._script(actions)
        # Each run works on a copy of the engine; the shared sink sees every copy's decisions.
        audit: list[AuditEntry] = []
        engine = self.pack.build_engine(view=self.view, write_tools=self.writes, sinks=[audit.append])
        turns = [turn for run in script.runs for turn in run]
        agent: Agent[None] = Agent(Replay.from_turns(turns), INSTRUCTIONS, self.tools, policies=[engine],
                      limits=Limits(max_turns=len(turns) + 5))
        session: str | None = None
        for index, run in enumerate(script.runs):
            if not run:
                continue
            result = await agent.run(script.opening if index == 0 else YES, session_id=session)
            session = result.session_id
            if result.stop_reason != "completed":
                break
        end = self.journal.db_hash()
        self.journal.restore()
        denials = [
            Denial(str(task.id), e.tool, e.rule, e.reason, e.call_id in script.gold_ids)
            for e in audit if e.action == "deny"
        ]
        return TaskReplay(str(task.id), gold, end, len(actions), script.count, denials)

    # --- the compliant agent's script -----------------------------------------------------------

    def _script(self, actions: list[Any]) -> _Script:
        script = _Script()
        user = self._user_of(actions)
        if user is not None:
            self._authenticate(script, user)
        read: set[tuple[str, str]] = set()
        manifest = self.pack.manifest
        readers = manifest.get("read_before_write", {}).get("reads", {})
        needs = manifest.get("read_before_write", {}).get("writes", {})
        for action in actions:
            arguments = dict(action.arguments)
            for arg, kind in needs.get(action.name, {}).items():
                value = arguments.get(arg)
                if isinstance(value, str) and (kind, value) not in read:
                    reader = next(t for t, args in readers.items() if args.get(arg) == kind)
                    script.call(reader, {arg: value}, gold=False)
                    read.add((kind, value))
            if action.name in self.writes:
                what = action.name.replace("_", " ")
                script.say(f"I will now {what} with {json.dumps(arguments)}. Shall I proceed?")
            script.call(action.name, arguments, gold=True)
            for arg, kind in readers.get(action.name, {}).items():
                if isinstance(arguments.get(arg), str):
                    read.add((kind, arguments[arg]))
        script.say("Is there anything else I can help you with?")
        return script

    def _user_of(self, actions: list[Any]) -> str | None:
        for action in actions:
            args = action.arguments
            if isinstance(args.get("user_id"), str):
                return str(args["user_id"])
            for arg, collection in (("reservation_id", "reservations"), ("order_id", "orders")):
                record = self.view.get(collection, args.get(arg)) if isinstance(args.get(arg), str) else None
                if record is not None:
                    return str(record["user_id"])
        return None

    def _authenticate(self, script: _Script, user: str) -> None:
        sources = self.pack.manifest.get("auth", {}).get("sources", {})
        if "find_user_id_by_email" in sources:
            email = str((self.view.get("users", user) or {}).get("email", ""))
            script.opening = f"{OPENING} My email is {email}."
            script.call("find_user_id_by_email", {"email": email}, gold=False)
        elif "get_user_details" in sources:
            script.opening = f"{OPENING} My user id is {user}."
            script.call("get_user_details", {"user_id": user}, gold=False)
