"""A scripted server that speaks like the hosted MiniMax API's native ``/v1/text/chatcompletion_v2``.

What it reproduces (wire-format notes §6): the thinking in ``reasoning_content`` (separate from
``content``), tool calls as structured ``tool_calls``, errors in ``base_resp.status_code`` under HTTP 200,
a default ``max_completion_tokens`` of 8192, temperature and ``tool_choice`` validation, the bearer key
check, and a stream whose last event is the whole ``chat.completion`` again.

The OpenAI-compatible route ``/v1/chat/completions`` is served too, as the platform documents it for M2
(M1 there is unverified): the same body and errors, the ``<think>`` block left in ``content``, and a
stream that ends with ``data: [DONE]`` after the finish chunk, without repeating the message.

How the hosted service turns M1's text into calls is not documented; this server takes each line of a
``<tool_calls>`` block that names a tool, and passes its arguments on as written (re-serialized when they
are valid JSON), so that a client sees malformed arguments instead of losing them.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from m1agent.testing import _vllm_parser as vp
from m1agent.testing._play import Event, fail_whole, pieces, play
from m1agent.testing._wire import SSE_DONE, HTTPRequest, Reply, StreamReply, json_reply, sse
from m1agent.testing.faults import Fault
from m1agent.testing.server import Generation, ScriptedServer, ScriptEntry, ScriptExhausted
from m1agent.testing.vllm import render_chat

PATH = "/v1/text/chatcompletion_v2"
OPENAI_PATH = "/v1/chat/completions"
DEFAULT_MAX_COMPLETION_TOKENS = 8192
_BLOCK = re.compile(r"<tool_calls>(.*?)</tool_calls>|<tool_calls>(.*)", re.DOTALL)


def split_output(output: str, *, think_in_content: bool = False) -> tuple[str, str, list[tuple[str, str]]]:
    """``(reasoning_content, content, [(name, arguments), ...])`` of one raw M1 output."""
    reasoning, rest, think_block = "", output, ""
    head = output.lstrip()
    if head.startswith("<think>"):
        end = head.find("</think>")
        if end < 0:
            reasoning, rest = head[len("<think>") :], ""
        else:
            reasoning, rest = head[len("<think>") : end], head[end + len("</think>") :]
        think_block = head[: len(head) - len(rest)]
        reasoning = reasoning.removeprefix("\n").removesuffix("\n")
    calls: list[tuple[str, str]] = []
    for match in _BLOCK.finditer(rest):
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        for line in inner.split("\n"):
            call = _call(line.strip())
            if call is not None:
                calls.append(call)
    content = _BLOCK.sub("", rest).strip()
    if think_in_content and think_block:
        return "", f"{think_block}\n{content}" if content else think_block, calls
    return reasoning, content, calls


def _call(line: str) -> tuple[str, str] | None:
    if not line:
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        if not isinstance(obj.get("name"), str) or "arguments" not in obj:
            return None
        args = obj["arguments"]
        return obj["name"], args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
    name = vp._NAME.search(line)
    span = vp._raw_args_span(line)
    if name is None or span is None:
        return None
    return name.group(1), line[span[0] : span[1]].strip()


def _base_resp(code: int = 0, message: str = "") -> dict[str, Any]:
    return {"status_code": code, "status_msg": message}


class MiniMaxServer(ScriptedServer):
    """Loopback hosted MiniMax API. Pass ``url`` as the ``host`` of ``MiniMax``.

    ``api_key`` is the key the server accepts (``None`` accepts any bearer key). ``think_in_content``
    leaves the ``<think>`` block in ``content`` instead of ``reasoning_content``. ``send_done`` ends
    streams with ``data: [DONE]`` after the final aggregate event.
    """

    generation_paths = frozenset({PATH, OPENAI_PATH})

    def __init__(
        self,
        script: Sequence[ScriptEntry] = (),
        *,
        faults: Mapping[int, Fault] | None = None,
        api_key: str | None = "test-minimax-key",
        model: str = "MiniMax-M1",
        think_in_content: bool = False,
        send_done: bool = False,
        counter: Any = None,
        chunk_chars: int | None = None,
        chunk_delay: float = 0.0,
    ) -> None:
        super().__init__(script, faults=faults, api_key=api_key, counter=counter, chunk_chars=chunk_chars,
                         chunk_delay=chunk_delay)
        self.model = model
        self.think_in_content = think_in_content
        self.send_done = send_done

    @property
    def host(self) -> str:
        """``http://127.0.0.1:PORT``: what ``MiniMax(host=...)`` takes."""
        return self.url

    def bearer_ok(self, request: HTTPRequest) -> bool:
        auth = request.headers.get("authorization", "")
        if self.api_key is None:
            return auth.startswith("Bearer ") and len(auth) > len("Bearer ")
        return auth == f"Bearer {self.api_key}"

    def _error_body(self, code: int, message: str) -> dict[str, Any]:
        return {"id": uuid.uuid4().hex, "choices": None, "created": int(time.time()), "model": self.model,
                "object": "chat.completion", "usage": None, "base_resp": _base_resp(code, message)}

    async def handle(self, request: HTTPRequest, body: Any) -> Reply | StreamReply:
        if request.path not in self.generation_paths or request.method != "POST":
            return json_reply({"base_resp": _base_resp(404, "not found")}, 404)
        if not self.bearer_ok(request):
            return json_reply(self._error_body(1004, "login fail: Please carry the API secret key in the "
                                                     "'Authorization' field of the request header"))
        problem = self._invalid(body)
        if problem:
            return json_reply(self._error_body(2013, f"invalid params, {problem}"))
        _number, fault = self.begin_generation()
        if fault is not None and fault.kind == "status":
            headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            code = 1002 if fault.status == 429 else 1013
            return json_reply(self._error_body(code, fault.message), fault.status, headers)
        if fault is not None and fault.kind == "base_resp" and not fault.in_stream:
            return json_reply(self._error_body(fault.code, fault.message))
        try:
            output = self.peek_output(body)
        except ScriptExhausted as err:
            return json_reply(self._error_body(2013, f"invalid params, {err}"))
        prompt = render_chat(body.get("messages") or [], body.get("tools"))
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_MAX_COMPLETION_TOKENS
        gen = self.generate(output, prompt, max_tokens=int(limit))
        openai_route = request.path == OPENAI_PATH
        reasoning, content, calls = split_output(gen.text, think_in_content=self.think_in_content or openai_route)
        whole = self._whole(gen, reasoning, content, calls)
        if not body.get("stream"):
            if fault is not None:
                return await fail_whole(fault, self.stopping)
            self.commit_output()
            return json_reply(whole)
        events = self._events(gen, reasoning, content, calls, whole, repeat_whole=not openai_route)
        error_event = sse(self._error_body(fault.code, fault.message)) if fault and fault.kind == "base_resp" else b""
        return StreamReply(play(events, fault, delay=self.chunk_delay, stopping=self.stopping,
                                on_complete=self.commit_output, error_event=error_event))

    def _invalid(self, body: Any) -> str:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return "messages is required"
        if body.get("model") != self.model:
            return f"unknown model {body.get('model')!r}"
        for key in ("temperature", "top_p"):
            value = body.get(key)
            if value is not None and not 0 < float(value) <= 1:
                return f"{key} must be in (0, 1]"
        if body.get("tool_choice") not in (None, "none", "auto"):
            return "tool_choice must be none or auto"
        return ""

    def _whole(self, gen: Generation, reasoning: str, content: str, calls: list[tuple[str, str]]) -> dict[str, Any]:
        finish = "tool_calls" if calls and gen.finish_reason == "stop" else gen.finish_reason
        message: dict[str, Any] = {"content": content, "role": "assistant", "name": "MiniMax AI",
                                   "audio_content": "", "reasoning_content": reasoning}
        if calls:
            message["tool_calls"] = [{"id": f"call_function_{uuid.uuid4().hex[:12]}", "type": "function",
                                      "function": {"name": n, "arguments": a}} for n, a in calls]
        usage = {"total_tokens": gen.prompt_tokens + gen.completion_tokens, "total_characters": 0,
                 "prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
                 "completion_tokens_details": {"reasoning_tokens": self.count(reasoning)}}
        return {"id": uuid.uuid4().hex, "choices": [{"finish_reason": finish, "index": 0, "message": message}],
                "created": int(time.time()), "model": self.model, "object": "chat.completion", "usage": usage,
                "input_sensitive": False, "output_sensitive": False, "input_sensitive_type": 0,
                "output_sensitive_type": 0, "output_sensitive_int": 0, "base_resp": _base_resp()}

    def _events(self, gen: Generation, reasoning: str, content: str, calls: list[tuple[str, str]],
                whole: dict[str, Any], *, repeat_whole: bool = True) -> list[Event]:
        def chunk(sent: int, delta: dict[str, Any], finish: str | None = None) -> Event:
            choice: dict[str, Any] = {"index": 0, "delta": {"role": "assistant", **delta}}
            if finish:
                choice["finish_reason"] = finish
            frame = {"id": whole["id"], "choices": [choice], "created": whole["created"], "model": self.model,
                     "object": "chat.completion.chunk", "usage": None, "input_sensitive": False,
                     "output_sensitive": False, "input_sensitive_type": 0, "output_sensitive_type": 0,
                     "output_sensitive_int": 0}
            return Event(sent, sse(frame))

        events, sent = [], 0
        for field, text in (("reasoning_content", reasoning), ("content", content)):
            for piece in pieces(text, self.chunk_chars):
                sent += len(piece)
                events.append(chunk(sent, {field: piece}))
        for index, call in enumerate(whole["choices"][0]["message"].get("tool_calls", [])):
            events.append(chunk(sent, {"tool_calls": [{"index": index, **call}]}))
        events.append(chunk(sent, {"content": ""}, whole["choices"][0]["finish_reason"]))
        if repeat_whole:
            events.append(Event(sent, sse(whole)))
        else:  # OpenAI's form: usage in a last chunk without choices (reasoning tokens not claimed)
            usage = {k: v for k, v in whole["usage"].items() if k != "completion_tokens_details"}
            events.append(Event(sent, sse({"id": whole["id"], "choices": [], "created": whole["created"],
                                           "model": self.model, "object": "chat.completion.chunk", "usage": usage})))
        if self.send_done or not repeat_whole:
            events.append(Event(sent, SSE_DONE))
        return events
