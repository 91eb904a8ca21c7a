"""MCP call results as text the model can read: capped, with media and resources as short notes.

Both failure shapes (an ``is_error`` result and a raised ``MCPError``) become the same kind of
``ToolReturn(is_error=True)``, so the model sees one form whatever the server's SDK does.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mcp import MCPError
from mcp import types as mcp_types

from m1agent.tool import ToolReturn

# Structured content replaces the text blocks when its JSON is at most this long.
STRUCTURED_MAX_CHARS = 4000
_RESOURCE_TEXT_CHARS = 2000
_ERROR_CODES = {
    -32000: "the server closed the connection",
    -32001: "the request timed out",
    -32601: "the server does not support this method",
    -32602: "invalid parameters or unknown tool",
    -32603: "internal error in the server",
}


def cap_text(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to about ``limit`` characters, keeping the head and the tail, with a notice."""
    if len(text) <= limit:
        return text, False
    notice = f"\n[... {len(text) - limit:,} characters cut from the middle of {len(text):,} ...]\n"
    head = max(0, limit * 2 // 3)
    tail = max(0, limit - head)
    return text[:head] + notice + (text[-tail:] if tail else ""), True


def _size(data: str) -> str:
    try:
        n = len(base64.b64decode(data, validate=False))
    except (ValueError, TypeError):
        n = len(data) * 3 // 4
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} bytes"


def describe_block(block: Any, media: list[dict[str, Any]]) -> str:
    """One content block as text; image and audio data go to ``media`` for backends that take them."""
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        kind = "image" if isinstance(block, mcp_types.ImageContent) else "audio"
        media.append({"type": kind, "mime_type": block.mime_type, "data": block.data})
        return f"[{kind} {block.mime_type}, {_size(block.data)}, attachment #{len(media)}]"
    if isinstance(block, mcp_types.ResourceLink):
        mime = f", {block.mime_type}" if block.mime_type else ""
        about = f": {block.description}" if block.description else ""
        return f"[resource {block.name} <{block.uri}>{mime}{about}]"
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        mime = f", {resource.mime_type}" if resource.mime_type else ""
        if isinstance(resource, mcp_types.TextResourceContents):
            text, cut = cap_text(resource.text, _RESOURCE_TEXT_CHARS)
            more = " (cut; read the resource for all of it)" if cut else ""
            return f"[resource <{resource.uri}>{mime}{more}]\n{text}"
        return f"[resource <{resource.uri}>{mime}, {_size(resource.blob)} of binary data]"
    return f"[{getattr(block, 'type', type(block).__name__)} content]"


def convert_result(result: mcp_types.CallToolResult, *, tool: str, max_chars: int) -> ToolReturn:
    """The model's view of a call's result; the full text length is kept in ``metadata``."""
    media: list[dict[str, Any]] = []
    parts = [describe_block(block, media) for block in result.content]
    text = "\n".join(part for part in parts if part)
    structured = result.structured_content
    used_structured = False
    if structured is not None and not result.is_error:
        encoded = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
        only_text = all(isinstance(block, mcp_types.TextContent) for block in result.content)
        wrapped_text = isinstance(structured, dict) and list(structured) == ["result"] and (
            structured["result"] == text or json.dumps(structured["result"]) == text
        )
        if wrapped_text:
            pass  # a plain value the server wrapped as {"result": ...}: the text says it best
        elif (len(encoded) <= STRUCTURED_MAX_CHARS and only_text) or not text:
            # The text blocks of such results repeat the same data; the compact JSON says it once.
            text, used_structured = encoded, True
    if result.is_error:
        text = f"MCP tool {tool!r} failed: {text or 'the server gave no reason'}"
    elif not text:
        text = "(the tool returned no content)"
    full_chars = len(text)
    capped, truncated = cap_text(text, max_chars)
    metadata: dict[str, Any] = {"full_chars": full_chars, "truncated": truncated}
    if used_structured:
        metadata["structured"] = True
    if media:
        metadata["media"] = media
    return ToolReturn(content=capped, is_error=bool(result.is_error), metadata=metadata)


def error_return(tool: str, exc: BaseException) -> ToolReturn:
    """A raised ``MCPError`` (or a connection failure) as the same kind of failure an ``is_error`` is."""
    if isinstance(exc, MCPError):
        meaning = _ERROR_CODES.get(exc.code, "protocol error")
        text = f"MCP tool {tool!r} failed: {exc.message} (MCP error {exc.code}: {meaning})"
        metadata: dict[str, Any] = {"mcp_error_code": exc.code}
    else:
        text = f"MCP tool {tool!r} failed: {exc}"
        metadata = {"error_type": type(exc).__name__}
    return ToolReturn(content=text, is_error=True, metadata=metadata)
