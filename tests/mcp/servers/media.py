"""An MCP server with big outputs, images and resource blocks."""

from __future__ import annotations

import base64

from mcp import types
from mcp.server.mcpserver import MCPServer

server = MCPServer("media", version="1.0")
# A 1x1 transparent PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@server.tool()
def big(size: int) -> str:
    """Return ``size`` characters: a head marker, filler, a tail marker."""
    filler = "x" * max(0, size - 20)
    return f"HEAD-MARKER{filler}TAIL-MARK"


@server.tool()
def picture() -> list[types.ContentBlock]:
    """Return a caption and a tiny PNG image."""
    return [
        types.TextContent(type="text", text="a tiny picture"),
        types.ImageContent(type="image", data=base64.b64encode(PIXEL).decode(), mime_type="image/png"),
    ]


@server.tool()
def linked() -> list[types.ContentBlock]:
    """Return a resource link and an embedded text resource."""
    return [
        types.ResourceLink(type="resource_link", name="report", uri="file:///tmp/report.txt", mime_type="text/plain"),
        types.EmbeddedResource(
            type="resource",
            resource=types.TextResourceContents(uri="memo://1", mime_type="text/plain", text="memo body"),
        ),
    ]


if __name__ == "__main__":
    import sys

    if "--http" in sys.argv:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[sys.argv.index("--http") + 1]))
    else:
        server.run()
