"""The MCP server: read-only tools over the published marts (``server.py``)."""
