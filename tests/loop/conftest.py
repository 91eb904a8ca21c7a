"""Fixtures for loop tests."""

from __future__ import annotations

import sys
from pathlib import Path

# The tests import their scripted-output helpers (loop_helpers.py) by name, in any import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))
