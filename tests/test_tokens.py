"""The M1 token counters: exact BPE from the released merges, vLLM's /tokenize, and the estimate."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from m1agent.messages import AssistantMessage, ToolResultMessage, ToolSpec, UserMessage
from m1agent.protocol import render, to_openai_messages, tools_to_openai
from m1agent.protocol.types import ToolCallPart
from m1agent.tokens import (
    BEGIN_OF_DOCUMENT_ID,
    ENV_VAR,
    ApproxCounter,
    BPECounter,
    ServerCounter,
    TokenCounter,
    TokenizerError,
    bpe,
    count_messages,
    load_counter,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_ambient_tokenizer(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test sees only the tokenizer sources it sets up itself."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))


@pytest.fixture(scope="module")
def counter(tokenizer_dir: Path) -> BPECounter:
    loaded = load_counter(tokenizer_dir)
    assert isinstance(loaded, BPECounter)
    return loaded


# --- the exact counter -------------------------------------------------------------------------


def test_reproduces_the_documented_ids(counter: BPECounter) -> None:
    assert counter.exact and isinstance(counter, TokenCounter)
    assert counter.encode("<think>") == [60, 37959, 62]
    assert counter.encode("</think>") == [1579, 37959, 62]
    assert counter.encode("<tool_calls>") == [60, 45382, 144303, 62]
    assert counter.encoding.n_vocab == BEGIN_OF_DOCUMENT_ID + 1


def test_special_token_strings_count_one_each(counter: BPECounter) -> None:
    assert counter.encode("<beginning_of_sentence>") == [200019]
    assert counter.encode("<end_of_sentence>") == [200020]
    assert counter.encode("<end_of_document>") == [200021]
    assert counter.encode("<begin_of_document>") == [BEGIN_OF_DOCUMENT_ID]
    left, right = "Some text, then", " more text."
    joined = f"{left}<end_of_sentence>{right}"
    assert counter.count(joined) == counter.count(left) + 1 + counter.count(right)
    assert len(counter.encode_ordinary("<end_of_sentence>")) > 1


def test_a_rendered_prompt_counts_its_control_tokens_once(counter: BPECounter) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    prompt = render(messages)
    ids = counter.encode(prompt)
    assert ids[0] == BEGIN_OF_DOCUMENT_ID
    assert ids.count(200019) == 3 and ids.count(200020) == 2
    assert count_messages(messages, counter=counter) == len(ids)


def test_count_messages_takes_typed_history_too(counter: BPECounter) -> None:
    spec = ToolSpec("read", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}})
    typed = [
        UserMessage("Open a.py"),
        AssistantMessage(thinking="t", tool_calls=(ToolCallPart("read", {"path": "a.py"}, id="call_0_0"),)),
        ToolResultMessage("call_0_0", "read", "print(1)"),
    ]
    expected = counter.count(render(to_openai_messages(typed), tools_to_openai([spec])))
    assert count_messages(typed, [spec], counter=counter) == expected
    assert count_messages(to_openai_messages(typed), tools_to_openai([spec]), counter=counter) == expected
    with pytest.raises(TypeError, match="not a mix"):
        count_messages([UserMessage("a"), {"role": "user", "content": "b"}], counter=counter)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_decode_inverts_encode(counter: BPECounter, text: str) -> None:
    assert counter.decode(counter.encode(text)) == text


def test_round_trip_on_real_code_and_prose(counter: BPECounter) -> None:
    for path in [ROOT / "m1agent" / "protocol" / "render.py", ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        assert counter.decode(counter.encode(text)) == text
    assert counter.count_batch(["a b c", "", "中文"]) == [counter.count("a b c"), 0, counter.count("中文")]


def test_the_encoding_is_built_once_per_process(tokenizer_dir: Path) -> None:
    first = load_counter(tokenizer_dir)
    again = load_counter(tokenizer_dir / "merges.txt")
    assert isinstance(first, BPECounter) and isinstance(again, BPECounter)
    assert first.encoding is again.encoding


def test_the_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch, tokenizer_dir: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tokenizer_dir))
    loaded = load_counter()
    assert loaded.exact and loaded.encode("<think>") == [60, 37959, 62]


def test_a_bad_environment_variable_is_an_error_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(TokenizerError, match=ENV_VAR):
        load_counter()


def test_bad_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="does not exist"):
        load_counter(tmp_path / "missing")
    with pytest.raises(TokenizerError, match=r"neither merges\.txt nor tokenizer\.json"):
        load_counter(tmp_path)
    garbage = tmp_path / "merges.txt"
    garbage.write_text("#version: 0.2\nnot-a-merge-line\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match=r"merges\.txt:2: expected two tokens"):
        load_counter(tmp_path)
    garbage.write_text("#version: 0.2\nzz qq\n", encoding="utf-8")
    with pytest.raises(TokenizerError, match="neither a byte nor an earlier merge"):
        load_counter(garbage)


def test_a_tokenizer_json_without_the_tokenizers_package_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        with pytest.raises(TokenizerError, match="tokenizers"):
            load_counter(tmp_path)
    else:
        with pytest.raises(TokenizerError, match="cannot load"):
            load_counter(tmp_path)


def test_a_hugging_face_snapshot_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tokenizer_dir: Path) -> None:
    snapshot = tmp_path / "hub" / "models--MiniMaxAI--MiniMax-M1-80k" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "merges.txt").symlink_to(tokenizer_dir / "merges.txt")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert load_counter().encode("<think>") == [60, 37959, 62]


def test_parsed_ranks_are_cached_on_disk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tokenizer_dir: Path) -> None:
    monkeypatch.setenv("M1AGENT_CACHE_DIR", str(tmp_path / "cache"))
    merges = tmp_path / "merges.txt"
    head = (tokenizer_dir / "merges.txt").read_text(encoding="utf-8").split("\n")[:5001]
    merges.write_text("\n".join(head) + "\n", encoding="utf-8")
    parsed = bpe.load_ranks(merges)
    assert len(parsed) == 256 + 5000
    [cache_file] = (tmp_path / "cache").iterdir()
    assert bpe.load_ranks(merges) == parsed
    cache_file.write_bytes(cache_file.read_bytes()[:1000])  # a torn write is rebuilt, not trusted
    assert bpe.load_ranks(merges) == parsed
    assert bpe.load_ranks(merges, use_disk_cache=False) == parsed
    assert cache_file.stat().st_size > 10_000


# --- the estimate ------------------------------------------------------------------------------


def _samples() -> list[tuple[str, str]]:
    files = sorted((ROOT / "m1agent").rglob("*.py"))[:40] + sorted(ROOT.glob("**/README.md"))[:20]
    out = [(str(p), p.read_text(encoding="utf-8")) for p in files]
    out.append(
        ("json", json.dumps(json.loads((ROOT / "tests/protocol/golden/render_cases.json").read_text())["cases"][:20]))
    )
    out.append(("zh", "模型在回答之前会先思考，然后调用工具读取文件。上下文窗口有一百万个词元，" * 20))
    out.append(("ru", "Модель сначала думает, затем вызывает инструменты и читает файлы. " * 20))
    return out


def test_the_estimate_over_counts_real_code_and_prose(counter: BPECounter) -> None:
    approx = ApproxCounter()
    assert not approx.exact
    for name, text in _samples():
        exact = counter.count(text)
        estimate = approx.count(text)
        assert exact <= estimate <= 2.5 * exact + 8, (name, exact, estimate)


def test_the_estimate_cannot_encode() -> None:
    assert ApproxCounter().count("") == 0
    with pytest.raises(TokenizerError, match="cannot encode"):
        ApproxCounter().encode("text")


def test_with_no_source_the_estimate_is_used() -> None:
    loaded = load_counter()
    assert isinstance(loaded, ApproxCounter) and not loaded.exact


# --- vLLM's /tokenize --------------------------------------------------------------------------


class _TokenizeServer:
    """A loopback server answering ``POST /tokenize`` the way vLLM does, with the real M1 BPE."""

    def __init__(self, counter: BPECounter) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.garble = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, **body})
                if self.path != "/tokenize":
                    self._send(404, {"detail": "Not Found"})
                elif outer.fail_with:
                    self._send(outer.fail_with, {"object": "error", "message": "tokenizer exploded"})
                elif outer.garble:
                    self._send(200, {"unexpected": True})
                else:
                    tokens = counter.encode(body["prompt"])
                    self._send(
                        200, {"count": len(tokens), "max_model_len": 1_000_000, "tokens": tokens, "token_strs": None}
                    )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def tokenize_server(counter: BPECounter) -> Iterator[_TokenizeServer]:
    server = _TokenizeServer(counter)
    yield server
    server.close()


def test_the_server_counts_and_caches(tokenize_server: _TokenizeServer, counter: BPECounter) -> None:
    loaded = load_counter(server_url=tokenize_server.url + "/v1", model="MiniMaxAI/MiniMax-M1-80k")
    assert isinstance(loaded, ServerCounter) and loaded.exact
    prompt = render([{"role": "user", "content": "Count me, 数えて"}])
    assert loaded.count(prompt) == counter.count(prompt)
    assert loaded.encode(prompt) == counter.encode(prompt)
    assert loaded.max_model_len == 1_000_000
    sent = [r for r in tokenize_server.requests if r["prompt"] == prompt]
    assert len(sent) == 1
    assert sent[0] == {
        "path": "/tokenize",
        "prompt": prompt,
        "add_special_tokens": False,
        "model": "MiniMaxAI/MiniMax-M1-80k",
    }
    assert loaded.count("") == 0
    loaded.close()


def test_server_failures_are_clear_errors(tokenize_server: _TokenizeServer) -> None:
    loaded = ServerCounter(tokenize_server.url)
    tokenize_server.fail_with = 500
    with pytest.raises(TokenizerError, match=r"answered 500: .*tokenizer exploded"):
        loaded.count("text")
    tokenize_server.fail_with = None
    tokenize_server.garble = True
    with pytest.raises(TokenizerError, match="did not answer like vLLM's /tokenize"):
        loaded.count("other text")
    loaded.close()


def test_an_unreachable_server_falls_back_to_the_estimate_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="m1agent.tokens"):
        loaded = load_counter(server_url=f"http://127.0.0.1:{port}")
    assert isinstance(loaded, ApproxCounter)
    assert "estimates" in caplog.text and str(port) in caplog.text
    with pytest.raises(TokenizerError, match="cannot reach"):
        ServerCounter(f"http://127.0.0.1:{port}", timeout=2).count("x")
