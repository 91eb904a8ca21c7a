"""The model's side of the demo, as raw M1 outputs; ``record.py`` turns them into the cassette."""

FIXED = '''"""Small text helpers."""

import re


def slugify(title: str) -> str:
    """Lower-case words joined by hyphens: ``"Hello, World!"`` becomes ``"hello-world"``."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)


def word_count(text: str) -> int:
    """How many words ``text`` holds."""
    return len(text.split())
'''


PATCH = """--- a/textkit.py
+++ b/textkit.py
@@ -1,8 +1,11 @@
 \"\"\"Small text helpers.\"\"\"

+import re
+

 def slugify(title: str) -> str:
     \"\"\"Lower-case words joined by hyphens: ``"Hello, World!"`` becomes ``"hello-world"``.\"\"\"
-    words = title.lower().split(" ")
+    words = re.findall(r"[a-z0-9]+", title.lower())
     return "-".join(words)
"""


def _call(name: str, arguments: dict[str, object]) -> str:
    import json

    return "<tool_calls>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool_calls>"


TEST = "python3 -m unittest -v 2>&1 | tail -25"

OUTPUTS = [
    "<think>\nThe user wants the failing test fixed. I should run the test suite first to see what fails, "
    "rather than guess.\n</think>\n" + _call("run_shell", {"command": TEST}),
    "<think>\nTwo slugify tests fail: punctuation is kept and repeated spaces give empty words. "
    "Let me read the implementation.\n</think>\n" + _call("read_file", {"path": "textkit.py"}),
    "<think>\nslugify splits on single spaces only and keeps punctuation. Taking the runs of letters and "
    "digits with a regular expression fixes both cases, and leaves plain words as they were.\n</think>\n"
    "I'll make `slugify` keep only runs of letters and digits.\n"
    + _call("apply_patch", {"patch": PATCH}),
    "<think>\nNow run the tests again to confirm.\n</think>\n" + _call("run_shell", {"command": TEST}),
    "<think>\nAll four tests pass.\n</think>\n"
    "Fixed `slugify` in `textkit.py`: it split on single spaces and kept punctuation, so "
    "`\"Hello, World!\"` gave `hello,-world!` and repeated spaces gave empty words. It now joins the runs "
    "of letters and digits (`re.findall(r\"[a-z0-9]+\", ...)`). All 4 tests pass in the sandbox; the "
    "change is below for review.",
]
