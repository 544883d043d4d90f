"""The MCP server: tools that answer questions about the billing data from the published marts.

Governance, in code:

- reads only the published marts file, through ``apps.marts.connect`` (read-only, external
  access disabled and locked), one connection per call, closed before the answer is sent;
- no tool takes SQL: every statement is a constant of this module or ``apps.figures`` and the
  arguments reach DuckDB only as ``?`` parameters, after validation here (ids, months, dates,
  names, limits);
- every answer is capped at ``MCP_MAX_ROWS`` rows per list (``truncated`` says when rows were
  left out) and every call at ``MCP_QUERY_TIMEOUT_SECONDS`` of querying;
- every call is logged (tool, arguments, outcome, rows, seconds) to stderr; answers hold only
  mart data and the as-of date, never configuration or environment values;
- money is ``{"amount": "1234.56", "exact": "1234.5643564496"}``: rounded half away from zero
  to cents, and the exact DECIMAL(38,10) the marts hold.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from apps import figures
from apps.marts import (
    SCHEMA,
    MartsUnavailable,
    QueryTimeout,
    Reader,
    as_of,
    cents,
    connect,
    percent,
)
from apps.settings import AppSettings

log = logging.getLogger("apps.mcp_server")
M = SCHEMA
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)
MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ID_LENGTH = 100
#: Characters of a call's arguments the log keeps.
MAX_LOGGED = 2000
#: DECIMAL columns that are not money (ratios are shown as percentages too).
NOT_MONEY = {"exchange_rate", "quantity", "discount_percent"}
RATIOS = {"nrr", "grr", "value_ratio"}

INSTRUCTIONS = """\
Answers about this company's Ordway billing data from its published finance marts: the figures
the nightly pipeline reconciled and tested, as of the date `about_the_data` returns (not live
Ordway data). Money is {"amount": at cents, "exact": the stored decimal}. ARR, MRR, NRR, GRR and
recognized revenue are in the reporting currency; billings, deferred revenue, cash, invoices,
payments and AR are in each document's currency (the row's `currency`), never summed across
currencies. Find a customer's id with `find_customers`. `list_metrics` defines every metric."""

T = TypeVar("T")


# ------------------------------------------------------------------------ serialisation


def money(value: Decimal | int | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"amount": cents(value, grouped=False), "exact": format(Decimal(value), "f")}


def ratio(value: Decimal | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"ratio": format(value, "f"), "percent": percent(value)}


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A mart row as JSON: dates ISO, DECIMAL money as ``money()``, ratios as ``ratio()``,
    other decimals (rates, quantities) as exact strings."""
    result: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            result[key] = value.astimezone(UTC).isoformat()
        elif isinstance(value, date):
            result[key] = value.isoformat()
        elif isinstance(value, Decimal):
            if key in RATIOS:
                result[key] = ratio(value)
            elif key in NOT_MONEY:
                result[key] = format(value, "f")
            else:
                result[key] = money(value)
        else:
            result[key] = value
    return result


def listing(rows: Sequence[dict[str, Any]], limit: int) -> dict[str, Any]:
    """At most ``limit`` rows, saying whether any were left out."""
    return {
        "rows": [plain(row) for row in rows[:limit]],
        "row_count": min(len(rows), limit),
        "truncated": len(rows) > limit,
        "row_limit": limit,
    }


# ---------------------------------------------------------------------------- arguments


def _text_id(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ToolError(f"{name} is empty")
    if len(value) > MAX_ID_LENGTH:
        raise ToolError(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return value


def parse_month(value: str | None, name: str) -> date | None:
    """``YYYY-MM`` (or the month's first day ``YYYY-MM-01``) -> the month's first day."""
    if value is None or not value.strip():
        return None
    match = MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ToolError(f"{name}={value[:40]!r} is not a month: give YYYY-MM, e.g. 2026-04")
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        if not DAY.match(value.strip()):
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ToolError(f"{name}={value[:40]!r} is not a date: give YYYY-MM-DD") from None


def _range(first: date | None, last: date | None, names: str) -> tuple[date, date]:
    if first and last and first > last:
        raise ToolError(f"{names}: the first is after the last")
    return first or figures.FAR_PAST, last or figures.FAR_FUTURE


# -------------------------------------------------------------------------------- server


def build_server(settings: AppSettings) -> MCPServer:
    """The MCP server over ``settings.published_path`` (transport chosen by the caller)."""
    server = MCPServer(
        "ordway-finance-marts",
        title="Ordway finance marts (read-only)",
        instructions=INSTRUCTIONS,
        log_level="INFO",
    )
    max_rows = settings.mcp_max_rows

    def row_limit(limit: int) -> int:
        if limit < 1:
            raise ToolError(f"limit={limit} must be at least 1")
        return min(limit, max_rows)

    @contextmanager
    def marts() -> Iterator[Reader]:
        try:
            with connect(
                settings.published_path, timeout_seconds=settings.mcp_query_timeout_seconds
            ) as reader:
                yield reader
        except MartsUnavailable as exc:
            raise ToolError(str(exc)) from None
        except QueryTimeout as exc:
            raise ToolError(f"{exc}; ask for a shorter period or fewer rows") from None

    def tool(fn: Callable[..., T]) -> Callable[..., T]:
        """Registers ``fn`` as a read-only tool whose every call is logged."""

        @functools.wraps(fn)
        def logged(**arguments: Any) -> T:
            started = time.monotonic()
            shown = json.dumps(arguments, default=str, ensure_ascii=False)[:MAX_LOGGED]
            try:
                answer = fn(**arguments)
            except ToolError as exc:
                log.info(
                    "tool=%s arguments=%s outcome=error seconds=%.3f error=%s",
                    fn.__name__,
                    shown,
                    time.monotonic() - started,
                    exc,
                )
                raise
            except Exception:
                log.exception("tool=%s arguments=%s outcome=crash", fn.__name__, shown)
                raise
            log.info(
                "tool=%s arguments=%s outcome=ok seconds=%.3f",
                fn.__name__,
                shown,
                time.monotonic() - started,
            )
            return answer

        server.tool(annotations=READ_ONLY)(logged)
        return logged

    def customer(reader: Reader, customer_id: str) -> dict[str, Any]:
        rows = reader.rows(
            f"SELECT * FROM {M}.dim_customers WHERE customer_id = ?",
            [_text_id(customer_id, "customer_id")],
        )
        if not rows:
            raise ToolError(
                f"unknown customer_id {customer_id[:MAX_ID_LENGTH]!r}: no such customer in the "
                "published marts (find_customers searches names and ids)"
            )
        return rows[0]

    # ------------------------------------------------------------------------- tools

    @tool
    def about_the_data() -> dict[str, Any]:
        """What the answers are based on: the as-of date of the published marts, the
        reporting currency, when they were published, and the currencies in use."""
        with marts() as reader:
            info = as_of(reader)
            currencies = figures.document_currencies(reader)
        published = datetime.fromtimestamp(settings.published_path.stat().st_mtime, UTC)
        return {
            "as_of_date": info.as_of_date.isoformat() if info.as_of_date else None,
            "as_of_month": info.as_of_month.isoformat()[:7] if info.as_of_month else None,
            "reporting_currency": settings.reporting_currency,
            "document_currencies": currencies,
            "published_at": published.isoformat(),
            "source": "the published finance marts (reconciled and tested by the nightly job)",
            "row_limit": max_rows,
            "time_limit_seconds": settings.mcp_query_timeout_seconds,
        }

    @tool
    def find_customers(name_or_id: str, limit: int = 20) -> dict[str, Any]:
        """Customers whose name or id contains the text (case-insensitive), largest ARR first:
        id, name, status, currency, current ARR."""
        text = _text_id(name_or_id, "name_or_id")
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        limit = row_limit(limit)
        with marts() as reader:
            rows = reader.rows(
                "SELECT customer_id, customer_name, customer_status, currency, current_arr "
                f"FROM {M}.dim_customers WHERE customer_name ILIKE ? ESCAPE '\\' "
                "OR customer_id ILIKE ? ESCAPE '\\' ORDER BY current_arr DESC, customer_id "
                "LIMIT ?",
                [pattern, pattern, limit + 1],
            )
        return listing(rows, limit)

    @tool
    def get_customer(customer_id: str) -> dict[str, Any]:
        """A customer's account: name, status, currency, payment terms, billing cycle day, tax
        exemption, segment, Ordway's open balance and CMRR, current MRR/ARR (reporting
        currency), open AR on the as-of date by currency. The billing contact is not in the
        marts (see billing_contact)."""
        with marts() as reader:
            row = customer(reader, customer_id)
            open_ar = reader.rows(
                "SELECT currency, count(*) AS open_invoices, sum(balance) AS balance, "
                "max(days_past_due) AS max_days_past_due "
                f"FROM {M}.fct_ar_aging WHERE customer_id = ? GROUP BY currency ORDER BY currency",
                [row["customer_id"]],
            )
        answer = plain(row)
        answer["open_ar"] = [plain(r) for r in open_ar]
        answer["billing_contact"] = None
        answer["notes"] = [
            "billing_contact: the published marts hold no contact fields (name, email, "
            "address), so this server cannot answer it; look it up in Ordway.",
            "open_balance_amount, cmrr_amount and discounted_cmrr_amount are Ordway's own "
            "figures in the customer's currency; current_mrr/current_arr are the marts' MRR in "
            "the reporting currency; open_ar sums fct_ar_aging on the as-of date.",
        ]
        return answer

    @tool
    def list_subscriptions(customer_id: str, status: str | None = None) -> dict[str, Any]:
        """A customer's subscriptions (contracts): status, currency, dates, terms, auto-renew,
        Ordway's CMRR and TCV, and each subscription line as last invoiced (plan, product,
        charge, quantity, unit and list price, service period). Optionally one status."""
        with marts() as reader:
            row = customer(reader, customer_id)
            subscriptions = reader.rows(
                f"SELECT * FROM {M}.dim_subscriptions WHERE customer_id = ? "
                "AND (CAST(? AS VARCHAR) IS NULL OR subscription_status = ?) "
                "ORDER BY contract_effective_date DESC NULLS LAST, subscription_id",
                [row["customer_id"], status, status],
            )
            lines = reader.rows(
                "SELECT subscription_id, subscription_line_id, plan_id, product_id, charge_id, "
                "charge_type, description, quantity, unit_price, list_price, start_date, "
                "end_date, invoice_id, invoice_date, currency "
                f"FROM {M}.fct_invoice_lines WHERE customer_id = ? "
                "AND invoice_status NOT IN ('Draft', 'Reversed') AND subscription_id IS NOT NULL "
                "QUALIFY row_number() OVER (PARTITION BY subscription_id, subscription_line_id "
                "ORDER BY invoice_date DESC, invoice_id DESC, line_no DESC) = 1 "
                "ORDER BY subscription_id, subscription_line_id",
                [row["customer_id"]],
            )
        limit = max_rows
        answer = listing(subscriptions, limit)
        for subscription in answer["rows"]:
            mine = [
                line for line in lines if line["subscription_id"] == subscription["subscription_id"]
            ]
            subscription["lines_as_last_invoiced"] = [plain(line) for line in mine[:limit]]
        answer["customer_current_mrr"] = money(row["current_mrr"])
        answer["notes"] = [
            "The marts have no subscription-line table: lines_as_last_invoiced is each "
            "subscription line's most recent invoice line (not Draft or Reversed).",
            "MRR is kept per customer, not per subscription: customer_current_mrr (reporting "
            "currency); cmrr_amount/discounted_cmrr_amount are Ordway's per-subscription "
            "figures in the subscription's currency.",
        ]
        return answer

    @tool
    def list_invoices(customer_id: str, open_only: bool = False, limit: int = 50) -> dict[str, Any]:
        """A customer's invoices, newest first: date, due date, status, currency, subtotal (net
        lines, tax excluded), tax, total, and the open balance, days past due and aging bucket
        on the as-of date (null when the invoice is not open). open_only keeps open ones."""
        limit = row_limit(limit)
        with marts() as reader:
            row = customer(reader, customer_id)
            rows = reader.rows(
                "WITH invoices AS (SELECT invoice_id, any_value(invoice_date) AS invoice_date, "
                "any_value(due_date) AS due_date, any_value(invoice_status) AS invoice_status, "
                "any_value(reversed_date) AS reversed_date, any_value(currency) AS currency, "
                "count(*) AS line_count, sum(billed_amount) AS subtotal, "
                "sum(coalesce(tax_amount, 0)) AS tax "
                f"FROM {M}.fct_invoice_lines WHERE customer_id = ? GROUP BY invoice_id) "
                "SELECT invoices.*, invoices.subtotal + invoices.tax AS total, "
                "aging.balance AS open_balance, aging.days_past_due, aging.aging_bucket "
                f"FROM invoices LEFT JOIN {M}.fct_ar_aging AS aging "
                "ON aging.invoice_id = invoices.invoice_id "
                "WHERE NOT ? OR aging.invoice_id IS NOT NULL "
                "ORDER BY invoices.invoice_date DESC, invoices.invoice_id DESC LIMIT ?",
                [row["customer_id"], open_only, limit + 1],
            )
        answer = listing(rows, limit)
        answer["notes"] = [
            "Totals from the invoice lines in the marts (fct_invoice_lines); open_balance from "
            "fct_ar_aging (tax included) on the as-of date."
        ]
        return answer

    @tool
    def list_payments(
        customer_id: str, since: str | None = None, until: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """A customer's payments, newest first (every status): date, status, type, method,
        currency, amount, fee, applied, unapplied and refunded amounts. since/until are
        YYYY-MM-DD, inclusive."""
        first, last = _range(
            parse_day(since, "since"), parse_day(until, "until"), f"since={since}, until={until}"
        )
        limit = row_limit(limit)
        with marts() as reader:
            row = customer(reader, customer_id)
            rows = reader.rows(
                f"SELECT * EXCLUDE (payment_month) FROM {M}.fct_payments WHERE customer_id = ? "
                "AND payment_date BETWEEN ? AND ? "
                "ORDER BY payment_date DESC, payment_id DESC LIMIT ?",
                [row["customer_id"], first, last, limit + 1],
            )
        return listing(rows, limit)

    @tool
    def revenue_by_month(
        customer_id: str | None = None, from_month: str | None = None, to_month: str | None = None
    ) -> dict[str, Any]:
        """Revenue recognition by month and document currency, for one customer or the whole
        company: recognized revenue (document and reporting currency), billings, and deferred
        and unbilled revenue at the month-end. Months are YYYY-MM, inclusive."""
        first, last = _range(
            parse_month(from_month, "from_month"),
            parse_month(to_month, "to_month"),
            f"from_month={from_month}, to_month={to_month}",
        )
        with marts() as reader:
            who = customer(reader, customer_id)["customer_id"] if customer_id else None
            rows = reader.rows(
                "WITH revenue AS (SELECT month, currency, sum(recognized_revenue) AS recognized, "
                "sum(recognized_revenue_reporting) AS recognized_reporting "
                f"FROM {M}.fct_revenue_monthly WHERE (CAST(? AS VARCHAR) IS NULL "
                "OR customer_id = ?) AND month BETWEEN ? AND ? GROUP BY ALL), "
                "deferred AS (SELECT month, currency, sum(billings) AS billings, "
                "sum(closing_deferred) AS closing_deferred, "
                f"sum(closing_unbilled) AS closing_unbilled FROM {M}.fct_deferred_revenue "
                "WHERE (CAST(? AS VARCHAR) IS NULL OR customer_id = ?) "
                "AND month BETWEEN ? AND ? GROUP BY ALL) "
                "SELECT month, currency, coalesce(recognized, 0) AS recognized_revenue, "
                "coalesce(recognized_reporting, 0) AS recognized_revenue_reporting, "
                "coalesce(billings, 0) AS billings, coalesce(closing_deferred, 0) "
                "AS closing_deferred, coalesce(closing_unbilled, 0) AS closing_unbilled "
                "FROM revenue FULL OUTER JOIN deferred USING (month, currency) "
                "ORDER BY month, currency",
                [who, who, first, last, who, who, first, last],
            )
        answer = listing(rows, max_rows)
        answer["reporting_currency"] = settings.reporting_currency
        answer["customer_id"] = who
        return answer

    @tool
    def arr_movements(from_month: str | None = None, to_month: str | None = None) -> dict[str, Any]:
        """The company's ARR bridge by month (reporting currency): opening, new, expansion,
        contraction, churn, reactivation and closing ARR, and active, new, churned and
        reactivated customers. Months are YYYY-MM, inclusive."""
        first, last = _range(
            parse_month(from_month, "from_month"),
            parse_month(to_month, "to_month"),
            f"from_month={from_month}, to_month={to_month}",
        )
        with marts() as reader:
            rows = figures.arr_movements(reader, first, last)
        answer = listing(rows, max_rows)
        answer["reporting_currency"] = settings.reporting_currency
        return answer

    @tool
    def customer_mrr_history(
        customer_id: str, from_month: str | None = None, to_month: str | None = None
    ) -> dict[str, Any]:
        """One customer's MRR and ARR at each month-end (reporting currency), with the
        previous month's MRR, the change and its movement (new, expansion, contraction, churn,
        reactivation, unchanged)."""
        first, last = _range(
            parse_month(from_month, "from_month"),
            parse_month(to_month, "to_month"),
            f"from_month={from_month}, to_month={to_month}",
        )
        with marts() as reader:
            row = customer(reader, customer_id)
            rows = reader.rows(
                f"SELECT * FROM {M}.fct_mrr WHERE customer_id = ? AND month BETWEEN ? AND ? "
                "ORDER BY month",
                [row["customer_id"], first, last],
            )
        answer = listing(rows, max_rows)
        answer["reporting_currency"] = settings.reporting_currency
        return answer

    @tool
    def customers_by_movement(month: str, movement: str | None = None) -> dict[str, Any]:
        """Customers whose MRR moved in a month (YYYY-MM), largest change first: e.g.
        movement='churn' answers "which customers churned in March?". movement is one of new,
        expansion, contraction, churn, reactivation (default: all of them)."""
        when = parse_month(month, "month")
        if when is None:
            raise ToolError("month is required: give YYYY-MM, e.g. 2026-04")
        if movement is not None and movement not in figures.MOVEMENTS:
            raise ToolError(
                f"movement={movement[:40]!r} is not one of {', '.join(figures.MOVEMENTS)}"
            )
        with marts() as reader:
            rows = figures.customer_movements(reader, when, movement)
        answer = listing(rows, max_rows)
        answer["reporting_currency"] = settings.reporting_currency
        return answer

    @tool
    def ar_aging(customer_id: str | None = None, limit: int = 50) -> dict[str, Any]:
        """Open AR on the as-of date (tax included, document currency): totals by currency and
        bucket (current, 1-30, 31-60, 61-90, 90+ days past due) and the open invoices, most
        overdue first; for the company or one customer."""
        limit = row_limit(limit)
        with marts() as reader:
            who = customer(reader, customer_id)["customer_id"] if customer_id else None
            buckets = figures.ar_aging_buckets(reader, who)
            invoices = figures.open_invoices(reader, who, limit + 1)
            info = as_of(reader)
        answer = listing(invoices, limit)
        answer["buckets"] = [plain(row) for row in buckets]
        answer["as_of_date"] = info.as_of_date.isoformat() if info.as_of_date else None
        answer["customer_id"] = who
        return answer

    @tool
    def list_metrics() -> dict[str, Any]:
        """Every metric query_metric answers: name, unit, currency basis, source mart column
        and definition."""
        return {
            "reporting_currency": settings.reporting_currency,
            "metrics": [
                {
                    "name": m.name,
                    "label": m.label,
                    "unit": m.unit,
                    "currency": (
                        settings.reporting_currency
                        if m.basis == "reporting"
                        else "document currency (one value per currency)"
                        if m.basis == "document"
                        else None
                    ),
                    "source": m.source,
                    "definition": m.definition,
                }
                for m in figures.METRICS.values()
            ],
        }

    @tool
    def query_metric(
        metric: str, from_month: str | None = None, to_month: str | None = None
    ) -> dict[str, Any]:
        """One metric by month (YYYY-MM, inclusive): arr, mrr, active_customers,
        churned_customers, nrr, grr, recognized_revenue, billings, deferred_revenue,
        unbilled_revenue, cash_collected, open_ar (as-of month only). list_metrics defines
        them."""
        if metric not in figures.METRICS:
            raise ToolError(f"unknown metric {metric[:40]!r}: one of {', '.join(figures.METRICS)}")
        first, last = _range(
            parse_month(from_month, "from_month"),
            parse_month(to_month, "to_month"),
            f"from_month={from_month}, to_month={to_month}",
        )
        definition = figures.METRICS[metric]
        with marts() as reader:
            rows = figures.metric_rows(reader, metric, first, last)
        values = []
        for row in rows:
            value = row["value"]
            shown = {
                "money": money,
                "ratio": ratio,
                "count": lambda v: v,
            }[definition.unit](value)
            entry = {"month": row["month"].isoformat(), "value": shown}
            if "currency" in row:
                entry["currency"] = row["currency"]
            values.append(entry)
        return {
            "metric": metric,
            "unit": definition.unit,
            "currency": settings.reporting_currency if definition.basis == "reporting" else None,
            "definition": definition.definition,
            "source": definition.source,
            "values": values[:max_rows],
            "truncated": len(values) > max_rows,
            "row_limit": max_rows,
        }

    return server
