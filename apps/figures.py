"""The finance figures the dashboard shows and the MCP server answers, defined once, each read
from the published marts with one parameterised statement (never computed from raw tables).

Currencies. ARR, MRR, NRR, GRR and ``recognized_revenue`` are in the reporting currency (the
marts convert them: MRR at each subscription's rate, revenue at each line's historical rate).
Billings, deferred and unbilled revenue, cash and open AR are in each document's currency: the
marts do not convert them (deferred revenue is never re-translated, revenue-rules §1), so every
row of those carries its ``currency`` and totals are per currency, never summed across.

Each metric (``METRICS``) names its source mart column and its definition, which the MCP
server's ``list_metrics`` tool and the README's metric table repeat; a metric is a value by
month (a month is its first day), per currency where it is in document currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from apps.marts import SCHEMA, Reader

M = SCHEMA
#: Payment statuses whose money was received (Ordway's statuses, docs/ordway-api.md).
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "unchanged")
FAR_PAST = date(1900, 1, 1)
FAR_FUTURE = date(9999, 12, 1)

Unit = Literal["money", "ratio", "count"]
Basis = Literal["reporting", "document"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: Unit
    #: money only: reporting currency (one series) or document currency (one per currency)
    basis: Basis | None
    source: str
    definition: str
    #: one row per month (and currency when basis is document) with ``value``; parameters:
    #: first month, last month
    sql: str


def _cash_sql() -> str:
    # the semantic layer's cash_collected (fct_payments.yml): is_collected, gross of refunds
    return (
        f"SELECT payment_month AS month, currency, sum(payment_amount) AS value "
        f"FROM {M}.fct_payments WHERE is_collected AND payment_month BETWEEN ? AND ? "
        "GROUP BY ALL ORDER BY month, currency"
    )


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            "arr",
            "ARR",
            "money",
            "reporting",
            "fct_arr_movements.closing_arr",
            "Annual recurring revenue at the month-end: 12 x MRR.",
            f"SELECT month, closing_arr AS value FROM {M}.fct_arr_movements "
            "WHERE month BETWEEN ? AND ? ORDER BY month",
        ),
        Metric(
            "mrr",
            "MRR",
            "money",
            "reporting",
            "fct_mrr.mrr",
            "Net monthly recurring revenue at the month-end, summed over customers "
            "(recurring billing schedule lines, unit_price x quantity / months per period).",
            f"SELECT movements.month, coalesce(sum(mrr.mrr), 0) AS value "
            f"FROM {M}.fct_arr_movements AS movements LEFT JOIN {M}.fct_mrr AS mrr "
            "ON mrr.month = movements.month WHERE movements.month BETWEEN ? AND ? "
            "GROUP BY movements.month ORDER BY movements.month",
        ),
        Metric(
            "active_customers",
            "Active customers",
            "count",
            None,
            "fct_arr_movements.active_customers",
            "Customers with MRR > 0 at the month-end.",
            f"SELECT month, active_customers AS value FROM {M}.fct_arr_movements "
            "WHERE month BETWEEN ? AND ? ORDER BY month",
        ),
        Metric(
            "churned_customers",
            "Churned customers",
            "count",
            None,
            "fct_arr_movements.churned_customers",
            "Customers whose MRR fell to 0 in the month (logo churn).",
            f"SELECT month, churned_customers AS value FROM {M}.fct_arr_movements "
            "WHERE month BETWEEN ? AND ? ORDER BY month",
        ),
        Metric(
            "nrr",
            "Net revenue retention",
            "ratio",
            None,
            "fct_retention.nrr",
            "ARR now of the customers with ARR > 0 twelve months earlier / their ARR then "
            "(null when that cohort is empty).",
            f"SELECT month, nrr AS value FROM {M}.fct_retention "
            "WHERE month BETWEEN ? AND ? ORDER BY month",
        ),
        Metric(
            "grr",
            "Gross revenue retention",
            "ratio",
            None,
            "fct_retention.grr",
            "As NRR with each customer's ARR now capped at its ARR then (expansion excluded).",
            f"SELECT month, grr AS value FROM {M}.fct_retention "
            "WHERE month BETWEEN ? AND ? ORDER BY month",
        ),
        Metric(
            "recognized_revenue",
            "Recognized revenue",
            "money",
            "reporting",
            "fct_revenue_monthly.recognized_revenue_reporting",
            "Revenue schedule lines Ordway has posted, in the month of their financial period, "
            "converted at each line's historical rate.",
            f"SELECT month, sum(recognized_revenue_reporting) AS value "
            f"FROM {M}.fct_revenue_monthly WHERE month BETWEEN ? AND ? "
            "GROUP BY month ORDER BY month",
        ),
        Metric(
            "billings",
            "Billings",
            "money",
            "document",
            "fct_deferred_revenue.billings",
            "Net invoice line amounts (tax excluded) of billed invoices by invoice month; a "
            "reversed invoice counts again, negated, in the month it was reversed.",
            f"SELECT month, currency, sum(billings) AS value FROM {M}.fct_deferred_revenue "
            "WHERE month BETWEEN ? AND ? GROUP BY ALL ORDER BY month, currency",
        ),
        Metric(
            "deferred_revenue",
            "Deferred revenue",
            "money",
            "document",
            "fct_deferred_revenue.closing_deferred",
            "Contract liability at the month-end: per customer and currency, cumulative "
            "billings - cumulative recognized revenue where positive.",
            f"SELECT month, currency, sum(closing_deferred) AS value "
            f"FROM {M}.fct_deferred_revenue WHERE month BETWEEN ? AND ? "
            "GROUP BY ALL ORDER BY month, currency",
        ),
        Metric(
            "unbilled_revenue",
            "Unbilled revenue",
            "money",
            "document",
            "fct_deferred_revenue.closing_unbilled",
            "Revenue recognized ahead of billing at the month-end (the negative side of the "
            "same position).",
            f"SELECT month, currency, sum(closing_unbilled) AS value "
            f"FROM {M}.fct_deferred_revenue WHERE month BETWEEN ? AND ? "
            "GROUP BY ALL ORDER BY month, currency",
        ),
        Metric(
            "cash_collected",
            "Cash collected",
            "money",
            "document",
            "fct_payments.payment_amount where is_collected",
            "Payments received (is_collected: status Processed, Partially refunded or Refunded, "
            "dbt var collected_payment_statuses) by payment month, gross of later refunds (a "
            "refund is an outflow of its own); fees are not deducted. The semantic layer's "
            "cash_collected.",
            _cash_sql(),
        ),
        Metric(
            "open_ar",
            "Open AR",
            "money",
            "document",
            "fct_ar_aging.balance",
            "Open invoice balances, tax included, on the as-of date (the marts keep AR only as "
            "of the as-of date: only the as-of month has a value).",
            f"SELECT date_trunc('month', as_of_date)::DATE AS month, currency, "
            f"sum(balance) AS value FROM {M}.fct_ar_aging "
            "WHERE date_trunc('month', as_of_date) BETWEEN ? AND ? "
            "GROUP BY ALL ORDER BY month, currency",
        ),
    )
}


def metric_rows(
    reader: Reader, name: str, first: date | None = None, last: date | None = None
) -> list[dict[str, Any]]:
    """One metric by month (and currency) between two months, inclusive."""
    metric = METRICS[name]
    return reader.rows(metric.sql, [first or FAR_PAST, last or FAR_FUTURE])


# ------------------------------------------------------------------------- ARR and MRR


def arr_movements(
    reader: Reader, first: date | None = None, last: date | None = None
) -> list[dict[str, Any]]:
    """fct_arr_movements by month: the ARR bridge and customer counts (reporting currency)."""
    return reader.rows(
        f"SELECT * FROM {M}.fct_arr_movements WHERE month BETWEEN ? AND ? ORDER BY month",
        [first or FAR_PAST, last or FAR_FUTURE],
    )


BRIDGE_STEPS = (
    ("new_arr", "New"),
    ("expansion_arr", "Expansion"),
    ("reactivation_arr", "Reactivation"),
    ("contraction_arr", "Contraction"),
    ("churn_arr", "Churn"),
)


def arr_bridge(movements: Sequence[dict[str, Any]]) -> list[tuple[str, Decimal]]:
    """The waterfall over ``movements`` (consecutive months): opening ARR of the first month,
    each movement summed over the months, closing ARR of the last month. Raises ValueError when
    the marts' identity opening + movements = closing does not hold (never drawn wrong)."""
    if not movements:
        return []
    steps = [("Opening", movements[0]["opening_arr"])]
    steps += [
        (label, sum((m[column] for m in movements), Decimal(0))) for column, label in BRIDGE_STEPS
    ]
    closing = movements[-1]["closing_arr"]
    if sum(value for _, value in steps) != closing:
        raise ValueError("fct_arr_movements: opening + movements != closing ARR")
    return [*steps, ("Closing", closing)]


def retention(reader: Reader) -> list[dict[str, Any]]:
    """fct_retention by month (NRR, GRR; null ratios where the cohort is empty)."""
    return reader.rows(f"SELECT * FROM {M}.fct_retention ORDER BY month")


def customer_movements(
    reader: Reader, month: date, movement: str | None = None
) -> list[dict[str, Any]]:
    """Customers whose MRR moved in ``month`` (every movement but unchanged, or one)."""
    return reader.rows(
        f"SELECT mrr.customer_id, customers.customer_name, mrr.movement, mrr.previous_mrr, "
        f"mrr.mrr, mrr.mrr_change, 12 * mrr.mrr_change AS arr_change FROM {M}.fct_mrr AS mrr "
        f"LEFT JOIN {M}.dim_customers AS customers ON customers.customer_id = mrr.customer_id "
        "WHERE mrr.month = ? AND mrr.movement <> 'unchanged' "
        "AND (CAST(? AS VARCHAR) IS NULL OR mrr.movement = ?) "
        "ORDER BY abs(mrr.mrr_change) DESC, mrr.customer_id",
        [month, movement, movement],
    )


# -------------------------------------------------------------------- revenue and cash


def document_currencies(reader: Reader) -> list[str]:
    """Currencies of the document-currency marts, most used first."""
    rows = reader.rows(
        f"SELECT currency, count(*) AS n FROM (SELECT currency FROM {M}.fct_deferred_revenue "
        f"UNION ALL SELECT currency FROM {M}.fct_payments UNION ALL SELECT currency "
        f"FROM {M}.fct_ar_aging) WHERE currency IS NOT NULL GROUP BY currency "
        "ORDER BY n DESC, currency"
    )
    return [row["currency"] for row in rows]


def deferred_rollforward(reader: Reader, currency: str) -> list[dict[str, Any]]:
    """The deferred revenue roll-forward of one document currency by month: opening balance +
    billings - recognized revenue = closing balance = closing deferred - closing unbilled."""
    return reader.rows(
        "SELECT month, sum(opening_balance) AS opening_balance, sum(billings) AS billings, "
        "sum(recognized_revenue) AS recognized_revenue, sum(closing_balance) AS closing_balance, "
        "sum(closing_deferred) AS closing_deferred, sum(closing_unbilled) AS closing_unbilled "
        f"FROM {M}.fct_deferred_revenue WHERE currency = ? GROUP BY month ORDER BY month",
        [currency],
    )


def cash_by_month(reader: Reader, currency: str) -> list[dict[str, Any]]:
    """Cash collected (metric ``cash_collected``) of one currency by month."""
    return [row for row in metric_rows(reader, "cash_collected") if row["currency"] == currency]


# ------------------------------------------------------------------------------ AR


def ar_aging_buckets(reader: Reader, customer_id: str | None = None) -> list[dict[str, Any]]:
    """Open AR by currency and bucket (every bucket of a currency, 0 where empty), for the
    company or one customer."""
    buckets = ", ".join(f"('{b}', {i})" for i, b in enumerate(AGING_BUCKETS))  # constants
    return reader.rows(
        f"WITH buckets(aging_bucket, position) AS (VALUES {buckets}), "
        f"aging AS (SELECT * FROM {M}.fct_ar_aging "
        "WHERE CAST(? AS VARCHAR) IS NULL OR customer_id = ?), "
        "currencies AS (SELECT DISTINCT currency FROM aging) "
        "SELECT currencies.currency, buckets.aging_bucket, count(aging.invoice_id) AS invoices, "
        "coalesce(sum(aging.balance), 0) AS balance FROM currencies CROSS JOIN buckets "
        "LEFT JOIN aging ON aging.currency = currencies.currency "
        "AND aging.aging_bucket = buckets.aging_bucket "
        "GROUP BY currencies.currency, buckets.aging_bucket, buckets.position "
        "ORDER BY currencies.currency, buckets.position",
        [customer_id, customer_id],
    )


def open_invoices(
    reader: Reader, customer_id: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Open invoices, most past due (then largest) first."""
    return reader.rows(
        "SELECT aging.invoice_id, aging.customer_id, customers.customer_name, aging.currency, "
        "aging.balance, aging.due_date, aging.days_past_due, aging.aging_bucket "
        f"FROM {M}.fct_ar_aging AS aging LEFT JOIN {M}.dim_customers AS customers "
        "ON customers.customer_id = aging.customer_id "
        "WHERE (CAST(? AS VARCHAR) IS NULL OR aging.customer_id = ?) "
        "ORDER BY aging.days_past_due DESC, aging.balance DESC, aging.invoice_id LIMIT ?",
        [customer_id, customer_id, limit],
    )


# ------------------------------------------------------------------------- customers


def top_customers(reader: Reader, limit: int = 20) -> list[dict[str, Any]]:
    """Customers by current ARR (reporting currency), each with ``open_ar``: its open invoice
    balances as ``{currency: balance}`` (never summed across currencies)."""
    customers = reader.rows(
        "SELECT customer_id, customer_name, customer_status, currency, current_mrr, "
        f"current_arr FROM {M}.dim_customers WHERE current_arr > 0 "
        "ORDER BY current_arr DESC, customer_id LIMIT ?",
        [limit],
    )
    balances = reader.rows(
        "SELECT customer_id, currency, sum(balance) AS balance "
        f"FROM {M}.fct_ar_aging GROUP BY ALL ORDER BY customer_id, currency"
    )
    for customer in customers:
        customer["open_ar"] = {
            row["currency"]: row["balance"]
            for row in balances
            if row["customer_id"] == customer["customer_id"]
        }
    return customers
