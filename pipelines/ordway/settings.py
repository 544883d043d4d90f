"""Configuration of the Ordway source: endpoints, page sizes, incremental vs full refresh, field
types per collection, and the environment variables the pipeline reads.

Field lists follow `ordway_sandbox/TENANT.md` and `ordway-api.md` §11. Only fields that
need a type other than text are listed; every other field is loaded as it arrives.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

PIPELINE_NAME = "ordway"
DATASET_NAME = "ordway_raw"
SOURCE_NAME = "ordway"
DELETIONS_TABLE = "_ordway_deletions"

ENVIRONMENT_URLS = {
    "production": "https://api.ordwaylabs.com/api/v1",
    "sandbox": "https://sandbox.ordwaylabs.com/api/v1",
    "staging": "https://staging.ordwaylabs.com/api/v1",
}
DEFAULT_PAGE_SIZE = 50
#: How often (seconds) the extraction logs its progress (ORDWAY_PROGRESS_SECONDS).
DEFAULT_PROGRESS_SECONDS = 10.0
REVENUE_SCHEDULES_PAGE_SIZE = 500
#: Filter timestamp format, as the Singer tap sends it (`ordway-api.md` §5.2).
FILTER_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

#: Money columns: exact decimals. Scale 10 keeps unit prices and rates exact; amounts are 2 dp.
MONEY_PRECISION = 38
MONEY_SCALE = 10

Mode = Literal["incremental", "full", "sweep", "backfill"]
MODES: tuple[Mode, ...] = ("incremental", "full", "sweep", "backfill")


class ConfigError(ValueError):
    """The environment does not describe a usable configuration (names the variable)."""


@dataclass(frozen=True)
class FieldTypes:
    """Typed fields of one table (root or child). Everything not listed stays text/as-is."""

    money: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    timestamps: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()


def _types(
    money: str = "",
    dates: str = "",
    timestamps: str = "created_date updated_date",
    numbers: str = "",
    integers: str = "",
    booleans: str = "",
) -> FieldTypes:
    return FieldTypes(
        money=frozenset(money.split()),
        dates=frozenset(dates.split()),
        timestamps=frozenset(timestamps.split()),
        numbers=frozenset(numbers.split()),
        integers=frozenset(integers.split()),
        booleans=frozenset(booleans.split()),
    )


#: A child path is the tuple of list keys from the root record, e.g. ("payments", "invoices").
#: Nested objects (key_metrics, custom_fields, contacts on invoices) are addressed with dotted
#: names inside a table's field lists, e.g. "key_metrics.amount_invoiced".
ChildPath = tuple[str, ...]


@dataclass(frozen=True)
class Collection:
    """One Ordway list endpoint and how it is loaded."""

    name: str
    incremental: bool
    primary_key: str = "id"
    sort: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    #: Key under which some endpoints wrap the list (`{"usages": [...], "total": N}`).
    wrapper_key: str | None = None
    tables: Mapping[ChildPath, FieldTypes] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/{self.name}"


# Application objects (payment/credit -> invoice) carry date-only audit fields (§11.11), so
# their audit fields are left as text.
_APPLICATION = _types(money="amount_applied", timestamps="")
_PAYMENT = _types(
    money="payment_amount fee_amount applied_amount unapplied_amount refunded_amount surcharge_fee",
    dates="payment_date",
    timestamps="created_date updated_date refunded_on",
    numbers="conversion_rate",
    integers="failed_attempt retried_attempts",
    booleans="auto_apply email_status",
)
_REFUND_SUMMARY = _types(money="refund_amount", dates="refund_date", timestamps="")
_CREDIT = _types(
    money="credit_amount applied_amount unapplied_amount subtotal credit_tax",
    dates="credit_date",
    numbers="conversion_rate",
    booleans="auto_apply",
)
_CREDIT_LINE = _types(
    money="unit_price line_tax effective_price",
    timestamps="",
    numbers="quantity",
    booleans="taxable tax_override",
)
_REFUND = _types(money="refund_amount", dates="refund_date", numbers="conversion_rate")

COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in [
        # ---- incremental (updated_date cursor, merge on id) ----
        Collection(
            "invoices",
            incremental=True,
            sort="updated_date,id",
            tables={
                (): _types(
                    money="subtotal invoice_tax invoice_amount paid_amount balance",
                    dates="invoice_date due_date start_date end_date reversed_on",
                    numbers="exchange_rate",
                    booleans="emailed reversal_email",
                ),
                ("line_items",): _types(
                    money="unit_price list_price effective_price line_tax",
                    dates="start_date end_date",
                    timestamps="",
                    numbers="quantity discount included_quantity",
                    booleans="taxable",
                ),
                ("line_items", "tax_lines"): _types(money="value", timestamps=""),
                ("subtotals",): _types(money="value", timestamps=""),
                ("payments",): _PAYMENT,
                ("payments", "invoices"): _APPLICATION,
                ("payments", "refunds"): _REFUND_SUMMARY,
                ("credits",): _CREDIT,
                ("credits", "invoices"): _APPLICATION,
                ("credits", "refunds"): _REFUND_SUMMARY,
                ("refunds",): _REFUND,
            },
        ),
        Collection(
            "payments",
            incremental=True,
            sort="updated_date,id",
            tables={
                (): _PAYMENT,
                ("invoices",): _APPLICATION,
                ("refunds",): _REFUND_SUMMARY,
            },
        ),
        Collection(
            "credits",
            incremental=True,
            sort="updated_date,id",
            tables={
                (): _types(
                    money="credit_amount applied_amount unapplied_amount subtotal credit_tax",
                    dates="credit_date reversed_on",
                    numbers="conversion_rate",
                    booleans="auto_apply",
                ),
                ("invoices",): _APPLICATION,
                ("credit_line_items",): _CREDIT_LINE,
                ("refunds",): _REFUND_SUMMARY,
                ("invoices_applied",): _APPLICATION,
            },
        ),
        Collection(
            "refunds",
            incremental=True,
            sort="updated_date,id",
            tables={(): _REFUND},
        ),
        Collection(
            "products",
            incremental=True,
            sort="updated_date,id",
            tables={
                (): _types(
                    money="price",
                    booleans="taxable deferred_revenue_enabled show_revenue_schedules",
                ),
            },
        ),
        Collection(
            "subscriptions",
            incremental=True,
            sort="updated_date,id",
            tables={
                (): _types(
                    money="cmrr discounted_cmrr tcv",
                    dates=(
                        "billing_start_date service_start_date contract_effective_date"
                        " cancellation_date current_term_start_date current_term_end_date"
                    ),
                    numbers="exchange_rate",
                    integers="version",
                    booleans="auto_renew separate_invoice",
                ),
                ("plans",): _types(
                    money="list_price effective_price cmrr",
                    dates=(
                        "charge_start_date charge_end_date current_period_start_date"
                        " current_period_end_date"
                    ),
                    timestamps="",
                    numbers="quantity discount included_units renewal_increment_percent",
                    booleans=(
                        "prorate_partial_periods backcharge_current_period"
                        " override_renewal_increment_percent"
                    ),
                ),
            },
        ),
        Collection(
            "usages",
            incremental=True,
            sort="updated_date,id",
            wrapper_key="usages",
            tables={(): _types(numbers="quantity", booleans="invoiced")},
        ),
        Collection(
            "revenue_schedules",
            incremental=True,
            sort="updated_date,id",
            page_size=REVENUE_SCHEDULES_PAGE_SIZE,
            tables={
                (): _types(
                    money="total_revenue recognized_revenue unrecognized_revenue",
                    dates="start_date end_date",
                ),
                ("schedule_lines",): _types(
                    money="period_revenue amount",
                    dates="posting_date",
                    timestamps="",
                    numbers="exchange_rate",
                ),
            },
        ),
        Collection(
            "journal_entries",
            incremental=True,
            # As the Singer tap does (§5.1); the cursor is still updated_date.
            sort="updated_at,id",
            tables={
                (): _types(money="transaction_amount", dates="date", numbers="conversion_rate"),
                ("entries",): _types(money="debit credit", timestamps=""),
            },
        ),
        Collection(
            "billing_schedules",
            incremental=True,
            # The API ignores sort here (§5.3.3); only the updated_date> filter is relied on.
            sort="id",
            tables={
                (): _types(
                    money=(
                        "key_metrics.monthly_recurring_revenue key_metrics.annual_contract_revenue"
                        " key_metrics.total_contract_revenue key_metrics.amount_invoiced"
                    ),
                    dates="start_date end_date",
                ),
                ("schedule_lines",): _types(
                    money="unit_price list_price amount",
                    dates="charge_ready_date start_date end_date",
                    numbers="quantity discount unused_prepayment_units",
                    integers="id expired_units",
                ),
            },
        ),
        # ---- full refresh (atomic replace) ----
        Collection(
            "customers",
            incremental=False,
            tables={
                (): _types(
                    money="balance cmrr discounted_cmrr carr discounted_carr ach_credit_balance",
                    booleans="tax_exempt bill_to_parent",
                ),
                ("contacts",): _types(),
            },
        ),
        Collection(
            "plans",
            incremental=False,
            tables={
                (): _types(booleans="show_ssp"),
                ("charges",): _types(
                    money="list_price",
                    timestamps="",
                    integers="prepayment_periods",
                    booleans="prorate_partial_periods backcharge_current_period",
                ),
            },
        ),
        Collection("revenue_rules", incremental=False, tables={(): _types()}),
        Collection(
            "chart_of_accounts",
            incremental=False,
            primary_key="code",
            tables={(): _types()},
        ),
    ]
}

INCREMENTAL_COLLECTIONS = tuple(n for n, c in COLLECTIONS.items() if c.incremental)
FULL_REFRESH_COLLECTIONS = tuple(n for n, c in COLLECTIONS.items() if not c.incremental)


def _parse_start(value: str, variable: str) -> datetime:
    """Parses a date or ISO timestamp to an aware UTC datetime."""
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(
            f"{variable}={value!r} is not a date (YYYY-MM-DD) or ISO timestamp"
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_timestamp(value: str, variable: str = "timestamp") -> datetime:
    """Public wrapper used by the CLI for --start / --end."""
    return _parse_start(value, variable)


@dataclass(frozen=True)
class OrdwaySettings:
    """Everything the source and the pipeline need, read from the environment once."""

    api_key: str = field(repr=False)
    company: str = field(repr=False)
    user_email: str = field(repr=False)
    user_token: str = field(repr=False)
    base_url: str = ENVIRONMENT_URLS["production"]
    page_size: int = DEFAULT_PAGE_SIZE
    lookback_hours: float = 2.0
    max_rps: float = 2.0
    timeout_seconds: float = 30.0
    max_retries: int = 6
    max_pages: int = 20000
    start_date: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    warehouse: Literal["duckdb", "snowflake"] = "duckdb"
    duckdb_path: Path = Path("data/ordway.duckdb")
    pipelines_dir: Path = Path("data/dlt")
    #: Cap on a server-sent Retry-After, in seconds.
    max_retry_after_seconds: float = 60.0
    #: Seconds between two progress reports while extracting (pipelines/ordway/progress.py).
    progress_seconds: float = DEFAULT_PROGRESS_SECONDS

    @property
    def lookback_seconds(self) -> float:
        return self.lookback_hours * 3600.0

    def page_size_for(self, collection: Collection) -> int:
        """The configured page size, except revenue_schedules which always uses its maximum."""
        if collection.page_size != DEFAULT_PAGE_SIZE:
            return collection.page_size
        return self.page_size

    def secrets(self) -> tuple[str, ...]:
        """Credential values, used to prove they never leak into logs or errors."""
        return (self.api_key, self.company, self.user_email, self.user_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OrdwaySettings:
        """Reads the ORDWAY_*, WAREHOUSE, DUCKDB_PATH and DLT_PIPELINES_DIR variables.

        Raises ConfigError naming the variable when one is missing or invalid.
        """
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value is not None and value.strip() != "" else None

        credentials = {}
        for name, attr in [
            ("ORDWAY_API_KEY", "api_key"),
            ("ORDWAY_COMPANY", "company"),
            ("ORDWAY_USER_EMAIL", "user_email"),
            ("ORDWAY_USER_TOKEN", "user_token"),
        ]:
            value = get(name)
            if value is None:
                raise ConfigError(f"{name} is not set (required Ordway credential)")
            credentials[attr] = value

        base_url = get("ORDWAY_BASE_URL")
        environment = get("ORDWAY_ENVIRONMENT")
        if environment is not None and environment.lower() not in ENVIRONMENT_URLS:
            raise ConfigError(
                f"ORDWAY_ENVIRONMENT={environment!r} is not one of {sorted(ENVIRONMENT_URLS)}"
            )
        if base_url is None:
            base_url = ENVIRONMENT_URLS[(environment or "production").lower()]
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                "ORDWAY_BASE_URL must be an http(s) URL with a host, e.g. "
                "https://api.ordwaylabs.com/api/v1"
            )
        if parts.query or parts.username or parts.password:
            raise ConfigError("ORDWAY_BASE_URL must not contain a query string or credentials")

        def number(name: str, default: float, *, minimum: float, integer: bool = False) -> float:
            raw = get(name)
            if raw is None:
                return default
            try:
                value = int(raw) if integer else float(raw)
            except ValueError as exc:
                kind = "an integer" if integer else "a number"
                raise ConfigError(f"{name}={raw!r} is not {kind}") from exc
            if value < minimum:
                raise ConfigError(f"{name}={raw!r} must be >= {minimum:g}")
            return value

        warehouse = (get("WAREHOUSE") or "duckdb").lower()
        if warehouse not in ("duckdb", "snowflake"):
            raise ConfigError(f"WAREHOUSE={warehouse!r} must be 'duckdb' or 'snowflake'")

        start_raw = get("ORDWAY_START_DATE")
        return cls(
            **credentials,
            base_url=base_url.rstrip("/"),
            page_size=int(number("ORDWAY_PAGE_SIZE", DEFAULT_PAGE_SIZE, minimum=1, integer=True)),
            lookback_hours=number("ORDWAY_LOOKBACK_HOURS", 2.0, minimum=0),
            max_rps=number("ORDWAY_MAX_RPS", 2.0, minimum=0),
            timeout_seconds=number("ORDWAY_TIMEOUT_SECONDS", 30.0, minimum=0.001),
            max_retries=int(number("ORDWAY_MAX_RETRIES", 6, minimum=0, integer=True)),
            max_pages=int(number("ORDWAY_MAX_PAGES", 20000, minimum=1, integer=True)),
            start_date=_parse_start(start_raw, "ORDWAY_START_DATE")
            if start_raw
            else datetime(2000, 1, 1, tzinfo=UTC),
            warehouse=warehouse,  # type: ignore[arg-type]
            duckdb_path=Path(get("DUCKDB_PATH") or "data/ordway.duckdb"),
            pipelines_dir=Path(get("DLT_PIPELINES_DIR") or "data/dlt"),
            progress_seconds=number(
                "ORDWAY_PROGRESS_SECONDS", DEFAULT_PROGRESS_SECONDS, minimum=0.1
            ),
        )
