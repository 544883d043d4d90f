"""What finance people and agents use: the finance dashboard and the MCP server, both reading
only the published marts (``DUCKDB_PUBLISHED_PATH``), read-only."""
