"""The product's configuration, in one place: every environment variable is registered in
``variables.py`` (default, meaning, its one parser) and read only through ``value()``; the
settings built from them are grouped by concern:

- ``ordway.py``: ``OrdwaySettings``, the source's settings (credentials, paging, retries, ...);
- ``warehouse.py``: WAREHOUSE, the DuckDB files, dlt's directory, the lock timeout;
- ``snowflake.py``: ``SnowflakeSettings``, the SNOWFLAKE_* connection, validated together.

Every invalid or missing value raises ``ConfigError`` naming the variable; secrets are never
echoed. The orchestration knobs (NIGHTLY_CRON, FRESHNESS_HOURS, ...) are read with
``value("NAME")`` where they are used, so a bad value fails what uses it, not the whole code
location.
"""

from pipelines.config.ordway import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_PROGRESS_SECONDS,
    ENVIRONMENT_URLS,
    OrdwaySettings,
    parse_timestamp,
)
from pipelines.config.snowflake import (
    SnowflakeSettings,
    check_warehouse_env,
    snowflake_settings_from_env,
)
from pipelines.config.variables import (
    VARIABLES,
    ConfigError,
    Environment,
    Variable,
    raw,
    required,
    value,
)
from pipelines.config.warehouse import (
    WAREHOUSES,
    Warehouse,
    duckdb_load_config,
    duckdb_path,
    lock_timeout_seconds,
    pipelines_dir,
    published_duckdb_path,
    warehouse_kind,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_PROGRESS_SECONDS",
    "ENVIRONMENT_URLS",
    "VARIABLES",
    "WAREHOUSES",
    "ConfigError",
    "Environment",
    "OrdwaySettings",
    "SnowflakeSettings",
    "Variable",
    "Warehouse",
    "check_warehouse_env",
    "duckdb_load_config",
    "duckdb_path",
    "lock_timeout_seconds",
    "parse_timestamp",
    "pipelines_dir",
    "published_duckdb_path",
    "raw",
    "required",
    "snowflake_settings_from_env",
    "value",
    "warehouse_kind",
]
