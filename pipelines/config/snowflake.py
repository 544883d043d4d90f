"""Snowflake's connection settings (the SNOWFLAKE_* variables), one set for dlt, dbt and
Dagster, validated together before anything runs.

- Role and warehouse are required: without them Snowflake silently uses the user's defaults,
  which differ between people and environments.
- A key and a password both set: the key wins and the password is ignored. Both key variables
  set is an error (dbt-snowflake refuses it too).
- Errors name the variable and never contain a secret value; secrets are kept out of ``repr``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization

from pipelines.config.variables import ConfigError, Environment, raw
from pipelines.config.warehouse import warehouse_kind

_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Unquoted Snowflake identifier (role, warehouse, database names).
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:ENCRYPTED |RSA )?PRIVATE KEY)-----[A-Za-z0-9+/=\s]+-----END \1-----"
)


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


def snowflake_settings_from_env(env: Environment | None = None) -> SnowflakeSettings:
    """Reads and validates the SNOWFLAKE_* variables (see the module docstring).

    Raises ConfigError naming the first missing or malformed variable.
    """

    def get(name: str) -> str | None:
        return raw(name, env)

    def required(name: str, meaning: str) -> str:
        value = get(name)
        if value is None:
            raise ConfigError(f"{name} is not set ({meaning}); needed for WAREHOUSE=snowflake")
        return value

    account = required("SNOWFLAKE_ACCOUNT", "account identifier, e.g. myorg-myaccount")
    if "snowflakecomputing" in account.lower() or "://" in account:
        raise ConfigError(
            "SNOWFLAKE_ACCOUNT must be the account identifier (e.g. myorg-myaccount), "
            "not the account URL"
        )
    if not _ACCOUNT.match(account):
        raise ConfigError("SNOWFLAKE_ACCOUNT may contain only letters, digits, '-', '_' and '.'")
    user = required("SNOWFLAKE_USER", "the service user")
    names = {}
    for variable, meaning in (
        ("SNOWFLAKE_ROLE", "role used to load and transform"),
        ("SNOWFLAKE_WAREHOUSE", "virtual warehouse that runs the queries"),
        ("SNOWFLAKE_DATABASE", "database holding ORDWAY_RAW and MARTS"),
    ):
        value = required(variable, meaning)
        if not _IDENTIFIER.match(value):
            raise ConfigError(
                f"{variable}={value!r} is not a plain Snowflake identifier "
                "(letters, digits, _ and $, not starting with a digit)"
            )
        names[variable] = value.upper()

    passphrase = get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    private_key, private_key_path = _private_key(get, passphrase)
    password = get("SNOWFLAKE_PASSWORD")
    if private_key is None:
        if passphrase is not None:
            raise ConfigError(
                "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is set but neither SNOWFLAKE_PRIVATE_KEY nor "
                "SNOWFLAKE_PRIVATE_KEY_PATH is"
            )
        if password is None:
            raise ConfigError(
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
        raise ConfigError(
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
            raise ConfigError(f"SNOWFLAKE_PRIVATE_KEY_PATH={path}: no such file")
        try:
            pem = path.read_text("ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not a text (PEM) file"
            raise ConfigError(
                f"SNOWFLAKE_PRIVATE_KEY_PATH={path}: cannot read it ({reason})"
            ) from None
    else:
        return None, None

    where = variable if path is None else f"{variable}={path}"
    match = _PEM_PRIVATE_KEY.search(pem)
    if match is None:
        raise ConfigError(
            f"{where} is not a PEM private key (expected '-----BEGIN PRIVATE KEY-----' or "
            "'-----BEGIN ENCRYPTED PRIVATE KEY-----')"
        )
    encrypted = match.group(1).startswith("ENCRYPTED")
    if encrypted and passphrase is None:
        raise ConfigError(f"{where} is encrypted; set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
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
        raise ConfigError(f"{where}: the private key cannot be loaded ({hint})") from None
    return match.group(0) + "\n", path


def _endpoint(get: Any) -> tuple[str | None, int | None, Literal["http", "https"] | None]:
    host = get("SNOWFLAKE_HOST")
    if host is not None and not _HOST.match(host):
        raise ConfigError(
            f"SNOWFLAKE_HOST={host!r} must be a host name without scheme, port or path"
        )
    port_value = get("SNOWFLAKE_PORT")
    port = None
    if port_value is not None:
        if not port_value.isdigit() or not 0 < int(port_value) < 65536:
            raise ConfigError(f"SNOWFLAKE_PORT={port_value!r} is not a port (1-65535)")
        port = int(port_value)
    protocol = get("SNOWFLAKE_PROTOCOL")
    if protocol is not None:
        protocol = protocol.lower()
        if protocol not in ("http", "https"):
            raise ConfigError(f"SNOWFLAKE_PROTOCOL={protocol!r} must be http or https")
    if host is None and (port is not None or protocol is not None):
        raise ConfigError("SNOWFLAKE_PORT / SNOWFLAKE_PROTOCOL need SNOWFLAKE_HOST")
    return host, port, protocol  # type: ignore[return-value]


def check_warehouse_env(env: Environment | None = None) -> SnowflakeSettings | None:
    """Validates the warehouse variables before extraction starts: the Snowflake settings when
    WAREHOUSE=snowflake, None for DuckDB. Raises ConfigError."""
    if warehouse_kind(env) == "snowflake":
        return snowflake_settings_from_env(env)
    return None


__all__ = ["SnowflakeSettings", "check_warehouse_env", "snowflake_settings_from_env"]
