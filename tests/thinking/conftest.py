"""Fixtures for thinking tests."""

from __future__ import annotations

import sys
from pathlib import Path

# The wire tests import their helpers (thinking_wire_helpers.py) by name, in any import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))
