"""Writing one benchmark's section of RESULTS.md, leaving the other sections as they are."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(body: str, path: Path = RESULTS) -> None:
    """Replace the section whose heading is ``body``'s first line (``## Name``), or append it."""
    body = body.strip("\n") + "\n"
    heading = body.splitlines()[0]
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(heading + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + body + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.write_text(text.rstrip("\n") + "\n")
    print(f"wrote {path.name} ({heading})")
