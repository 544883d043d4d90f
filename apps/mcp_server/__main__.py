"""`make mcp` (stdio) and `make mcp-http` (streamable HTTP): the MCP server over the published
marts.

    python -m apps.mcp_server [--env-file .env] [--transport stdio|http] [--port N]

stdio is what desktop MCP clients launch (the client starts this command and talks over its
stdin/stdout); http serves MCP's streamable HTTP transport at
``http://MCP_HTTP_HOST:MCP_HTTP_PORT/mcp`` (default 127.0.0.1:8000; no authentication, so
expose it only behind your own access control). The log (one line per tool call) goes to
stderr, never stdout, which stdio uses for the protocol.
"""

from __future__ import annotations

import argparse
import logging
import sys

from apps.settings import settings_for_launch
from pipelines.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.mcp_server", description=__doc__)
    parser.add_argument("--env-file", help="dotenv file to load first (the file wins)")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--port", type=int, help="http: overrides MCP_HTTP_PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        settings = settings_for_launch(args.env_file)
    except ConfigError as exc:
        print(f"mcp server: {exc}", file=sys.stderr)
        return 2
    from apps.mcp_server.server import build_server

    server = build_server(settings)
    log = logging.getLogger("apps.mcp_server")
    log.info(
        "serving %s over %s; reading %s (read-only), at most %d rows and %g s a call",
        server.name,
        args.transport,
        settings.published_path,
        settings.mcp_max_rows,
        settings.mcp_query_timeout_seconds,
    )
    if args.transport == "stdio":
        server.run("stdio")
    else:
        port = args.port or settings.mcp_http_port
        log.info("streamable HTTP at http://%s:%d/mcp", settings.mcp_http_host, port)
        server.run("streamable-http", host=settings.mcp_http_host, port=port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
