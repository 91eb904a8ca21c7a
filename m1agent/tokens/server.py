"""Counting with the serving model's own tokenizer, through vLLM's ``POST /tokenize``."""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from typing import Any

import httpx

from m1agent.tokens.base import TokenizerError

_SERVER_HINT = "check that the vLLM server is running and that --server points at its base URL"


def tokenize_url(server_url: str) -> str:
    """vLLM serves ``/tokenize`` beside ``/v1``, so an OpenAI-style base URL loses its ``/v1``."""
    base = server_url.rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + "/tokenize"


class ServerCounter:
    """Exact counts from a vLLM server. Results are cached by the text's hash, so repeated texts are free.

    ``max_model_len`` is filled in from the first answer: the server's context window.
    """

    exact = True

    def __init__(
        self,
        server_url: str,
        *,
        model: str | None = None,
        timeout: float = 30.0,
        cache_tokens: int = 4_000_000,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = tokenize_url(server_url)
        self.model = model
        self.name = f"vllm-tokenize:{self.url}"
        self.max_model_len: int | None = None
        self._client = client or httpx.Client(timeout=timeout)
        self._cache: OrderedDict[bytes, array[int]] = OrderedDict()
        self._cached_tokens = 0
        self._cache_limit = cache_tokens
        self._lock = threading.Lock()

    def _request(self, text: str) -> array[int]:
        body: dict[str, Any] = {"prompt": text, "add_special_tokens": False}
        if self.model:
            body["model"] = self.model
        try:
            response = self._client.post(self.url, json=body)
        except httpx.HTTPError as error:
            raise TokenizerError(f"cannot reach {self.url}: {error}", hint=_SERVER_HINT) from None
        if response.status_code != 200:
            raise TokenizerError(
                f"{self.url} answered {response.status_code}: {response.text[:200]}", hint=_SERVER_HINT
            )
        try:
            data = response.json()
            tokens = array("I", data["tokens"])
            count = int(data["count"])
        except (ValueError, KeyError, TypeError, OverflowError):
            raise TokenizerError(
                f"{self.url} did not answer like vLLM's /tokenize: {response.text[:200]}", hint=_SERVER_HINT
            ) from None
        if count != len(tokens):
            raise TokenizerError(f"{self.url} reported count {count} for {len(tokens)} tokens", hint=_SERVER_HINT)
        if isinstance(data.get("max_model_len"), int):
            self.max_model_len = data["max_model_len"]
        return tokens

    def _tokens(self, text: str) -> array[int]:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        tokens = self._request(text)
        with self._lock:
            if key not in self._cache and len(tokens) <= self._cache_limit:
                self._cache[key] = tokens
                self._cached_tokens += len(tokens)
                while self._cached_tokens > self._cache_limit:
                    _, evicted = self._cache.popitem(last=False)
                    self._cached_tokens -= len(evicted)
        return tokens

    def count(self, text: str) -> int:
        """Tokens in ``text`` by the server's tokenizer (special-token strings count as one each)."""
        return len(self._tokens(text)) if text else 0

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` by the server's tokenizer."""
        return self._tokens(text).tolist() if text else []

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __repr__(self) -> str:
        return f"ServerCounter({self.url!r}, model={self.model!r})"
