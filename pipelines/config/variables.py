"""Every environment variable the product reads: one registry entry each, with its default, its
meaning and its one parser.

``value(name)`` is the only way product code reads the environment: it refuses a name that is not
registered here, returns the parsed value (the parsed default when the variable is unset or blank)
and raises ``ConfigError`` naming the variable when the value is invalid. Secrets never appear in
an error (the parsers of secret variables do not echo the value).

Variables that only dbt or the deployed Dagster instance read (``env_var()`` in
``dbt_project/profiles.yml``, ``env:`` in ``deploy/dagster.yaml``) are registered too, without a
parser, so the registry is the complete list the README and ``.env.example`` are tested against
(``tests/test_configuration.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipelines.ordway.contract import COLLECTIONS

#: The environment to read: os.environ, or a mapping given by the caller (tests, subprocess env).
Environment = Mapping[str, str]


class ConfigError(ValueError):
    """The environment does not describe a usable configuration; the message names the variable
    and never contains a secret value."""


#: (variable name, raw text) -> value; raises ConfigError naming the variable.
Parser = Callable[[str, str], Any]


@dataclass(frozen=True)
class Variable:
    """One environment variable: what it means, its default as a user would write it (the
    README's default column shows exactly this text), who reads it and how it is parsed."""

    name: str
    meaning: str
    #: Read by: "source", "dbt", "Dagster", "publish", "scripts", "deployed Dagster".
    used_by: str
    parse: Parser | None = None
    default: str | None = None
    secret: bool = False
    #: Leading and trailing spaces are part of the value (passwords, passphrases).
    keep_spaces: bool = False
    #: A set-but-empty value is a value of its own (DUCKDB_MEMORY_LIMIT= means "no cap"),
    #: not "unset".
    empty_is_a_value: bool = False


# --------------------------------------------------------------------------------- parsers


def text(name: str, raw: str) -> str:
    return raw


def upper(name: str, raw: str) -> str:
    return raw.upper()


def choice(*options: str) -> Parser:
    """One of ``options``, case-insensitively (returned lower-cased)."""

    def parse(name: str, raw: str) -> str:
        value = raw.lower()
        if value not in options:
            listed = ", ".join(repr(o) for o in options[:-1]) + f" or {options[-1]!r}"
            raise ConfigError(f"{name}={value!r} must be {listed}")
        return value

    return parse


def number(*, minimum: float, integer: bool = False) -> Parser:
    def parse(name: str, raw: str) -> float | int:
        try:
            value: float | int = int(raw) if integer else float(raw)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise ConfigError(f"{name}={raw!r} is not {kind}") from None
        if value < minimum:
            raise ConfigError(f"{name}={raw!r} must be >= {minimum:g}")
        return value

    return parse


def bounded(minimum: float, maximum: float, *, integer: bool = False) -> Parser:
    """A number between ``minimum`` and ``maximum`` (a whole number with ``integer``)."""
    any_number = number(minimum=float("-inf"))

    def parse(name: str, raw: str) -> float | int:
        value = any_number(name, raw)
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name}={raw!r} must be between {minimum:g} and {maximum:g}")
        if integer:
            if value != int(value):
                raise ConfigError(f"{name}={raw!r} is not a whole number")
            return int(value)
        return value

    return parse


def currency_code(name: str, raw: str) -> str:
    """A three-letter ISO currency code, upper-cased."""
    code = raw.upper()
    if not (len(code) == 3 and code.isalpha()):
        raise ConfigError(f"{name}={code!r} is not a 3-letter ISO currency code")
    return code


def amount(name: str, raw: str) -> Decimal:
    """A non-negative decimal amount, e.g. 0.01."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{name}={raw!r} is not an amount like 0.01") from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f"{name}={raw!r} must be an amount >= 0")
    return value


def day(name: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a date YYYY-MM-DD") from None


def timestamp(name: str, raw: str) -> datetime:
    """A date (midnight UTC) or an ISO timestamp, as an aware UTC datetime."""
    try:
        if len(raw) == 10:
            parsed = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a date (YYYY-MM-DD) or ISO timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def path(name: str, raw: str) -> Path:
    return Path(raw)


def http_url(
    example: str, *, what: str = "an http(s) URL with a host", echo: bool = False
) -> Parser:
    """An http(s) URL with a host, no query string and no credentials, without a trailing
    slash. The value is echoed in an error only with ``echo`` (a URL may carry a token)."""

    def parse(name: str, raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            where = f"{name}={raw!r}" if echo else name
            raise ConfigError(f"{where} must be {what}, e.g. {example}")
        if parts.query or parts.username or parts.password:
            raise ConfigError(f"{name} must not contain a query string or credentials")
        return raw.rstrip("/")

    return parse


def secret_url(name: str, raw: str) -> str:
    """A secret http(s) URL (a webhook): checked without ever echoing it."""
    if urlsplit(raw).scheme not in ("http", "https"):
        raise ConfigError(f"{name} must be an https:// URL (value not shown)")
    return raw


def collection_names(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated Ordway collection names, each one the contract knows."""
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    unknown = [n for n in names if n not in COLLECTIONS]
    if unknown:
        raise ConfigError(
            f"{name} names unknown collection(s) {', '.join(unknown)}; "
            f"known: {', '.join(COLLECTIONS)}"
        )
    return names


# -------------------------------------------------------------------------------- registry

_ORDWAY_URL = "https://api.ordwaylabs.com/api/v1"

_VARIABLES = [
    # ---- the Ordway source
    Variable("ORDWAY_API_KEY", "company API key, sent as X-API-KEY", "source", text, secret=True),
    Variable("ORDWAY_COMPANY", "company name, sent as X-User-Company", "source", text, secret=True),
    Variable(
        "ORDWAY_USER_EMAIL", "API user's email, sent as X-User-Email", "source", text, secret=True
    ),
    Variable(
        "ORDWAY_USER_TOKEN", "API user's token, sent as X-User-Token", "source", text, secret=True
    ),
    Variable(
        "ORDWAY_BASE_URL",
        "API root; wins over ORDWAY_ENVIRONMENT",
        "source",
        http_url(_ORDWAY_URL),
    ),
    Variable(
        "ORDWAY_ENVIRONMENT",
        "production, sandbox or staging",
        "source",
        choice("production", "sandbox", "staging"),
        default="production",
    ),
    Variable(
        "ORDWAY_PAGE_SIZE",
        "rows per page",
        "source",
        number(minimum=1, integer=True),
        default="50",
    ),
    Variable(
        "ORDWAY_LOOKBACK_HOURS",
        "incremental runs re-read this window before the cursor",
        "source",
        number(minimum=0),
        default="2",
    ),
    Variable(
        "ORDWAY_MAX_RPS",
        "requests per second across all resources; 0 = unlimited",
        "source",
        number(minimum=0),
        default="2",
    ),
    Variable(
        "ORDWAY_PER_CUSTOMER_CONCURRENCY",
        "requests in flight at once for each per-customer collection (customer notes, payment "
        "methods: one listing per customer); ORDWAY_MAX_RPS still caps the total rate",
        "source",
        number(minimum=1, integer=True),
        default="4",
    ),
    Variable(
        "ORDWAY_TIMEOUT_SECONDS",
        "HTTP timeout per request",
        "source",
        number(minimum=0.001),
        default="30",
    ),
    Variable(
        "ORDWAY_MAX_RETRIES",
        "retries per request after the first attempt",
        "source",
        number(minimum=0, integer=True),
        default="6",
    ),
    Variable(
        "ORDWAY_MAX_PAGES",
        "guard against endless paging, per resource",
        "source",
        number(minimum=1, integer=True),
        default="20000",
    ),
    Variable(
        "ORDWAY_START_DATE",
        "initial cursor of the first incremental load",
        "source",
        timestamp,
        default="2000-01-01",
    ),
    Variable(
        "ORDWAY_COLLECTIONS",
        "comma-separated collections to extract (default: every collection)",
        "source",
        collection_names,
    ),
    Variable(
        "ORDWAY_SKIP_COLLECTIONS",
        "comma-separated collections to leave out, applied after ORDWAY_COLLECTIONS",
        "source",
        collection_names,
    ),
    Variable(
        "ORDWAY_PROGRESS_SECONDS",
        "how often an extraction logs its progress",
        "source",
        number(minimum=0.1),
        default="10",
    ),
    # ---- the warehouse
    Variable("WAREHOUSE", "duckdb or snowflake", "all", choice("duckdb", "snowflake"), "duckdb"),
    Variable(
        "DUCKDB_PATH",
        "the working DuckDB file (raw, staging, intermediate, marts being built)",
        "source, dbt, Dagster",
        path,
        default="data/ordway.duckdb",
    ),
    Variable(
        "DUCKDB_PUBLISHED_PATH",
        "the DuckDB file BI reads (default <DUCKDB_PATH stem>_marts.duckdb next to it)",
        "Dagster, demo",
        path,
    ),
    Variable(
        "DLT_PIPELINES_DIR",
        "dlt's local working directory (and the warehouse lock file)",
        "source, Dagster",
        path,
        default="data/dlt",
    ),
    # DuckDB takes up to 80 % of RAM by default and its merge of a large load peaked at 1.5 GB in
    # the benchmark; capped, it spills to <DUCKDB_PATH>.tmp instead.
    Variable(
        "DUCKDB_MEMORY_LIMIT",
        "DuckDB memory_limit while dlt loads; empty = DuckDB's default (80 % of RAM)",
        "source",
        text,
        default="256MB",
        empty_is_a_value=True,
    ),
    Variable("DUCKDB_THREADS", "DuckDB threads while dlt loads", "source", text),
    # glibc reads it when a process starts; the source also applies it (mallopt) when a run
    # starts, so a Dagster run worker or a CLI started without it gets it too.
    Variable(
        "MALLOC_ARENA_MAX",
        "glibc malloc arenas of the process that extracts (applied when a run starts); 0 = "
        "glibc's default, 8 per core",
        "source",
        number(minimum=0, integer=True),
        default="2",
    ),
    Variable(
        "WAREHOUSE_LOCK_TIMEOUT_SECONDS",
        "how long a second writer waits for the warehouse before failing",
        "Dagster",
        number(minimum=0),
        default="600",
    ),
    # ---- Snowflake (validated together in pipelines/config/snowflake.py)
    Variable("SNOWFLAKE_ACCOUNT", "account identifier (not the URL)", "all", text),
    Variable("SNOWFLAKE_USER", "the service user", "all", text),
    Variable("SNOWFLAKE_PRIVATE_KEY", "PEM private key text", "all", text, secret=True),
    Variable("SNOWFLAKE_PRIVATE_KEY_PATH", "path to a PEM private key file", "all", text),
    Variable(
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
        "passphrase of an encrypted key",
        "all",
        text,
        secret=True,
        keep_spaces=True,
    ),
    Variable(
        "SNOWFLAKE_PASSWORD",
        "password, used only when no key is set",
        "all",
        text,
        secret=True,
        keep_spaces=True,
    ),
    Variable("SNOWFLAKE_ROLE", "role for loading and transforming", "all", text),
    Variable("SNOWFLAKE_WAREHOUSE", "virtual warehouse that runs the queries", "all", text),
    Variable("SNOWFLAKE_DATABASE", "database holding ORDWAY_RAW and the dbt schemas", "all", text),
    Variable("SNOWFLAKE_HOST", "emulator or proxy host", "all", text),
    Variable("SNOWFLAKE_PORT", "emulator or proxy port", "all", text),
    Variable("SNOWFLAKE_PROTOCOL", "emulator or proxy protocol", "all", text),
    Variable("SNOWFLAKE_SCHEMA", "dbt's default schema on Snowflake", "dbt"),
    # ---- dbt
    Variable("ORDWAY_RAW_SCHEMA", "schema the staging models read the raw tables from", "dbt"),
    Variable("DBT_TARGET", "profile target (Dagster derives it from WAREHOUSE)", "dbt"),
    Variable("DBT_THREADS", "dbt threads", "dbt"),
    Variable("DBT_PROFILES_DIR", "where profiles.yml is", "dbt, scripts", path),
    Variable(
        "DBT_TARGET_PATH",
        "dbt's target directory inside dbt_project/",
        "dbt, Dagster",
        path,
        default="target",
    ),
    Variable("AS_OF_DATE", "dbt var as_of_date (default: today, UTC)", "dbt, Dagster", day),
    Variable(
        "REPORTING_CURRENCY",
        "dbt var reporting_currency (dbt's default: USD)",
        "dbt, Dagster, apps",
        currency_code,
    ),
    # ---- orchestration (Dagster)
    Variable("NIGHTLY_CRON", "when the nightly job runs", "Dagster", text, default="0 2 * * *"),
    Variable("NIGHTLY_TIMEZONE", "the cron's timezone", "Dagster", text, default="UTC"),
    Variable("SWEEP_CRON", "the weekly delete sweep", "Dagster", text, default="0 4 * * 0"),
    Variable(
        "ORDWAY_BACKFILL_START",
        "the first monthly partition is this day's month",
        "Dagster",
        day,
        default="2020-01-01",
    ),
    Variable(
        "FRESHNESS_HOURS",
        "hours without a successful load before the freshness check fails",
        "Dagster",
        number(minimum=0),
        default="36",
    ),
    Variable(
        "ROW_COUNT_DROP_PCT",
        "a raw table shrinking by more than this percent fails the run",
        "Dagster",
        number(minimum=0),
        default="20",
    ),
    Variable(
        "TIEOUT_TOLERANCE",
        "largest per-row tie-out difference that only warns",
        "Dagster",
        amount,
        default="0.00",
    ),
    Variable(
        "OVERDUE_ALERT_DAYS",
        "invoices and debit memos further past due than this are alerted after each publication",
        "Dagster",
        number(minimum=0),
        default="60",
    ),
    Variable(
        "DAGSTER_WEBSERVER_URL",
        "address of the Dagster UI, for the links in alerts",
        "Dagster",
        http_url("http://127.0.0.1:3000", what="the http(s) address of the Dagster UI", echo=True),
        default="http://127.0.0.1:3000",
    ),
    Variable("SLACK_WEBHOOK_URL", "Slack incoming webhook", "Dagster", secret_url, secret=True),
    Variable("SLACK_BOT_TOKEN", "Slack app bot token", "Dagster", text, secret=True),
    Variable("SLACK_CHANNEL", "channel the bot token posts to", "Dagster", text),
    Variable("DAGSTER_HOME", "Dagster instance directory", "scripts", path),
    # ---- the apps (apps/): the dashboard and the MCP server
    Variable(
        "DASHBOARD_HOST", "address make dashboard listens on", "apps", text, default="127.0.0.1"
    ),
    Variable("DASHBOARD_PORT", "its port", "apps", bounded(1, 65535, integer=True), default="8501"),
    Variable("MCP_HTTP_HOST", "address of make mcp-http", "apps", text, default="127.0.0.1"),
    Variable("MCP_HTTP_PORT", "its port", "apps", bounded(1, 65535, integer=True), default="8000"),
    Variable(
        "MCP_MAX_ROWS",
        "most rows an MCP tool returns in one answer",
        "apps",
        bounded(1, 10000, integer=True),
        default="500",
    ),
    Variable(
        "MCP_QUERY_TIMEOUT_SECONDS",
        "longest an MCP tool call may query the marts",
        "apps",
        bounded(0.1, 600),
        default="10",
    ),
    # ---- the webhook receiver (pipelines/webhooks/) and its sensors
    Variable(
        "WEBHOOK_SECRET",
        "shared secret Ordway sends in WEBHOOK_SECRET_HEADER (the receiver needs it)",
        "webhooks",
        text,
        secret=True,
    ),
    Variable(
        "WEBHOOK_SECRET_HEADER",
        "custom header of the Ordway webhook that carries WEBHOOK_SECRET",
        "webhooks",
        text,
        default="X-Ordway-Webhook-Token",
    ),
    Variable(
        "WEBHOOK_HOST", "address the receiver listens on", "webhooks", text, default="127.0.0.1"
    ),
    Variable(
        "WEBHOOK_PORT", "its port", "webhooks", bounded(1, 65535, integer=True), default="8780"
    ),
    Variable(
        "WEBHOOK_DB_PATH",
        "SQLite file of received, rejected and alerted webhook deliveries (receiver and sensors)",
        "webhooks, Dagster",
        path,
        default="data/webhooks.sqlite3",
    ),
    # ---- the deployed Dagster instance (deploy/dagster.yaml)
    Variable("DAGSTER_POSTGRES_HOST", "PostgreSQL host", "deployed Dagster"),
    Variable("DAGSTER_POSTGRES_PORT", "PostgreSQL port", "deployed Dagster"),
    Variable("DAGSTER_POSTGRES_USER", "PostgreSQL user", "deployed Dagster"),
    Variable("DAGSTER_POSTGRES_PASSWORD", "PostgreSQL password", "deployed Dagster", secret=True),
    Variable("DAGSTER_POSTGRES_DB", "PostgreSQL database", "deployed Dagster"),
]

#: Every variable, by name.
VARIABLES: dict[str, Variable] = {variable.name: variable for variable in _VARIABLES}


# --------------------------------------------------------------------------------- reading


def _variable(name: str) -> Variable:
    try:
        variable = VARIABLES[name]
    except KeyError:
        raise KeyError(
            f"{name} is not a registered variable (pipelines/config/variables.py)"
        ) from None
    if variable.parse is None:
        raise KeyError(f"{name} is read by {variable.used_by}, not by the product's Python code")
    return variable


def raw(name: str, env: Environment | None = None) -> str | None:
    """The variable's text as set (stripped unless it keeps its spaces); None when unset, or
    blank (unless a blank is a value of its own)."""
    variable = _variable(name)
    value = (os.environ if env is None else env).get(name)
    if value is None:
        return None
    if not variable.keep_spaces:
        value = value.strip()
    if value == "" and not variable.empty_is_a_value:
        return None
    return value


def value(name: str, env: Environment | None = None) -> Any:
    """The parsed value of a variable, its parsed default when unset (None without a default).

    Raises ConfigError naming the variable when the value is invalid.
    """
    variable = _variable(name)
    given = raw(name, env)
    if given is None:
        given = variable.default
    if given is None:
        return None
    assert variable.parse is not None
    return variable.parse(name, given)


def required(name: str, meaning: str, env: Environment | None = None) -> Any:
    """``value(name)``, which must be set: ConfigError "<NAME> is not set (<meaning>)"."""
    result = value(name, env)
    if result is None:
        raise ConfigError(f"{name} is not set ({meaning})")
    return result


__all__ = [
    "VARIABLES",
    "ConfigError",
    "Environment",
    "Variable",
    "raw",
    "required",
    "value",
]
