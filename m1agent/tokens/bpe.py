"""The exact M1 tokenizer, rebuilt from the released ``merges.txt`` as a ``tiktoken`` encoding.

M1's vocabulary is byte-level BPE: the 256 byte tokens (GPT-2's byte-to-unicode alphabet, ids 0..255 by byte
value), then one token per merge in file order (merge *i* has id 256 + *i*), 200,000 ids in all. The
pre-tokenizer split is OpenAI's o200k pattern, not GPT-2's. This reproduces the ids vLLM documents:
``<think>`` = [60, 37959, 62] and ``</think>`` = [1579, 37959, 62].

Special tokens start at 200000 (the MiniMax-Text-01/M1 added tokens). ``<begin_of_document>``, the first
token of every prompt, is absent from every published list; we assume it is special and give it id 200034,
the id MiniMax-M2 gives its begin-of-document token (M2 keeps M1's 200019/200020 for begin/end of
sentence). Its count (1) is what matters; its id is a guess.

Parsing the 2.4 MB merges file takes most of a second, so the parsed ranks are cached on disk (a plain
length-prefixed file, not a pickle), keyed by the file's SHA-256, and the built encoding is cached per
file in the process.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
from array import array
from itertools import accumulate
from pathlib import Path

import tiktoken

from m1agent.tokens.base import TokenizerError

O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

BEGIN_OF_DOCUMENT_ID = 200034  # assumed: see the module docstring

SPECIAL_TOKENS: dict[str, int] = {
    "<pad>": 200000,
    "<fim_prefix>": 200001,
    "<fim_middle>": 200002,
    "<fim_suffix>": 200003,
    "<fim_pad>": 200004,
    "<reponame>": 200005,
    "<filename>": 200006,
    "<gh_stars>": 200007,
    "<issue_start>": 200008,
    "<issue_comment>": 200009,
    "<issue_closed>": 200010,
    "<jupyter_start>": 200011,
    "<jupyter_text>": 200012,
    "<jupyter_code>": 200013,
    "<jupyter_output>": 200014,
    "<empty_output>": 200015,
    "<commit_before>": 200016,
    "<commit_msg>": 200017,
    "<commit_after>": 200018,
    "<beginning_of_sentence>": 200019,
    "<end_of_sentence>": 200020,
    "<end_of_document>": 200021,
    "<function_call>": 200022,
    "<code_interpreter>": 200023,
    "<speech>": 200024,
    "<image>": 200025,
    "<begin_of_document>": BEGIN_OF_DOCUMENT_ID,
}

MERGES_FILE = "merges.txt"
EXPECTED_MERGES = 199_744
_CACHE_MAGIC = b"M1BPE\x01"


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, inverted: character -> byte value."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(char): byte for byte, char in zip(printable, chars, strict=True)}


def parse_merges(text: str, *, source: str = MERGES_FILE) -> list[bytes]:
    """Every token's bytes in rank order: the 256 single bytes, then one per merge line."""
    decoder = _byte_decoder()
    pieces = {char: bytes([byte]) for char, byte in decoder.items()}
    tokens = [bytes([byte]) for byte in range(256)]
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or (number == 1 and line.startswith("#version")):
            continue
        left, sep, right = line.partition(" ")
        if not sep or " " in right:
            raise TokenizerError(f"{source}:{number}: expected two tokens separated by one space, got {line!r:.60}")
        try:
            merged = pieces[left] + pieces[right]
        except KeyError as missing:
            raise TokenizerError(f"{source}:{number}: {missing} is neither a byte nor an earlier merge") from None
        pieces[left + right] = merged
        tokens.append(merged)
    return tokens


def _cache_dir() -> Path:
    explicit = os.environ.get("M1AGENT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "m1agent"


def _read_cache(path: Path) -> list[bytes] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(_CACHE_MAGIC) + 4
    if len(data) < header or not data.startswith(_CACHE_MAGIC):
        return None
    (count,) = struct.unpack_from("<I", data, len(_CACHE_MAGIC))
    lengths = array("H")
    lengths.frombytes(data[header : header + 2 * count])
    blob = data[header + 2 * count :]
    if len(lengths) != count or sum(lengths) != len(blob):
        return None  # truncated or foreign: rebuild
    ends = list(accumulate(lengths))
    return [blob[end - length : end] for end, length in zip(ends, lengths, strict=True)]


def _write_cache(path: Path, tokens: list[bytes]) -> None:
    if max(map(len, tokens)) > 0xFFFF:
        return  # lengths are stored in 16 bits; no real BPE token comes close
    lengths = array("H", (len(token) for token in tokens))
    payload = _CACHE_MAGIC + struct.pack("<I", len(tokens)) + lengths.tobytes() + b"".join(tokens)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".bpe-") as tmp:
            tmp.write(payload)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only home only costs load time


def load_ranks(merges_path: Path, *, use_disk_cache: bool = True) -> list[bytes]:
    """Token bytes in rank order from ``merges.txt``, through the on-disk cache when allowed."""
    try:
        raw = merges_path.read_bytes()
    except OSError as error:
        raise TokenizerError(f"cannot read {merges_path}: {error.strerror or error}") from None
    cache_path = _cache_dir() / f"bpe-{hashlib.sha256(raw).hexdigest()[:32]}.bin"
    if use_disk_cache and (cached := _read_cache(cache_path)) is not None:
        return cached
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenizerError(f"{merges_path} is not UTF-8 text: is it really a merges.txt?") from None
    tokens = parse_merges(text, source=str(merges_path))
    if len(tokens) < 257:
        raise TokenizerError(f"{merges_path} holds no merges: is it really a merges.txt?")
    if use_disk_cache:
        _write_cache(cache_path, tokens)
    return tokens


def build_encoding(tokens: list[bytes], *, name: str = "minimax-m1") -> tiktoken.Encoding:
    """A tiktoken encoding over ``tokens`` (rank = id) with the o200k split and M1's special tokens."""
    ranks = dict(zip(tokens, range(len(tokens)), strict=True))
    if len(ranks) != len(tokens):
        raise TokenizerError("two merges produce the same bytes: these ranks cannot be used as token ids")
    specials = {text: token_id for text, token_id in SPECIAL_TOKENS.items() if token_id >= len(tokens)}
    return tiktoken.Encoding(name, pat_str=O200K_PATTERN, mergeable_ranks=ranks, special_tokens=specials)


_encodings: dict[tuple[str, int, int], tiktoken.Encoding] = {}
_encodings_lock = threading.Lock()


def encoding_for(merges_path: Path) -> tiktoken.Encoding:
    """The encoding for one merges file, built once per process (per path, size and mtime)."""
    resolved = merges_path.resolve()
    try:
        stat = resolved.stat()
    except OSError as error:
        raise TokenizerError(f"cannot read {merges_path}: {error.strerror or error}") from None
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    with _encodings_lock:
        if key not in _encodings:
            _encodings[key] = build_encoding(load_ranks(resolved))
        return _encodings[key]


class BPECounter:
    """The exact M1 counter: tiktoken with ranks from ``merges.txt`` (4-6 MB/s on one core)."""

    exact = True

    def __init__(self, encoding: tiktoken.Encoding, *, name: str) -> None:
        self.encoding = encoding
        self.name = name

    @classmethod
    def from_merges(cls, merges_path: Path) -> BPECounter:
        """Load from a ``merges.txt`` file (cached per process and on disk)."""
        return cls(encoding_for(merges_path), name=f"m1-bpe:{merges_path}")

    def count(self, text: str) -> int:
        """Tokens in ``text``; special-token strings count as one each."""
        return len(self.encoding.encode(text, allowed_special="all"))

    def count_batch(self, texts: list[str], *, num_threads: int = 2) -> list[int]:
        """Counts of many texts, encoded on ``num_threads`` threads (tiktoken releases the GIL)."""
        encoded = self.encoding.encode_batch(texts, num_threads=num_threads, allowed_special="all")
        return [len(ids) for ids in encoded]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, reading special-token strings as the special tokens."""
        return self.encoding.encode(text, allowed_special="all")

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of ``text`` with special-token strings read as plain text."""
        return self.encoding.encode_ordinary(text)

    def decode(self, ids: list[int]) -> str:
        """The text of ``ids`` (invalid UTF-8 from a cut multi-byte character becomes U+FFFD)."""
        return self.encoding.decode(ids, errors="replace")

    def __repr__(self) -> str:
        return f"BPECounter({self.name!r})"
