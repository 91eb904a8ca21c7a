"""Generated source for test repositories."""

from __future__ import annotations


def synthetic_module(index: int, lines: int = 60) -> str:
    """A plausible Python module of about ``lines`` lines, unique per ``index``."""
    body = [f'"""Module {index}: helpers for widget batch {index}."""', "", "import math", ""]
    for f in range(lines // 6):
        body += [
            f"def widget_{index}_{f}(value: float, scale: int = {f + 1}) -> float:",
            f'    """Scale value for widget {index}.{f}."""',
            f"    result = math.sqrt(abs(value)) * scale + {index * 7 + f}",
            "    return round(result, 3)",
            "",
            "",
        ]
    return "\n".join(body)
