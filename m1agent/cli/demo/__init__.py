"""The offline demo: the coding agent fixes a failing test in a bundled repository.

The model's turns come from a recorded cassette (``cassette.jsonl``, made by ``record.py`` from
``script.py``); the tools, the Docker sandbox, the tests run inside it, the policy and the diff are real.
"""

from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE / "repo"
CASSETTE = HERE / "cassette.jsonl"
TASK = "The tests of this repository fail. Find out why and fix the code, then show that the tests pass."
