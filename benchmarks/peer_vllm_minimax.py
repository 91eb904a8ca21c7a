"""Runs inside the peer venv: drive vLLM's streaming ``minimax`` tool parser over one token stream.

Usage: ``peer_vllm_minimax.py <package root> <input.json>``; the input holds ``pieces`` (one per token)
and ``expected`` calls. Prints one JSON line: CPU of parser + loop, CPU of the loop alone, and how many
calls came out with the right name and arguments once their streamed fragments are joined.
"""

from __future__ import annotations

import json
import logging
import sys
import time


def main() -> None:
    root, path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, root)
    logging.disable(logging.CRITICAL)
    from vllm.entrypoints.openai.protocol import ChatCompletionRequest
    from vllm.entrypoints.openai.tool_parsers.minimax_tool_parser import MinimaxToolParser

    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    pieces, expected = data["pieces"], data["expected"]

    class Tokenizer:
        def get_vocab(self) -> dict[str, int]:
            return {}  # <tool_calls> is not one token in M1's vocabulary, as in the real tokenizer

    request = ChatCompletionRequest(tools=[], tool_choice="auto")
    parser = MinimaxToolParser(Tokenizer())
    names: dict[int, str] = {}
    args: dict[int, list[str]] = {}
    content: list[str] = []

    def serve(call_parser: bool) -> float:
        start = time.process_time()
        previous_text, previous_ids = "", []
        for k, delta_text in enumerate(pieces):
            delta_ids = [k]
            current_text = previous_text + delta_text
            current_ids = previous_ids + delta_ids
            if call_parser:
                msg = parser.extract_tool_calls_streaming(
                    previous_text, current_text, delta_text, previous_ids, current_ids, delta_ids, request
                )
                if msg is not None:
                    if msg.content:
                        content.append(msg.content)
                    for tc in msg.tool_calls:
                        if tc.function is not None:
                            if tc.function.name:
                                names[tc.index] = tc.function.name
                            if tc.function.arguments:
                                args.setdefault(tc.index, []).append(tc.function.arguments)
            previous_text, previous_ids = current_text, current_ids
        return time.process_time() - start

    loop_cpu = serve(False)
    cpu = serve(True)
    right = 0
    streamed = sum(len(a) for parts in args.values() for a in parts)
    for index, call in enumerate(expected):
        try:
            got = json.loads("".join(args.get(index, [])))
        except json.JSONDecodeError:
            continue
        right += names.get(index) == call["name"] and got == call["arguments"]
    wanted = sum(len(json.dumps(call["arguments"], ensure_ascii=False)) for call in expected)
    check = f"{right}/{len(expected)} calls right; {streamed:,} argument characters streamed for {wanted:,} expected"
    print(json.dumps({"cpu": cpu, "loop_cpu": loop_cpu, "check": check}))


if __name__ == "__main__":
    main()
