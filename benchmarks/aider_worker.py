"""Aider's repo map as a peer of the localization benchmark; runs in aider's own virtualenv.

Reads one JSON request a line on stdin ({"root", "files", "query", "budgets"}) and writes one JSON
answer a line: the files in aider's rank order, and per budget the files its map shows with lines.
Aider is used as in a chat with no files added: the question's words are its mentioned identifiers,
and the map gets exactly the budget (``map_mul_no_files=1``), counted with the M1 counter.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aider.repomap import RepoMap

from m1agent.tokens import load_counter


class _Model:
    def __init__(self, tokenizer: str) -> None:
        self.counter = load_counter(tokenizer)

    def token_count(self, text: str) -> int:
        return self.counter.count(text)


class _Quiet:
    def tool_output(self, *args: object, **kwargs: object) -> None: ...
    def tool_warning(self, *args: object, **kwargs: object) -> None: ...
    def tool_error(self, *args: object, **kwargs: object) -> None: ...
    def read_text(self, path: str, silent: bool = False) -> str | None:
        try:
            return Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def main() -> None:
    model = _Model(sys.argv[1])
    maps: dict[str, RepoMap] = {}
    for line in sys.stdin:
        req = json.loads(line)
        root = req["root"]
        rm = maps.get(root)
        if rm is None:
            rm = maps[root] = RepoMap(root=root, main_model=model, io=_Quiet(), map_mul_no_files=1, refresh="always")
        files = [str(Path(root) / f) for f in req["files"]]
        idents = {w for w in re.split(r"\W+", req["query"]) if w}
        ranked_tags = rm.get_ranked_tags([], files, set(), idents)
        order: list[str] = []
        seen: set[str] = set()
        for tag in ranked_tags:
            if tag[0] not in seen:
                seen.add(tag[0])
                order.append(tag[0])
        rm.get_ranked_tags = lambda *a, _tags=ranked_tags, **k: _tags  # type: ignore[method-assign]
        shown: dict[str, list[str]] = {}
        for budget in req["budgets"]:
            text = rm.get_ranked_tags_map_uncached([], files, budget, set(), idents) or ""
            shown[str(budget)] = sorted({ln[:-1] for ln in text.splitlines() if ln.endswith(":") and ln[:-1] in seen})
        del rm.get_ranked_tags
        sys.stdout.write(json.dumps({"ranked": order, "shown": shown}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
