"""The warehouse as dlt, dbt and Dagster reach it: schema names, dlt's destination (DuckDB or
Snowflake) and dbt's environment for Snowflake. The settings themselves are read and validated in
``pipelines/config/`` (WAREHOUSE, DUCKDB_*, SNOWFLAKE_*).

Decisions (see the README's Snowflake section):

- dlt writes timezone-aware timestamps as `TIMESTAMP_TZ` (`use_timestamp_tz=True`): dlt's
  default `TIMESTAMP_LTZ` renders in each session's time zone, so `cast(ts as date)` in dbt or
  a BI tool would depend on who runs it. Staged files are removed after `COPY INTO`.
- DuckDB's load connection gets DUCKDB_MEMORY_LIMIT / DUCKDB_THREADS
  (``pipelines.config.duckdb_load_config``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination import Destination

from pipelines.config import (
    ConfigError,
    SnowflakeSettings,
    Warehouse,
    duckdb_load_config,
    snowflake_settings_from_env,
)

#: dlt's Snowflake naming folds identifiers to upper case: dataset `ordway_raw` is schema
#: `ORDWAY_RAW`, its merge/replace staging dataset `ORDWAY_RAW_STAGING`, and the child table
#: `invoices__line_items` is `INVOICES__LINE_ITEMS`. dbt builds and tests the marts in
#: `MARTS_BUILD` (`dbt_project/macros/generate_schema_name.sql`); publishing swaps it with
#: `MARTS`, the schema BI reads (`pipelines/publish.py`).
RAW_SCHEMA = "ORDWAY_RAW"
RAW_STAGING_SCHEMA = "ORDWAY_RAW_STAGING"
MARTS_SCHEMA = "MARTS"
MARTS_BUILD_SCHEMA = "MARTS_BUILD"

#: Session query tag for dlt's statements (cost attribution in QUERY_HISTORY).
DLT_QUERY_TAG = (
    '{{"source":"{source}","resource":"{resource}","table":"{table}",'
    '"load_id":"{load_id}","pipeline_name":"{pipeline_name}"}}'
)


def ensure_duckdb_path(path: Path) -> Path:
    """Creates the parent directory and checks it is writable before any extraction."""
    path = path.expanduser().resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"DUCKDB_PATH={path}: cannot create directory {path.parent} ({exc.strerror})"
        ) from None
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK) or (path.exists() and not path.is_file()):
        raise ConfigError(f"DUCKDB_PATH={path} is not writable")
    return path


def dlt_destination(
    warehouse: Warehouse, duckdb_path: Path, **options: Any
) -> Destination[Any, Any]:
    """The one place where the warehouse is chosen: dlt's DuckDB destination on ``duckdb_path``
    (its directory created and checked) or its Snowflake destination with the validated
    SNOWFLAKE_* settings. ``options`` go to the destination factory."""
    if warehouse == "duckdb":
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        path = ensure_duckdb_path(duckdb_path)
        credentials = DuckDbCredentials(str(path), global_config=duckdb_load_config())
        return dlt.destinations.duckdb(credentials=credentials, **options)
    return dlt_snowflake_destination(snowflake_settings_from_env(), **options)


def dlt_snowflake_credentials(settings: SnowflakeSettings) -> dict[str, Any]:
    """Credentials for `dlt.destinations.snowflake` (dlt's `host` is the account identifier;
    the network host, port and protocol go to the connector as query parameters)."""
    credentials: dict[str, Any] = {
        "host": settings.account,
        "username": settings.user,
        "database": settings.database,
        "warehouse": settings.warehouse,
        "role": settings.role,
    }
    if settings.private_key:
        credentials["private_key"] = settings.private_key
        if settings.private_key_passphrase:
            credentials["private_key_passphrase"] = settings.private_key_passphrase
    else:
        credentials["password"] = settings.password
    query: dict[str, Any] = {}
    if settings.host:
        query["host"] = settings.host
    if settings.port:
        query["port"] = settings.port
    if settings.protocol:
        query["protocol"] = settings.protocol
    if query:
        credentials["query"] = query
    return credentials


def dlt_snowflake_destination(settings: SnowflakeSettings, **options: Any) -> Destination[Any, Any]:
    """dlt's Snowflake destination for these settings. `options` go to the factory and
    override the defaults (TIMESTAMP_TZ, staged files removed, query tag)."""
    defaults: dict[str, Any] = {
        "use_timestamp_tz": True,
        "keep_staged_files": False,
        "query_tag": DLT_QUERY_TAG,
    }
    return dlt.destinations.snowflake(
        credentials=dlt_snowflake_credentials(settings), **{**defaults, **options}
    )


def dbt_env(settings: SnowflakeSettings) -> dict[str, str]:
    """Environment for `dbt ... --target snowflake` with dbt_project/profiles.yml.

    Every SNOWFLAKE_* variable of the profile is set, unused ones to "" (the profile ignores
    empty values), so the caller's environment cannot add a second credential:
    `subprocess.run([...], env={**os.environ, **dbt_env(settings)})`.
    """
    key_from_file = settings.private_key_path is not None
    return {
        "DBT_TARGET": "snowflake",
        "SNOWFLAKE_ACCOUNT": settings.account,
        "SNOWFLAKE_USER": settings.user,
        "SNOWFLAKE_ROLE": settings.role,
        "SNOWFLAKE_WAREHOUSE": settings.warehouse,
        "SNOWFLAKE_DATABASE": settings.database,
        "SNOWFLAKE_PASSWORD": settings.password or "",
        "SNOWFLAKE_PRIVATE_KEY": "" if key_from_file else (settings.private_key or ""),
        "SNOWFLAKE_PRIVATE_KEY_PATH": str(settings.private_key_path) if key_from_file else "",
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": settings.private_key_passphrase or "",
        "SNOWFLAKE_HOST": settings.host or "",
        "SNOWFLAKE_PORT": str(settings.port) if settings.port else "",
        "SNOWFLAKE_PROTOCOL": settings.protocol or "",
    }


__all__ = [
    "MARTS_BUILD_SCHEMA",
    "MARTS_SCHEMA",
    "RAW_SCHEMA",
    "RAW_STAGING_SCHEMA",
    "dbt_env",
    "dlt_destination",
    "dlt_snowflake_credentials",
    "dlt_snowflake_destination",
    "ensure_duckdb_path",
]
