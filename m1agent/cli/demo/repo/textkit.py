"""Small text helpers."""


def slugify(title: str) -> str:
    """Lower-case words joined by hyphens: ``"Hello, World!"`` becomes ``"hello-world"``."""
    words = title.lower().split(" ")
    return "-".join(words)


def word_count(text: str) -> int:
    """How many words ``text`` holds."""
    return len(text.split())
