"""``@tool``: a Python function (sync or async) as a ``Tool``.

The JSON schema comes from the type hints, ``Annotated``/pydantic ``Field`` constraints and the
docstring (Google, Sphinx or numpy style). Arguments are validated with pydantic before the function
runs. Two kinds of parameter are hidden from the model:

- one typed ``RunContext[Deps]`` receives the run's context;
- bound ones, given once when the tool is made: ``FunctionTool(fn, bind={"db": db})``, or
  ``FunctionTool(functools.partial(fn, db))``. One function then serves as many tools as there
  are things to bind it to (a database, a repository, a sandbox), each with the same schema.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_origin, overload

import pydantic
import pydantic_core
from pydantic import BaseModel, ValidationError

from m1agent.errors import ModelRetry, ToolArgumentsInvalid
from m1agent.messages import ToolSpec
from m1agent.schema import normalize_schema, sanitize_name
from m1agent.tool import ApprovalRule, RunContext, ToolReturn

# --- docstrings -------------------------------------------------------------------------------

_GOOGLE_PARAMS = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments):\s*$")
_GOOGLE_ANY = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?::\s*(.*))?$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*?\s)?\*{0,2}(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The description and the per-parameter descriptions of a Google, Sphinx or numpy docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    end = len(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        is_numpy = i + 1 < len(lines) and _NUMPY_RULE.match(lines[i + 1]) and line.strip()
        if is_numpy:
            end = min(end, i)
            if line.strip() in ("Parameters", "Other Parameters", "Keyword Arguments"):
                i = _read_block(lines, i + 2, params, _NUMPY_ENTRY, same_line_desc=False)
                continue
            i += 2
            continue
        if _GOOGLE_ANY.match(line):
            end = min(end, i)
            if _GOOGLE_PARAMS.match(line):
                i = _read_block(lines, i + 1, params, _GOOGLE_ENTRY, same_line_desc=True)
                continue
        if line.startswith(":"):
            end = min(end, i)
            match = _SPHINX_PARAM.match(line)
            if match:
                text = [match.group(2).strip()]
                while i + 1 < len(lines) and lines[i + 1].startswith((" ", "\t")):
                    i += 1
                    text.append(lines[i].strip())
                params[match.group(1)] = " ".join(t for t in text if t)
        i += 1
    return _unwrap(lines[:end]), params


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")


def _unwrap(lines: list[str]) -> str:
    """Lines wrapped to fit the source joined back into sentences; paragraphs and list items stay apart."""
    out: list[str] = []
    for line in lines:
        text = line.strip()
        if out and text and out[-1] and not _LIST_ITEM.match(line) and not line.startswith((" ", "\t")):
            out[-1] += " " + text
        else:
            out.append(text)
    return "\n".join(out).strip()


def _read_block(
    lines: list[str], i: int, params: dict[str, str], entry: re.Pattern[str], *, same_line_desc: bool
) -> int:
    """Read indented ``name ...: desc`` entries (continuations indented deeper) until the block ends."""
    base: int | None = None
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        if same_line_desc and indent == 0:
            break
        if not same_line_desc and indent == 0 and i + 1 < len(lines) and _NUMPY_RULE.match(lines[i + 1]):
            break
        if base is None:
            base = indent
        if indent <= base:
            match = entry.match(line.strip())
            if not match:
                break
            current = match.group(1)
            params[current] = match.group(3).strip() if same_line_desc else ""
        elif current is not None:
            params[current] = f"{params[current]} {line.strip()}".strip()
        i += 1
    return i


# --- the tool ---------------------------------------------------------------------------------


def _is_context(annotation: Any) -> bool:
    return annotation is RunContext or get_origin(annotation) is RunContext


def render_return(value: Any) -> ToolReturn:
    """Whatever a function returned, as the text the model reads."""
    if isinstance(value, ToolReturn):
        return value
    if isinstance(value, str):
        return ToolReturn(value)
    if value is None:
        return ToolReturn("(no output)")
    if isinstance(value, BaseModel):
        return ToolReturn(value.model_dump_json())
    try:
        return ToolReturn(json.dumps(pydantic.TypeAdapter(Any).dump_python(value, mode="json"), ensure_ascii=False))
    except (TypeError, ValueError, pydantic_core.PydanticSerializationError):
        return ToolReturn(str(value))


def format_validation_error(name: str, error: ValidationError, allowed: Sequence[str] = ()) -> str:
    """Every failed field with its location, message and the value given, one per line; for
    arguments the tool does not have, the names it does have (``allowed``)."""
    lines = [f"Invalid arguments for {name}:"]
    unknown = []
    for item in error.errors(include_url=False):
        loc = ".".join(str(p) for p in item["loc"]) or "(arguments)"
        given = json.dumps(item.get("input"), default=str, ensure_ascii=False)
        if len(given) > 200:
            given = given[:200] + "…"
        lines.append(f"- {loc}: {item['msg']} (got {given})")
        if item["type"] == "extra_forbidden":
            unknown.append(loc)
    if unknown:
        known = ", ".join(allowed) or "(none)"
        lines.append(f"{', '.join(unknown)}: unknown argument(s); the arguments are: {known}.")
    return "\n".join(lines)


def _unwrap_partial(
    function: Callable[..., Any], bind: Mapping[str, Any]
) -> tuple[Callable[..., Any], dict[str, Any]]:
    """``partial(f, a, k=v)`` as ``f`` with its first parameter and ``k`` bound (then ``bind``)."""
    if not isinstance(function, functools.partial):
        return function, dict(bind)
    inner = function.func
    positional = [
        p.name for p in inspect.signature(inner).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(function.args) > len(positional):
        name = getattr(inner, "__name__", repr(inner))
        raise TypeError(f"tool {name}: the partial binds more positional arguments than the function takes")
    return inner, {**dict(zip(positional, function.args, strict=False)), **function.keywords, **bind}


class FunctionTool:
    """A Python function the model can call. Build it with ``@tool``, or directly to bind values.

    ``bind`` maps parameter names to values passed on every call; those parameters are left out of
    the schema, so the model neither sees nor sets them, and their types need not be JSON types::

        async def read_note(store: NoteStore, title: str) -> str:
            # docstring: "Read one note.  Args: title: The note's title."
            return await store.read(title)

        notes = FunctionTool(read_note, bind={"store": NoteStore("~/notes")})
        # the same: FunctionTool(functools.partial(read_note, NoteStore("~/notes")))

    ``error_results`` lists exception types that are expected outcomes the model can act on (a
    missing file, a refused path): the call returns ``ToolReturn(str(exc), is_error=True)`` instead
    of raising. ``ToolArgumentsInvalid`` and ``ModelRetry`` are always raised, for the loop to handle.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        bind: Mapping[str, Any] | None = None,
        error_results: tuple[type[Exception], ...] = (),
        sequential: bool = False,
        needs_approval: ApprovalRule = False,
        timeout: float | None = None,
        max_retries: int = 2,
    ) -> None:
        function, bound = _unwrap_partial(function, bind or {})
        self.function = function
        self.bound = bound
        self.error_results = error_results
        self.name = sanitize_name(name or function.__name__)
        self.sequential = sequential
        self.needs_approval = needs_approval
        self.timeout = timeout
        self.max_retries = max_retries
        self._is_async = inspect.iscoroutinefunction(function)
        doc_description, doc_params = parse_docstring(function.__doc__)
        self.description = description if description is not None else doc_description
        hints = typing.get_type_hints(function, include_extras=True)
        self._context_param: str | None = None
        fields: dict[str, Any] = {}
        params = inspect.signature(function).parameters
        # Passed by position at the call, since they cannot be passed by name.
        self._positional_only = tuple(p.name for p in params.values() if p.kind is p.POSITIONAL_ONLY)
        stray = sorted(set(bound) - set(params))
        if stray:
            raise TypeError(f"tool {self.name}: bind names {stray}, which {function.__name__} does not take")
        for param in params.values():
            if param.name in bound:
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {self.name}: *args and **kwargs cannot be described to the model")
            annotation = hints.get(param.name, Any)
            if _is_context(annotation):
                self._context_param = param.name
                continue
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[param.name] = (annotation, default)
        self._fields = tuple(fields)
        self._model: type[BaseModel] = pydantic.create_model(
            f"{self.name}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )
        schema = normalize_schema(self._model.model_json_schema())
        for pname, prop in schema.get("properties", {}).items():
            if pname in doc_params and isinstance(prop, dict) and "description" not in prop:
                prop["description"] = doc_params[pname]
        self.parameters = schema
        self._spec = ToolSpec(self.name, self.description, self.parameters)

    def spec(self) -> ToolSpec:
        """The name, description and normalized schema the model sees."""
        return self._spec

    async def invoke(self, arguments: dict[str, Any], ctx: RunContext[Any]) -> ToolReturn:
        """Validate ``arguments`` with pydantic, then call the function (sync ones in a thread)."""
        try:
            validated = self._model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolArgumentsInvalid(format_validation_error(self.name, exc, self._fields)) from None
        kwargs = {**self.bound, **{field: getattr(validated, field) for field in self._fields}}
        if self._context_param is not None:
            kwargs[self._context_param] = ctx
        args = [kwargs.pop(name) for name in self._positional_only]
        try:
            if self._is_async:
                value = await self.function(*args, **kwargs)
            else:
                value = await asyncio.to_thread(self.function, *args, **kwargs)
        except (ToolArgumentsInvalid, ModelRetry):
            raise
        except self.error_results as exc:
            return ToolReturn(str(exc), is_error=True)
        return render_return(value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function directly, as if it were not a tool, with the bound values filled
        in (as ``functools.partial`` would); pass the other arguments by name."""
        leading = [self.bound[name] for name in self._positional_only if name in self.bound]
        named = {k: v for k, v in self.bound.items() if k not in self._positional_only}
        return self.function(*leading, *args, **named, **kwargs)

    def __repr__(self) -> str:
        return f"FunctionTool({self.name!r})"


@overload
def tool(function: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    bind: Mapping[str, Any] | None = None,
    error_results: tuple[type[Exception], ...] = (),
    sequential: bool = False,
    needs_approval: ApprovalRule = False,
    timeout: float | None = None,
    max_retries: int = 2,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    bind: Mapping[str, Any] | None = None,
    error_results: tuple[type[Exception], ...] = (),
    sequential: bool = False,
    needs_approval: ApprovalRule = False,
    timeout: float | None = None,
    max_retries: int = 2,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a function a tool: ``@tool`` or ``@tool(sequential=True, needs_approval=True, ...)``.

    ``needs_approval`` is a bool or a callable of the (validated-as-JSON) arguments; ``timeout`` is in
    seconds; ``max_retries`` bounds consecutive failed calls (bad arguments, errors) of this tool.
    ``bind`` and ``error_results`` are as for ``FunctionTool``.
    """

    def wrap(fn: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(
            fn,
            name=name,
            description=description,
            bind=bind,
            error_results=error_results,
            sequential=sequential,
            needs_approval=needs_approval,
            timeout=timeout,
            max_retries=max_retries,
        )

    return wrap(function) if function is not None else wrap


__all__ = ["FunctionTool", "format_validation_error", "parse_docstring", "render_return", "tool"]
