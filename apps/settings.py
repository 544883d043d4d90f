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

from pipelines.publish import published_duckdb_path

#: DUCKDB_PATH's default, as for the pipeline (assets.resources.duckdb_path).
DEFAULT_DUCKDB_PATH = "data/ordway.duckdb"
REPO_ROOT = Path(__file__).resolve().parents[1]


class AppSettingError(ValueError):
    """An app setting is invalid; the message names the variable (never another value)."""


def _text(name: str, default: str, env: Mapping[str, str]) -> str:
    return (env.get(name) or "").strip() or default


def _number(
    name: str, default: float, env: Mapping[str, str], *, minimum: float, maximum: float
) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise AppSettingError(f"{name}={raw!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise AppSettingError(f"{name}={raw!r} must be between {minimum:g} and {maximum:g}")
    return value


def _port(name: str, default: int, env: Mapping[str, str]) -> int:
    value = _number(name, default, env, minimum=1, maximum=65535)
    if value != int(value):
        raise AppSettingError(f"{name}={value!r} is not a whole number")
    return int(value)


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
        env = os.environ if env is None else env
        working = Path(_text("DUCKDB_PATH", DEFAULT_DUCKDB_PATH, env)).expanduser()
        try:
            published = published_duckdb_path(working, env)
        except ValueError as exc:  # WarehouseConfigError names DUCKDB_PUBLISHED_PATH
            raise AppSettingError(str(exc)) from None
        currency = _text("REPORTING_CURRENCY", "USD", env).upper()
        if not (len(currency) == 3 and currency.isalpha()):
            raise AppSettingError(f"REPORTING_CURRENCY={currency!r} is not a 3-letter ISO code")
        return cls(
            published_path=published,
            reporting_currency=currency,
            dashboard_host=_text("DASHBOARD_HOST", "127.0.0.1", env),
            dashboard_port=_port("DASHBOARD_PORT", 8501, env),
            mcp_http_host=_text("MCP_HTTP_HOST", "127.0.0.1", env),
            mcp_http_port=_port("MCP_HTTP_PORT", 8000, env),
            mcp_max_rows=int(_number("MCP_MAX_ROWS", 500, env, minimum=1, maximum=10000)),
            mcp_query_timeout_seconds=_number(
                "MCP_QUERY_TIMEOUT_SECONDS", 10.0, env, minimum=0.1, maximum=600
            ),
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
