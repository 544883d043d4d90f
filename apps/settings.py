"""The settings of the apps (dashboard, MCP server), each variable read and validated here once.

Where the published marts are comes from the pipeline's own settings (``DUCKDB_PATH``,
``DUCKDB_PUBLISHED_PATH``, resolved by ``pipelines.publish.published_duckdb_path``), and the
reporting currency is the dbt var's variable (``REPORTING_CURRENCY``), so the apps read the file
and currency the nightly job wrote with the same ``.env``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import value
from pipelines.config.warehouse import published_duckdb_path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class AppSettings:
    #: The published marts file (absolute).
    published_path: Path
    #: The company's base currency, in which ARR, MRR and recognized revenue are reported.
    reporting_currency: str
    dashboard_host: str
    dashboard_port: int
    mcp_http_host: str
    mcp_http_port: int
    #: Most rows any MCP tool returns in one answer.
    mcp_max_rows: int
    #: Longest an MCP tool call may query the marts before it is interrupted.
    mcp_query_timeout_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppSettings:
        """The apps' settings, each variable parsed by its one registered parser
        (``pipelines/config/variables.py``); raises ConfigError naming the variable."""
        return cls(
            published_path=published_duckdb_path(env=env),
            reporting_currency=value("REPORTING_CURRENCY", env) or "USD",
            dashboard_host=value("DASHBOARD_HOST", env),
            dashboard_port=value("DASHBOARD_PORT", env),
            mcp_http_host=value("MCP_HTTP_HOST", env),
            mcp_http_port=value("MCP_HTTP_PORT", env),
            mcp_max_rows=value("MCP_MAX_ROWS", env),
            mcp_query_timeout_seconds=value("MCP_QUERY_TIMEOUT_SECONDS", env),
        )


def settings_for_launch(env_file: str | None) -> AppSettings:
    """What ``make dashboard`` / ``make mcp`` start with: ``env_file`` loaded as `make run`
    loads ``.env`` (the file wins over the shell), relative paths taken from the project root
    whatever the caller's working directory (an MCP client may start the server anywhere)."""
    path = Path(env_file).resolve() if env_file else None
    os.chdir(REPO_ROOT)
    if path is not None:
        from scripts.run_nightly import load_env_file

        load_env_file(path)
    return AppSettings.from_env()
