"""Parse one whole raw M1 answer into a ``Turn``.

The grammar is documented in :mod:`m1agent.protocol.stream`; this is the streaming parser fed the
whole text at once, so a streamed answer and a whole one can never parse differently.
"""

from __future__ import annotations

from m1agent.protocol.stream import StreamParser
from m1agent.protocol.types import Turn


def parse(text: str, *, turn_index: int = 0) -> Turn:
    """Split raw M1 output into thinking, text, tool calls (ids ``call_<turn_index>_<i>``) and problems.

    Never raises on malformed output: whatever cannot be used is reported in ``Turn.problems`` with a
    sentence the model can act on.
    """
    parser = StreamParser(turn_index)
    parser.feed(text)
    return parser.close()
