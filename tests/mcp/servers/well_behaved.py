"""A well-behaved MCP server: plain, structured and failing tools, a nested schema, resources, prompts.

Serves stdio by default; ``--http PORT`` (optionally ``--token T`` to require a bearer token) or
``--sse PORT`` serve on 127.0.0.1.
"""

from __future__ import annotations

import argparse

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

server = MCPServer("well-behaved", version="1.0")


class Point(BaseModel):
    x: int
    y: int


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def add(a: int, b: int) -> dict[str, int]:
    """Add two integers."""
    return {"sum": a + b}


@server.tool()
def fail(message: str) -> str:
    """Always fail with the given message."""
    raise ToolError(message)


@server.tool()
def distance(start: Point, end: Point) -> float:
    """Manhattan distance between two points."""
    return abs(start.x - end.x) + abs(start.y - end.y)


@server.resource("notes://readme", mime_type="text/plain")
def readme() -> str:
    """The readme note."""
    return "This is the readme of the well-behaved server."


@server.prompt()
def greet(name: str) -> str:
    """A greeting prompt."""
    return f"Say hello to {name}."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int)
    parser.add_argument("--sse", type=int)
    parser.add_argument("--token")
    args = parser.parse_args()
    if args.http and args.token:
        _serve_http_with_token(args.http, args.token)
    elif args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    elif args.sse:
        server.run("sse", host="127.0.0.1", port=args.sse)
    else:
        server.run()


def _serve_http_with_token(port: int, token: str) -> None:
    import uvicorn

    app = server.streamable_http_app()

    async def guarded(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    uvicorn.run(guarded, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
