"""Configuration of the Ordway source: endpoints, page sizes, incremental vs full refresh, the
collection contract (declared columns and their one type, per table), and the environment
variables the pipeline reads.

Field lists follow `ordway_sandbox/TENANT.md` and `ordway-api.md` §11. Every column that the dbt
staging models read is declared here, with exactly one type (tests/pipelines/ordway/
test_ordway_contract.py checks both against `dbt_project/models/staging/ordway/`). A declared
column exists in the warehouse from the first run on, even while no record has a value for it.
Fields that are not declared are loaded as text (see `source.py`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

PIPELINE_NAME = "ordway"
DATASET_NAME = "ordway_raw"
SOURCE_NAME = "ordway"
DELETIONS_TABLE = "_ordway_deletions"
#: One row: the fingerprint of the Ordway company (and API host) the warehouse holds.
COMPANY_TABLE = "_ordway_company"

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


#: The kinds a declared column can have, in `FieldTypes` attribute order. Warehouse types:
#: money and numbers `decimal(38,10)`, dates `date`, timestamps `timestamp` (UTC), integers
#: `bigint`, booleans `bool`, text `text`.
KINDS = ("money", "numbers", "dates", "timestamps", "integers", "booleans", "text")


@dataclass(frozen=True)
class FieldTypes:
    """Declared columns of one table (root or child), one kind each.

    - money: exact decimals; more than MONEY_SCALE decimals is an error, never rounded.
    - numbers: quantities, rates, discount percentages (JSON numbers on the wire): exact
      decimals too, rounded half-up to MONEY_SCALE decimals (a float's binary noise).
    - dates, timestamps, integers, booleans: as named.
    - text: ids, statuses, currencies, names; numbers and booleans arriving there become text.
    """

    money: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    timestamps: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()
    text: frozenset[str] = frozenset()

    def kind_of(self, name: str) -> str | None:
        """The declared kind of field `name` (dotted for nested objects), or None."""
        return next((kind for kind in KINDS if name in getattr(self, kind)), None)

    def names(self) -> frozenset[str]:
        return frozenset().union(*(getattr(self, kind) for kind in KINDS))


def _types(
    money: str = "",
    dates: str = "",
    timestamps: str = "created_date updated_date",
    numbers: str = "",
    integers: str = "",
    booleans: str = "",
    text: str = "",
) -> FieldTypes:
    declared = {
        "money": money.split(),
        "numbers": numbers.split(),
        "dates": dates.split(),
        "timestamps": timestamps.split(),
        "integers": integers.split(),
        "booleans": booleans.split(),
        "text": text.split(),
    }
    seen: dict[str, str] = {}
    for kind, names in declared.items():
        for name in names:
            if name in seen:  # one declaration per column
                raise ValueError(f"field {name!r} declared as both {seen[name]} and {kind}")
            seen[name] = kind
    return FieldTypes(**{kind: frozenset(names) for kind, names in declared.items()})


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
_APPLICATION = _types(money="amount_applied", timestamps="", text="id")
_PAYMENT = _types(
    money="payment_amount fee_amount applied_amount unapplied_amount refunded_amount surcharge_fee",
    dates="payment_date",
    timestamps="created_date updated_date refunded_on",
    numbers="conversion_rate",
    integers="failed_attempt retried_attempts",
    booleans="auto_apply email_status",
    text="id customer_id status payment_type payment_method currency",
)
_REFUND_SUMMARY = _types(money="refund_amount", dates="refund_date", timestamps="", text="id")
_CREDIT = _types(
    money="credit_amount applied_amount unapplied_amount subtotal credit_tax",
    dates="credit_date",
    numbers="conversion_rate",
    booleans="auto_apply",
    text="id customer_id status credit_type currency",
)
_CREDIT_LINE = _types(
    money="unit_price line_tax effective_price",
    timestamps="",
    numbers="quantity",
    booleans="taxable tax_override",
    text="line_no product_id",
)
_REFUND = _types(
    money="refund_amount",
    dates="refund_date",
    numbers="conversion_rate",
    text="id customer_id refund_type refund_status payment_id invoice_id credit_id currency",
)

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
                    text="id customer_id status currency payment_terms",
                ),
                ("line_items",): _types(
                    money="unit_price list_price effective_price line_tax",
                    dates="start_date end_date",
                    timestamps="",
                    numbers="quantity discount included_quantity",
                    booleans="taxable",
                    text=(
                        "line_no subscription_id subscription_line_id charge_id product_id plan_id"
                        " charge_type description"
                    ),
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
                    text="id customer_id status credit_type currency",
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
                    text="id name sku status currency revenue_rule_id",
                ),
                ("transaction_posting_entries",): _types(
                    timestamps="", text="transaction_type debit_account credit_account"
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
                    text="id customer_id status currency contract_term renewal_term",
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
                    text=(
                        "subscription_line_id product_id plan_id charge_id charge_name charge_type"
                        " billing_period billing_schedule_id revenue_schedule_id revenue_rule_id"
                    ),
                ),
            },
        ),
        Collection(
            "usages",
            incremental=True,
            sort="updated_date,id",
            wrapper_key="usages",
            tables={
                (): _types(
                    numbers="quantity",
                    booleans="invoiced",
                    text="id customer_id subscription_id subscription_line_id charge_id",
                )
            },
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
                    text=(
                        "id customer_id source_transaction product_id plan_id charge_id"
                        " charge_name charge_type charge_timing"
                    ),
                ),
                ("schedule_lines",): _types(
                    money="period_revenue amount",
                    dates="posting_date",
                    timestamps="",
                    numbers="exchange_rate",
                    text="uid financial_period posted currency invoice_id",
                ),
            },
        ),
        Collection(
            "journal_entries",
            incremental=True,
            # As the Singer tap does (§5.1); the cursor is still updated_date.
            sort="updated_at,id",
            tables={
                (): _types(
                    money="transaction_amount",
                    dates="date",
                    numbers="conversion_rate",
                    text="id source_type source_id transaction_currency",
                ),
                ("entries",): _types(
                    money="debit credit", timestamps="", text="line_no account customer_id"
                ),
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
                    text=(
                        "id customer_id subscription_id charge_id product_id charge_type"
                        " charge_timing currency"
                    ),
                ),
                ("schedule_lines",): _types(
                    money="unit_price list_price amount",
                    dates="charge_ready_date start_date end_date",
                    numbers="quantity discount unused_prepayment_units",
                    integers="id expired_units",
                    text="uid line_type invoiced",
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
                    # custom_fields.segment / .salesforce_id: custom fields staging reads; the
                    # columns exist (null) on a tenant that does not define them.
                    text=(
                        "id name status currency payment_terms billing_cycle_day"
                        " billing_contact_id custom_fields.segment custom_fields.salesforce_id"
                    ),
                ),
                ("contacts",): _types(text="id customer_id display_name email"),
            },
        ),
        Collection(
            "plans",
            incremental=False,
            tables={
                (): _types(booleans="show_ssp", text="id name status"),
                ("charges",): _types(
                    money="list_price",
                    timestamps="",
                    integers="prepayment_periods",
                    booleans="prorate_partial_periods backcharge_current_period",
                    text="id product_id name type billing_period pricing_model revenue_rule_id",
                ),
            },
        ),
        Collection(
            "revenue_rules",
            incremental=False,
            tables={
                (): _types(
                    text=(
                        "id name recognition_method recognition_schedule_period posting_day"
                        " posting_method status recognition_term"
                    )
                )
            },
        ),
        Collection(
            "chart_of_accounts",
            incremental=False,
            primary_key="code",
            tables={(): _types(text="code name account_type sub_type parent_account status")},
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
    #: Collections this installation extracts (ORDWAY_COLLECTIONS minus
    #: ORDWAY_SKIP_COLLECTIONS), in COLLECTIONS order.
    collections: tuple[str, ...] = tuple(COLLECTIONS)

    def enabled(self, names: Sequence[str]) -> tuple[str, ...]:
        """`names` that ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS leave in, in their order."""
        return tuple(n for n in names if n in self.collections)

    @property
    def api_host(self) -> str:
        """The API's host name (lower case, without port)."""
        return (urlsplit(self.base_url).hostname or "").lower()

    @property
    def company_fingerprint(self) -> str:
        """sha256 of the normalised company name and the API host: identifies the Ordway
        company a warehouse holds without storing the name (a credential)."""
        company = " ".join(self.company.split()).casefold()
        return hashlib.sha256(f"{company}\n{self.api_host}".encode()).hexdigest()

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
        """Reads the ORDWAY_*, WAREHOUSE, DUCKDB_PATH and DLT_PIPELINES_DIR variables
        (ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS: comma-separated collection names).

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

        def collection_names(name: str) -> list[str] | None:
            raw = get(name)
            if raw is None:
                return None
            names = [n.strip() for n in raw.split(",") if n.strip()]
            unknown = [n for n in names if n not in COLLECTIONS]
            if unknown:
                raise ConfigError(
                    f"{name} names unknown collection(s) {', '.join(unknown)}; "
                    f"known: {', '.join(COLLECTIONS)}"
                )
            return names

        chosen = collection_names("ORDWAY_COLLECTIONS")
        skipped = collection_names("ORDWAY_SKIP_COLLECTIONS") or []
        collections = tuple(
            n for n in COLLECTIONS if (chosen is None or n in chosen) and n not in skipped
        )
        if not collections:
            raise ConfigError(
                "ORDWAY_COLLECTIONS and ORDWAY_SKIP_COLLECTIONS leave no collection to extract"
            )

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
            collections=collections,
            progress_seconds=number(
                "ORDWAY_PROGRESS_SECONDS", DEFAULT_PROGRESS_SECONDS, minimum=0.1
            ),
        )
