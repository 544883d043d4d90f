"""Warehouse configuration shared by dlt, dbt and Dagster: one set of environment variables.

`WAREHOUSE` (`duckdb` | `snowflake`, default `duckdb`) chooses the warehouse. For Snowflake:

| variable | required | meaning |
|---|---|---|
| `SNOWFLAKE_ACCOUNT` | yes | account identifier, e.g. `myorg-myaccount` (not the URL) |
| `SNOWFLAKE_USER` | yes | the service user (key-pair auth recommended) |
| `SNOWFLAKE_PRIVATE_KEY` | one of | PKCS#8 private key as PEM text (literal `\\n` accepted) |
| `SNOWFLAKE_PRIVATE_KEY_PATH` | one of | path to a PEM private key file |
| `SNOWFLAKE_PRIVATE_KEY_PASSPHRASE` | no | passphrase of an encrypted key |
| `SNOWFLAKE_PASSWORD` | one of | password; used only when no key is set |
| `SNOWFLAKE_ROLE` | yes | role for loading and transforming |
| `SNOWFLAKE_WAREHOUSE` | yes | virtual warehouse that runs the queries |
| `SNOWFLAKE_DATABASE` | yes | database holding `ORDWAY_RAW` and the dbt schemas |
| `SNOWFLAKE_HOST` / `SNOWFLAKE_PORT` / `SNOWFLAKE_PROTOCOL` | no | emulator or proxy endpoint |

Decisions (see the README's Snowflake section):

- Role and warehouse are required: without them Snowflake silently uses the user's defaults,
  which differ between people and environments.
- A key and a password both set: the key wins and the password is ignored. Both key variables
  set is an error (dbt-snowflake refuses it too).
- Every check runs in `snowflake_settings_from_env`, before any extraction; errors name the
  variable and never contain a secret value.
- dlt writes timezone-aware timestamps as `TIMESTAMP_TZ` (`use_timestamp_tz=True`): dlt's
  default `TIMESTAMP_LTZ` renders in each session's time zone, so `cast(ts as date)` in dbt or
  a BI tool would depend on who runs it. Staged files are removed after `COPY INTO`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dlt
from cryptography.hazmat.primitives import serialization
from dlt.common.destination import Destination

from pipelines.ordway.settings import ConfigError

Warehouse = Literal["duckdb", "snowflake"]
WAREHOUSES: tuple[Warehouse, ...] = ("duckdb", "snowflake")

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

_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Unquoted Snowflake identifier (role, warehouse, database names).
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:ENCRYPTED |RSA )?PRIVATE KEY)-----[A-Za-z0-9+/=\s]+-----END \1-----"
)


class WarehouseConfigError(ConfigError):
    """The WAREHOUSE / SNOWFLAKE_* variables do not describe a usable warehouse. The message
    names the variable and never contains a secret value."""


@dataclass(frozen=True)
class SnowflakeSettings:
    """Validated Snowflake connection settings. Secrets are kept out of `repr`."""

    account: str
    user: str
    role: str
    warehouse: str
    database: str
    #: PEM text of the private key (read from SNOWFLAKE_PRIVATE_KEY_PATH when that is used).
    private_key: str | None = field(default=None, repr=False)
    private_key_path: Path | None = None
    private_key_passphrase: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int | None = None
    protocol: Literal["http", "https"] | None = None

    @property
    def authentication(self) -> Literal["key_pair", "password"]:
        return "key_pair" if self.private_key else "password"

    def secrets(self) -> tuple[str, ...]:
        """Secret values, for tests and log scrubbing."""
        values = (self.private_key, self.private_key_passphrase, self.password)
        return tuple(value for value in values if value)


def warehouse_from_env(env: Mapping[str, str] | None = None) -> Warehouse:
    """`WAREHOUSE`, lower-cased; `duckdb` when unset or empty."""
    env = os.environ if env is None else env
    value = (env.get("WAREHOUSE") or "").strip().lower() or "duckdb"
    if value not in WAREHOUSES:
        raise WarehouseConfigError(f"WAREHOUSE={value!r} must be 'duckdb' or 'snowflake'")
    return value  # type: ignore[return-value]


def snowflake_settings_from_env(env: Mapping[str, str] | None = None) -> SnowflakeSettings:
    """Reads and validates the SNOWFLAKE_* variables (see the module docstring).

    Raises WarehouseConfigError naming the first missing or malformed variable.
    """
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value is not None and value.strip() else None

    def required(name: str, meaning: str) -> str:
        value = get(name)
        if value is None:
            raise WarehouseConfigError(
                f"{name} is not set ({meaning}); needed for WAREHOUSE=snowflake"
            )
        return value

    account = required("SNOWFLAKE_ACCOUNT", "account identifier, e.g. myorg-myaccount")
    if "snowflakecomputing" in account.lower() or "://" in account:
        raise WarehouseConfigError(
            "SNOWFLAKE_ACCOUNT must be the account identifier (e.g. myorg-myaccount), "
            "not the account URL"
        )
    if not _ACCOUNT.match(account):
        raise WarehouseConfigError(
            "SNOWFLAKE_ACCOUNT may contain only letters, digits, '-', '_' and '.'"
        )
    user = required("SNOWFLAKE_USER", "the service user")
    names = {}
    for variable, meaning in (
        ("SNOWFLAKE_ROLE", "role used to load and transform"),
        ("SNOWFLAKE_WAREHOUSE", "virtual warehouse that runs the queries"),
        ("SNOWFLAKE_DATABASE", "database holding ORDWAY_RAW and MARTS"),
    ):
        value = required(variable, meaning)
        if not _IDENTIFIER.match(value):
            raise WarehouseConfigError(
                f"{variable}={value!r} is not a plain Snowflake identifier "
                "(letters, digits, _ and $, not starting with a digit)"
            )
        names[variable] = value.upper()

    passphrase = env.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE") or None
    private_key, private_key_path = _private_key(get, passphrase)
    password = env.get("SNOWFLAKE_PASSWORD") or None
    if private_key is None:
        if passphrase is not None:
            raise WarehouseConfigError(
                "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is set but neither SNOWFLAKE_PRIVATE_KEY nor "
                "SNOWFLAKE_PRIVATE_KEY_PATH is"
            )
        if password is None:
            raise WarehouseConfigError(
                "no Snowflake credential: set SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PRIVATE_KEY_PATH "
                "(key-pair authentication), or SNOWFLAKE_PASSWORD"
            )

    host, port, protocol = _endpoint(get)
    return SnowflakeSettings(
        account=account,
        user=user,
        role=names["SNOWFLAKE_ROLE"],
        warehouse=names["SNOWFLAKE_WAREHOUSE"],
        database=names["SNOWFLAKE_DATABASE"],
        private_key=private_key,
        private_key_path=private_key_path,
        private_key_passphrase=passphrase if private_key else None,
        password=None if private_key else password,
        host=host,
        port=port,
        protocol=protocol,
    )


def _private_key(get: Any, passphrase: str | None) -> tuple[str | None, Path | None]:
    """(PEM text, path) from SNOWFLAKE_PRIVATE_KEY or SNOWFLAKE_PRIVATE_KEY_PATH, validated by
    loading the key with the passphrase."""
    text, path_value = get("SNOWFLAKE_PRIVATE_KEY"), get("SNOWFLAKE_PRIVATE_KEY_PATH")
    if text and path_value:
        raise WarehouseConfigError(
            "SNOWFLAKE_PRIVATE_KEY and SNOWFLAKE_PRIVATE_KEY_PATH are both set; set only one"
        )
    if text:
        variable = "SNOWFLAKE_PRIVATE_KEY"
        # CI secret stores often turn newlines into the two characters \n.
        pem = text.replace("\\n", "\n")
        path = None
    elif path_value:
        variable = "SNOWFLAKE_PRIVATE_KEY_PATH"
        path = Path(path_value).expanduser()
        if not path.is_file():
            raise WarehouseConfigError(f"SNOWFLAKE_PRIVATE_KEY_PATH={path}: no such file")
        try:
            pem = path.read_text("ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not a text (PEM) file"
            raise WarehouseConfigError(
                f"SNOWFLAKE_PRIVATE_KEY_PATH={path}: cannot read it ({reason})"
            ) from None
    else:
        return None, None

    where = variable if path is None else f"{variable}={path}"
    match = _PEM_PRIVATE_KEY.search(pem)
    if match is None:
        raise WarehouseConfigError(
            f"{where} is not a PEM private key (expected '-----BEGIN PRIVATE KEY-----' or "
            "'-----BEGIN ENCRYPTED PRIVATE KEY-----')"
        )
    encrypted = match.group(1).startswith("ENCRYPTED")
    if encrypted and passphrase is None:
        raise WarehouseConfigError(f"{where} is encrypted; set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    try:
        serialization.load_pem_private_key(
            match.group(0).encode("ascii"),
            password=passphrase.encode() if encrypted and passphrase else None,
        )
    except (ValueError, TypeError):
        hint = (
            "wrong SNOWFLAKE_PRIVATE_KEY_PASSPHRASE?"
            if encrypted
            else "damaged key, or a passphrase given for an unencrypted key?"
        )
        raise WarehouseConfigError(f"{where}: the private key cannot be loaded ({hint})") from None
    return match.group(0) + "\n", path


def _endpoint(get: Any) -> tuple[str | None, int | None, Literal["http", "https"] | None]:
    host = get("SNOWFLAKE_HOST")
    if host is not None and not _HOST.match(host):
        raise WarehouseConfigError(
            f"SNOWFLAKE_HOST={host!r} must be a host name without scheme, port or path"
        )
    port_value = get("SNOWFLAKE_PORT")
    port = None
    if port_value is not None:
        if not port_value.isdigit() or not 0 < int(port_value) < 65536:
            raise WarehouseConfigError(f"SNOWFLAKE_PORT={port_value!r} is not a port (1-65535)")
        port = int(port_value)
    protocol = get("SNOWFLAKE_PROTOCOL")
    if protocol is not None:
        protocol = protocol.lower()
        if protocol not in ("http", "https"):
            raise WarehouseConfigError(f"SNOWFLAKE_PROTOCOL={protocol!r} must be http or https")
    if host is None and (port is not None or protocol is not None):
        raise WarehouseConfigError("SNOWFLAKE_PORT / SNOWFLAKE_PROTOCOL need SNOWFLAKE_HOST")
    return host, port, protocol  # type: ignore[return-value]


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


def check_warehouse_env(env: Mapping[str, str] | None = None) -> SnowflakeSettings | None:
    """Validates the warehouse variables before extraction starts: the Snowflake settings when
    WAREHOUSE=snowflake, None for DuckDB. Raises WarehouseConfigError."""
    if warehouse_from_env(env) == "snowflake":
        return snowflake_settings_from_env(env)
    return None


__all__ = [
    "MARTS_BUILD_SCHEMA",
    "MARTS_SCHEMA",
    "RAW_SCHEMA",
    "RAW_STAGING_SCHEMA",
    "SnowflakeSettings",
    "WarehouseConfigError",
    "check_warehouse_env",
    "dbt_env",
    "dlt_snowflake_credentials",
    "dlt_snowflake_destination",
    "snowflake_settings_from_env",
    "warehouse_from_env",
]
