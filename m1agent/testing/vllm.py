"""A scripted server that speaks like vLLM serving MiniMax-M1: chat, raw completions, tokenize, models.

``tool_parser="minimax"`` (the default) behaves like ``--enable-auto-tool-choice --tool-call-parser
minimax``: thinking stays in ``content``, calls written inside thinking are dropped, streamed calls come
as a name and then argument fragments (see ``_vllm_parser``). ``tool_parser=None`` is a server without
a tool parser: the ``<tool_calls>`` block stays in ``content``. ``streaming_defects`` reproduces the
documented argument corruption of the streaming parser, so that clients can test their defence against
it: ``True`` or ``"gen2"`` for the second generation (see ``_vllm_parser``), ``"gen1"`` for the first,
which resends the whole argument string so far on every delta.

``reasoning_field`` emulates a server started with a reasoning parser: the text inside ``<think>`` goes
to that field (``reasoning_content`` in older vLLM, ``reasoning`` in newer) instead of ``content``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from m1agent.testing import _vllm_parser as vp
from m1agent.testing._play import Event, fail_whole, pieces, play
from m1agent.testing._wire import SSE_DONE, HTTPRequest, Reply, StreamReply, json_reply, sse
from m1agent.testing.faults import VLLM_CONTEXT_MESSAGE, Fault
from m1agent.testing.server import Generation, ScriptedServer, ScriptEntry, ScriptExhausted, exhausted_reply

GENERATION_HEADER = "<beginning_of_sentence>ai name="


def _error(message: str, status: int, kind: str = "BadRequestError") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


def render_chat(messages: list[Any], tools: list[Any] | None) -> str:
    from m1agent.protocol.render import render

    try:
        return render(messages, tools)
    except Exception:  # a message shape our renderer refuses: count its JSON instead
        return json.dumps(messages, ensure_ascii=False)


class VLLMServer(ScriptedServer):
    """Loopback vLLM: ``/v1/chat/completions``, ``/v1/completions``, ``/tokenize``, ``/v1/models``.

    ``base_url`` (``http://127.0.0.1:PORT/v1``) goes straight to ``VLLM`` or ``Completions``.
    ``max_model_len`` makes a prompt plus ``max_tokens`` beyond it fail with vLLM's HTTP 400. With
    ``api_key`` set, ``/v1`` routes answer 401 unless ``Authorization: Bearer <key>`` is sent.
    """

    generation_paths = frozenset({"/v1/chat/completions", "/v1/completions"})

    def __init__(
        self,
        script: Sequence[ScriptEntry] = (),
        *,
        faults: Mapping[int, Fault] | None = None,
        tool_parser: str | None = "minimax",
        streaming_defects: bool | str = False,
        reasoning_field: str | None = None,
        model: str = "MiniMaxAI/MiniMax-M1-80k",
        max_model_len: int = 131_072,
        api_key: str | None = None,
        counter: Any = None,
        chunk_chars: int | None = None,
        chunk_delay: float = 0.0,
    ) -> None:
        super().__init__(script, faults=faults, api_key=api_key, counter=counter, chunk_chars=chunk_chars,
                         chunk_delay=chunk_delay)
        if tool_parser not in (None, "minimax"):
            raise ValueError("tool_parser must be 'minimax' or None")
        if any(f.kind == "base_resp" for f in self.faults.values()):
            raise ValueError("base_resp faults belong to MiniMaxServer")
        self.tool_parser = tool_parser
        if streaming_defects not in (False, True, "gen1", "gen2"):
            raise ValueError("streaming_defects must be False, True, 'gen1' or 'gen2'")
        self.streaming_defects = "gen2" if streaming_defects is True else streaming_defects or None
        if reasoning_field not in (None, "reasoning_content", "reasoning"):
            raise ValueError("reasoning_field must be 'reasoning_content', 'reasoning' or None")
        self.reasoning_field = reasoning_field
        self.model = model
        self.max_model_len = max_model_len

    @property
    def base_url(self) -> str:
        """The OpenAI-style root: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    async def handle(self, request: HTTPRequest, body: Any) -> Reply | StreamReply:
        path = request.path
        if path.startswith("/v1/") and not self.bearer_ok(request):
            return json_reply({"error": "Unauthorized"}, 401)
        if path == "/v1/models" and request.method == "GET":
            card = {"id": self.model, "object": "model", "created": int(time.time()), "owned_by": "vllm",
                    "root": self.model, "parent": None, "max_model_len": self.max_model_len}
            return json_reply({"object": "list", "data": [card]})
        if path == "/tokenize" and request.method == "POST":
            return self._tokenize(body or {})
        if path in self.generation_paths and request.method == "POST":
            if not isinstance(body, dict) or "model" not in body:
                return json_reply(_error("the request needs a JSON body with 'model'", 400), 400)
            if body["model"] != self.model:
                return json_reply(_error(f"The model `{body['model']}` does not exist.", 404, "NotFoundError"),
                                  404)
            return await self._generate(path == "/v1/chat/completions", body)
        return json_reply({"detail": "Not Found"}, 404)

    def _tokenize(self, body: dict[str, Any]) -> Reply:
        text = body.get("prompt")
        if text is None:
            text = render_chat(body.get("messages") or [], body.get("tools"))
        encode = getattr(self.counter, "encode", None)
        tokens = list(encode(text)) if encode else []
        count = len(tokens) if encode else self.count(text)
        return json_reply({"count": count, "max_model_len": self.max_model_len, "tokens": tokens,
                           "token_strs": None})

    async def _generate(self, chat: bool, body: dict[str, Any]) -> Reply | StreamReply:
        _number, fault = self.begin_generation()
        if fault is not None and fault.kind == "status":
            headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            return json_reply(_error(fault.message, fault.status), fault.status, headers)
        messages, tools = body.get("messages") or [], body.get("tools")
        prompt = render_chat(messages, tools) if chat else str(body.get("prompt", ""))
        prompt_tokens = self.count(prompt)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if prompt_tokens + (max_tokens or 1) > self.max_model_len:
            message = VLLM_CONTEXT_MESSAGE.format(limit=self.max_model_len, asked=prompt_tokens + (max_tokens or 0),
                                                  prompt=prompt_tokens, completion=max_tokens or 0)
            return json_reply(_error(message, 400), 400)
        try:
            output = self.peek_output(body)
        except ScriptExhausted as err:
            return exhausted_reply(err)
        if not chat:
            output = _continue(output, prompt)
        stop = body.get("stop") or []
        gen = self.generate(output, prompt, max_tokens=max_tokens or self.max_model_len - prompt_tokens,
                            stop=[stop] if isinstance(stop, str) else list(stop))
        parse_tools = chat and self.tool_parser is not None and bool(body.get("tools")) and \
            body.get("tool_choice", "auto") == "auto"
        if not body.get("stream"):
            if fault is not None:  # a stream fault on a non-streamed request: the connection just dies
                return await fail_whole(fault, self.stopping)
            self.commit_output()
            return json_reply(self._whole(chat, gen, parse_tools))
        usage = body.get("stream_options", {}) or {}
        events = (self._chat_events if chat else self._completion_events)(gen, parse_tools)
        if usage.get("include_usage"):
            events.append(Event(len(gen.text), sse(self._frame(chat, [], self._usage(gen)))))
        events.append(Event(len(gen.text), SSE_DONE))
        chunks = play(events, fault, delay=self.chunk_delay, stopping=self.stopping,
                      on_complete=self.commit_output)
        return StreamReply(chunks)

    # --- response shapes -----------------------------------------------------------------------

    def _usage(self, gen: Generation) -> dict[str, int]:
        return {"prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
                "total_tokens": gen.prompt_tokens + gen.completion_tokens}

    def _frame(self, chat: bool, choices: list[Any], usage: Any = None) -> dict[str, Any]:
        return {"id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}",
                "object": "chat.completion.chunk" if chat else "text_completion",
                "created": int(time.time()), "model": self.model, "choices": choices, "usage": usage}

    def _whole(self, chat: bool, gen: Generation, parse_tools: bool) -> dict[str, Any]:
        usage = self._usage(gen)
        if not chat:
            choice = {"index": 0, "text": gen.text, "logprobs": None, "finish_reason": gen.finish_reason,
                      "stop_reason": gen.stop_reason}
            return {**self._frame(False, [choice], usage), "object": "text_completion"}
        reasoning, text = self._split_reasoning(gen.text)
        content: str | None = text
        calls: list[tuple[str, str]] = []
        if parse_tools:
            content, calls = vp.extract_non_streaming(text)
        message = {"role": "assistant", "content": content, self.reasoning_field or "reasoning_content": reasoning,
                   "tool_calls": [{"id": f"chatcmpl-tool-{uuid.uuid4().hex[:16]}", "type": "function",
                                   "function": {"name": n, "arguments": a}} for n, a in calls]}
        finish = "tool_calls" if calls and gen.finish_reason == "stop" else gen.finish_reason
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish,
                  "stop_reason": gen.stop_reason}
        return {**self._frame(True, [choice], usage), "object": "chat.completion"}

    def _completion_events(self, gen: Generation, _parse_tools: bool) -> list[Event]:
        events, sent = [], 0
        for piece in pieces(gen.text, self.chunk_chars):
            sent += len(piece)
            choice = {"index": 0, "text": piece, "logprobs": None, "finish_reason": None, "stop_reason": None}
            events.append(Event(sent, sse(self._frame(False, [choice]))))
        last = {"index": 0, "text": "", "logprobs": None, "finish_reason": gen.finish_reason,
                "stop_reason": gen.stop_reason}
        events.append(Event(sent, sse(self._frame(False, [last]))))
        return events

    def _split_reasoning(self, text: str) -> tuple[str | None, str]:
        """``(reasoning, rest)`` when a reasoning parser is emulated, else ``(None, text)``."""
        if self.reasoning_field is None or not text.lstrip().startswith("<think>"):
            return None, text
        head = text.lstrip()
        end = head.find("</think>")
        if end < 0:
            return head[len("<think>") :], ""
        return head[len("<think>") : end], head[end + len("</think>") :]

    def _chat_events(self, gen: Generation, parse_tools: bool) -> list[Event]:
        reasoning, text = self._split_reasoning(gen.text)
        base = len(gen.text) - len(text)  # characters already out when ``text`` begins

        def delta_event(sent: int, delta: dict[str, Any], finish: str | None = None) -> Event:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return Event(sent, sse(self._frame(True, [choice])))

        events = [delta_event(0, {"role": "assistant", "content": ""})]
        if reasoning and self.reasoning_field:
            sent = 0
            for piece in pieces(reasoning, self.chunk_chars):
                sent += len(piece)
                events.append(delta_event(sent, {self.reasoning_field: piece}))
        cuts = pieces(text, self.chunk_chars)
        ends, position = [], 0
        for piece in cuts:
            position += len(piece)
            ends.append(position)
        if not parse_tools:
            events += [delta_event(base + end, {"content": piece}) for piece, end in zip(cuts, ends, strict=True)]
            events.append(delta_event(base + len(text), {}, gen.finish_reason))
            return events
        plan = vp.plan_stream(text, defects=self.streaming_defects == "gen2", boundaries=frozenset(ends))
        # Per call: the argument fragment each delta carries (possibly empty), then the defects applied.
        fragments = [[vp.take(call.args, end - len(piece), end, text) for piece, end in zip(cuts, ends, strict=True)]
                     for call in plan.calls]
        if self.streaming_defects == "gen2":
            fragments = [_shift_nonempty(f) for f in fragments]
        elif self.streaming_defects == "gen1":
            fragments = [_resend_whole(f) for f in fragments]
        announced: set[int] = set()
        for step, (piece, end) in enumerate(zip(cuts, ends, strict=True)):
            content = vp.take(plan.content, end - len(piece), end, text)
            if content:
                events.append(delta_event(base + end, {"content": content}))
            for index, call in enumerate(plan.calls):
                if index not in announced and call.header_at <= end:
                    announced.add(index)
                    head = {"index": index, "id": f"chatcmpl-tool-{uuid.uuid4().hex[:16]}", "type": "function",
                            "function": {"name": call.name}}
                    events.append(delta_event(base + end, {"tool_calls": [head]}))
                fragment = fragments[index][step]
                if fragment and index in announced:
                    events.append(delta_event(base + end, {"tool_calls": [{"index": index,
                                                                     "function": {"arguments": fragment}}]}))
        finish = "tool_calls" if announced and gen.finish_reason == "stop" else gen.finish_reason
        events.append(delta_event(base + len(text), {}, finish))
        return events


def _resend_whole(fragments: list[str]) -> list[str]:
    """The first generation's diffs: every delta carries the whole argument text so far."""
    out, so_far = [], ""
    for fragment in fragments:
        so_far += fragment
        out.append(so_far if fragment else "")
    return out


def _shift_nonempty(fragments: list[str]) -> list[str]:
    at = [i for i, f in enumerate(fragments) if f]
    shifted = vp.shift_fragments([fragments[i] for i in at])
    out = list(fragments)
    for i, fragment in zip(at, shifted, strict=True):
        out[i] = fragment
    return out


def _continue(output: str, prompt: str) -> str:
    """The rest of ``output`` when the prompt already ends with a beginning of it (a resumed answer)."""
    at = prompt.rfind(GENERATION_HEADER)
    if at < 0:
        return output
    newline = prompt.find("\n", at)
    already = prompt[newline + 1 :] if newline >= 0 else ""
    return output[len(already) :] if already and output.startswith(already) else output
