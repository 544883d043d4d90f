"""The collection contract of the Ordway source, constants only: which list endpoints are
extracted and how (incremental or full refresh, sort, page size, wrapper key), the tables each
one fills, and every declared column with its one kind, per table. No environment is read here
(that is ``pipelines/config/``).

Field lists follow `ordway_sandbox/TENANT.md` and `ordway-api.md` §11. Every column that the dbt
staging models read is declared here, with exactly one type (tests/pipelines/ordway/
test_ordway_contract.py checks both against `dbt_project/models/staging/ordway/`). A declared
column exists in the warehouse from the first run on, even while no record has a value for it.
Fields that are not declared are loaded as text (see `records.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PIPELINE_NAME = "ordway"
DATASET_NAME = "ordway_raw"
SOURCE_NAME = "ordway"
DELETIONS_TABLE = "_ordway_deletions"
#: One row: the fingerprint of the Ordway company (and API host) the warehouse holds.
COMPANY_TABLE = "_ordway_company"

#: revenue_schedules always read pages of the API's maximum (other collections: ORDWAY_PAGE_SIZE).
REVENUE_SCHEDULES_PAGE_SIZE = 500
#: Filter timestamp format, as the Singer tap sends it (`ordway-api.md` §5.2).
FILTER_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

#: Money columns: exact decimals. Scale 10 keeps unit prices and rates exact; amounts are 2 dp.
MONEY_PRECISION = 38
MONEY_SCALE = 10

#: The kinds a declared column can have, in `FieldTypes` attribute order.
KINDS = ("money", "numbers", "dates", "timestamps", "integers", "booleans", "text")

#: The one warehouse type of each kind (dlt column hints): money and numbers `decimal(38,10)`,
#: dates `date`, timestamps `timestamp` (UTC), integers `bigint`, booleans `bool`, text `text`.
KIND_DATA_TYPES: dict[str, dict[str, Any]] = {
    "money": {"data_type": "decimal", "precision": MONEY_PRECISION, "scale": MONEY_SCALE},
    "numbers": {"data_type": "decimal", "precision": MONEY_PRECISION, "scale": MONEY_SCALE},
    "dates": {"data_type": "date"},
    "timestamps": {"data_type": "timestamp"},
    "integers": {"data_type": "bigint"},
    "booleans": {"data_type": "bool"},
    "text": {"data_type": "text"},
}


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


#: The column the source adds to every record of a per-customer collection: the id of the
#: customer (`C-00001`) whose sub-resource listed it (customer notes carry only Ordway's
#: internal customer number, ordway-api.md §11.4).
PARENT_ID_COLUMN = "ordway_customer_id"
#: The cursor of the incremental collections read from their own list endpoint.
CURSOR_FIELD = "updated_date"


@dataclass(frozen=True)
class Collection:
    """One Ordway list endpoint and how it is loaded."""

    name: str
    incremental: bool
    primary_key: str = "id"
    sort: str | None = None
    #: A page size the endpoint always uses; None: ORDWAY_PAGE_SIZE.
    page_size: int | None = None
    #: Key under which some endpoints wrap the list (`{"usages": [...], "total": N}`).
    wrapper_key: str | None = None
    tables: Mapping[ChildPath, FieldTypes] = field(default_factory=dict)
    #: Read per record of this collection, `GET /<parent>/<id>/<name>` (the customers'
    #: sub-resources), instead of from a list endpoint of its own.
    parent: str | None = None
    #: Fields never loaded, per table (dotted inside objects): credentials of other systems.
    secret_fields: Mapping[ChildPath, frozenset[str]] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def cursor_field(self) -> str | None:
        """`updated_date` for an incremental collection with its own list endpoint; None for a
        full-refresh collection and for a per-customer one (whose nightly read follows the
        customers' `updated_date`, `source.py`)."""
        return CURSOR_FIELD if self.incremental and self.parent is None else None


# Application objects (payment/credit -> invoice) carry date-only audit fields (§11.11), so
# their audit fields are left as text; staging reads the date of `created_date` (the day the
# amount was applied) from that text.
_APPLICATION = _types(money="amount_applied", timestamps="", text="id created_date")
_PAYMENT = _types(
    money="payment_amount fee_amount applied_amount unapplied_amount refunded_amount surcharge_fee",
    dates="payment_date",
    timestamps="created_date updated_date refunded_on",
    numbers="conversion_rate",
    integers="failed_attempt retried_attempts",
    booleans="auto_apply email_status",
    text="id customer_id status payment_type payment_method currency payment_run_id failure_reason",
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
_DOCUMENT_LINE = _types(  # credit and debit memo lines (§11.13, §11.14)
    money="unit_price line_tax effective_price",
    timestamps="",
    numbers="quantity",
    booleans="taxable",
    text="line_no product_id description",
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
                ("debit_memos",): _APPLICATION,
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
            "debit_memos",
            incremental=True,
            # As the Singer tap does (§5.1, §13.1); the cursor is still updated_date. §11.14.
            sort="updated_at,id",
            tables={
                (): _types(
                    money="debit_amount balance paid_amount debit_tax subtotal",
                    dates="debit_date reversed_on",
                    numbers="conversion_rate",
                    text="id customer_id status currency reference_number journal_entry_id",
                ),
                # debit_lines' shape is not sampled (§11.14): the fields of credit lines (§11.13).
                ("debit_lines",): _DOCUMENT_LINE,
                # payments[] and credits[]: the objects as invoices embed them (§11.10) [I].
                ("payments",): _PAYMENT,
                ("credits",): _CREDIT,
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
        Collection(
            "orders",
            incremental=True,
            sort="updated_date,id",
            tables={
                (): _types(
                    money="order_amount estimated_tax",
                    dates="order_date",
                    numbers="exchange_rate",
                    booleans="separate_invoice",
                    text="id customer_id invoice_id status currency coupon_code",
                ),
                ("line_items",): _types(
                    money="unit_price list_price effective_price",
                    timestamps="",
                    numbers="quantity discount",
                    text="line_no product_id plan_id charge_id",
                ),
            },
        ),
        Collection(
            "statements",
            incremental=True,
            # As the Singer tap (§11.23): the server may not sort by it; nothing relies on order.
            sort="updated_date,statement_id",
            tables={
                (): _types(
                    # date or date-time on the wire is unverified (§11.23): text, cast downstream
                    text="id customer_id statement_date start_date end_date template_name",
                )
            },
        ),
        # ---- per customer: GET /customers/{id}/<name>, merged on id (source.py) ----
        Collection(
            "customer_notes",
            incremental=True,
            parent="customers",
            tables={
                (): _types(
                    timestamps="created_at updated_at file_upload_updated_at",
                    integers="customer_id user_id file_upload_file_size",
                    text=f"id title description {PARENT_ID_COLUMN}",
                )
            },
        ),
        Collection(
            "payment_methods",
            incremental=True,
            parent="customers",
            tables={
                (): _types(
                    timestamps="",
                    booleans="default",
                    # expiry: a date-time in the tap's schema, never recorded: text
                    text=f"id customer_id payment_type type status expiry {PARENT_ID_COLUMN}",
                )
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
        Collection(
            # The API ignores updated_date> here (§5.3.3): listed completely, sorted as the tap.
            "billing_runs",
            incremental=False,
            sort="name",
            tables={
                (): _types(
                    money="invoices_total",
                    dates="target_date invoice_date",
                    integers="invoices_count",
                    text="id status currency charge_type payment_term",
                )
            },
        ),
        Collection(
            # No filter or sort is known to work (§11.22).
            "payment_runs",
            incremental=False,
            tables={
                (): _types(
                    money=(
                        "payments_total_value payments_success_value payments_failed_value"
                        " refunds_total_value refunds_success_value refunds_failed_value"
                    ),
                    integers="success_count failure_count",
                    booleans="retry_failed_payments",
                    # target_date: a date-time in the tap's schema, never recorded raw: text
                    text="id status currency target_date",
                )
            },
        ),
        Collection(
            # The API ignores updated_date> here (§5.3.3): listed completely, sorted as the tap.
            "coupons",
            incremental=False,
            sort="id",
            tables={
                (): _types(
                    integers="discount_value duration_period usage_count",
                    text="id code display_text status discount_type expiration_date usage_limit",
                )
            },
        ),
        Collection(
            # The configurations, keyed by name (§11.25). Where a webhook delivers (url) and the
            # header values it sends (tokens of the receiving system) are never loaded.
            "webhooks",
            incremental=False,
            primary_key="name",
            tables={
                (): _types(timestamps="", text="name status"),
                ("headers",): _types(timestamps="", text="key"),
            },
            secret_fields={(): frozenset({"url"}), ("headers",): frozenset({"value"})},
        ),
    ]
}

INCREMENTAL_COLLECTIONS = tuple(n for n, c in COLLECTIONS.items() if c.incremental)
FULL_REFRESH_COLLECTIONS = tuple(n for n, c in COLLECTIONS.items() if not c.incremental)


def table_name(collection: str, path: ChildPath = ()) -> str:
    """The warehouse table of a collection's root (`path` empty) or child table."""
    return "__".join((collection, *path))


def declared_tables(collection: str) -> list[str]:
    """Every table the contract declares for `collection`: its root table first, then its
    child tables (parents before their children)."""
    paths = sorted(COLLECTIONS[collection].tables, key=lambda p: (len(p), p))
    return [table_name(collection, path) for path in paths]


__all__ = [
    "COLLECTIONS",
    "COMPANY_TABLE",
    "CURSOR_FIELD",
    "DATASET_NAME",
    "DELETIONS_TABLE",
    "FILTER_TIMESTAMP_FORMAT",
    "FULL_REFRESH_COLLECTIONS",
    "INCREMENTAL_COLLECTIONS",
    "KINDS",
    "KIND_DATA_TYPES",
    "MONEY_PRECISION",
    "MONEY_SCALE",
    "PARENT_ID_COLUMN",
    "PIPELINE_NAME",
    "SOURCE_NAME",
    "ChildPath",
    "Collection",
    "FieldTypes",
    "declared_tables",
    "table_name",
]
