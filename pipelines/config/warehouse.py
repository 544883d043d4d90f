"""Where the warehouse is: WAREHOUSE, the DuckDB files (working and published), dlt's working
directory, DuckDB's load settings and the warehouse lock's timeout. Snowflake's connection
settings are in ``snowflake.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pipelines.config.variables import ConfigError, Environment, value

Warehouse = Literal["duckdb", "snowflake"]
WAREHOUSES: tuple[Warehouse, ...] = ("duckdb", "snowflake")
#: Infix of the file a publication writes before renaming it over the published file.
PUBLISHING_INFIX = ".publishing-"


def warehouse_kind(env: Environment | None = None) -> Warehouse:
    """``WAREHOUSE``: ``duckdb`` (default) or ``snowflake``."""
    return value("WAREHOUSE", env)


def duckdb_path(env: Environment | None = None) -> Path:
    """DUCKDB_PATH as an absolute path (a relative one is relative to the working directory;
    dbt runs from dbt_project/, so it must get the absolute one)."""
    return value("DUCKDB_PATH", env).expanduser().resolve()


def published_duckdb_path(working: Path | None = None, env: Environment | None = None) -> Path:
    """The DuckDB file BI reads: ``DUCKDB_PUBLISHED_PATH`` as an absolute path, default
    ``<stem>_marts<suffix>`` next to the working file (``working``, default DUCKDB_PATH:
    ``data/ordway.duckdb`` -> ``data/ordway_marts.duckdb``).

    Raises ConfigError naming the variable when it is the working file itself, a directory, or a
    DuckDB side file (``.wal``).
    """
    working = (working or duckdb_path(env)).expanduser().resolve()
    given = value("DUCKDB_PUBLISHED_PATH", env)
    if given is not None:
        path = given.expanduser().resolve()
    else:
        path = working.with_name(f"{working.stem}_marts{working.suffix or '.duckdb'}")
    where = f"DUCKDB_PUBLISHED_PATH={path}"
    if path == working:
        raise ConfigError(f"{where} is DUCKDB_PATH itself; BI's copy must be a different file")
    if path.is_dir():
        raise ConfigError(f"{where} is a directory; give a file path")
    if path.name.endswith(".wal") or PUBLISHING_INFIX in path.name:
        raise ConfigError(f"{where} looks like a DuckDB side file; give a .duckdb path")
    return path


def pipelines_dir(env: Environment | None = None) -> Path:
    """DLT_PIPELINES_DIR as an absolute path (not created here)."""
    return value("DLT_PIPELINES_DIR", env).expanduser().resolve()


def duckdb_load_config(env: Environment | None = None) -> dict[str, str]:
    """DuckDB settings for dlt's load connection: ``memory_limit`` (DUCKDB_MEMORY_LIMIT, default
    256MB; set but empty = DuckDB's default, 80 % of RAM) and ``threads`` (DUCKDB_THREADS)."""
    settings = {
        "memory_limit": value("DUCKDB_MEMORY_LIMIT", env),
        "threads": value("DUCKDB_THREADS", env),
    }
    return {name: setting for name, setting in settings.items() if setting}


def lock_timeout_seconds(env: Environment | None = None) -> float:
    """How long a second writer waits for the warehouse lock (WAREHOUSE_LOCK_TIMEOUT_SECONDS)."""
    return float(value("WAREHOUSE_LOCK_TIMEOUT_SECONDS", env))


__all__ = [
    "PUBLISHING_INFIX",
    "WAREHOUSES",
    "Warehouse",
    "duckdb_load_config",
    "duckdb_path",
    "lock_timeout_seconds",
    "pipelines_dir",
    "published_duckdb_path",
    "warehouse_kind",
]
