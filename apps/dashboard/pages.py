"""The dashboard's pages. Each page opens the published marts read-only, reads what it shows
(``apps.figures``), closes the connection, and draws: every page names the as-of date, the
reporting currency and, where figures are in document currency, that currency."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from apps import figures
from apps.dashboard import charts
from apps.marts import AsOf, MartsUnavailable, Reader, as_of, cents, connect, percent
from apps.settings import AppSettings
from pipelines.config import ConfigError

WINDOWS = {"Last 12 months": 12, "Last 6 months": 6, "Last 3 months": 3, "Last month": 1}
ALL_MONTHS = "All months"


@dataclass(frozen=True)
class Page:
    reader: Reader
    settings: AppSettings
    as_of: AsOf

    @property
    def currency(self) -> str:
        return self.settings.reporting_currency


@contextmanager
def page(title: str, explanation: str) -> Iterator[Page]:
    """Title, the as-of line, and a reader of the published marts for the page's queries."""
    st.title(title)
    try:
        settings = AppSettings.from_env()
        with connect(settings.published_path) as reader:
            info = as_of(reader)
            published = datetime.fromtimestamp(settings.published_path.stat().st_mtime, UTC)
            st.caption(
                f"As of **{info.label}** · reporting currency **{settings.reporting_currency}** "
                f"· marts published {published:%Y-%m-%d %H:%M} UTC · {explanation}"
            )
            yield Page(reader, settings, info)
    except (MartsUnavailable, ConfigError) as exc:
        st.error(str(exc))
        st.stop()


def money_table(
    rows: Sequence[dict[str, Any]],
    columns: dict[str, tuple[str, Callable[[Any], str]]],
) -> None:
    """A table of already formatted text (money at cents with thousands separators), numbers
    aligned right; the first column is the row label."""
    frame = pd.DataFrame(
        [{header: fmt(row[key]) for key, (header, fmt) in columns.items()} for row in rows],
        columns=[header for header, _ in columns.values()],
    )
    frame = frame.set_index(frame.columns[0])
    st.table(frame.style.set_properties(**{"text-align": "right"}))


def month_label(value: date) -> str:
    return f"{value:%b %Y}"


def currency_choice(options: Sequence[str], settings: AppSettings, key: str) -> str:
    """A document currency to show (the reporting currency first when it is used)."""
    ordered = sorted(options, key=lambda c: (c != settings.reporting_currency, c))
    return st.columns(3)[0].selectbox("Document currency", ordered, key=key)


def _latest(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[-1] if rows else None


# ------------------------------------------------------------------------------- pages


def overview() -> None:
    with page("Finance overview", "headline figures of the as-of month") as p:
        movements = figures.arr_movements(p.reader)
        mrr = figures.metric_rows(p.reader, "mrr")
        retention = figures.retention(p.reader)
        revenue = figures.metric_rows(p.reader, "recognized_revenue")
        open_ar = figures.metric_rows(p.reader, "open_ar")
    latest, latest_mrr, latest_retention = _latest(movements), _latest(mrr), _latest(retention)
    cur = p.currency
    row1, row2 = st.columns(3), st.columns(3)
    if latest is not None:
        change = latest["closing_arr"] - latest["opening_arr"]
        row1[0].metric(
            f"ARR, {month_label(latest['month'])}",
            f"{cur} {cents(latest['closing_arr'])}",
            f"{cents(change)} vs previous month",
        )
        row1[2].metric("Active customers", latest["active_customers"])
    if latest_mrr is not None:
        row1[1].metric(
            f"MRR, {month_label(latest_mrr['month'])}", f"{cur} {cents(latest_mrr['value'])}"
        )
    if latest_retention is not None:
        row2[0].metric("Net revenue retention (12 months)", percent(latest_retention["nrr"]))
        row2[1].metric("Gross revenue retention (12 months)", percent(latest_retention["grr"]))
    closed = [row for row in revenue if p.as_of.as_of_month and row["month"] < p.as_of.as_of_month]
    if closed:
        row2[2].metric(
            f"Recognized revenue, {month_label(closed[-1]['month'])} (last closed month)",
            f"{cur} {cents(closed[-1]['value'])}",
        )
    st.subheader(f"Open AR on {p.as_of.label} (document currency)")
    if open_ar:
        for column, row in zip(st.columns(3) * len(open_ar), open_ar, strict=False):
            column.metric(
                f"Open AR ({row['currency']})", f"{row['currency']} {cents(row['value'])}"
            )
    else:
        st.write("No open invoices.")
    st.subheader("ARR by month")
    st.altair_chart(
        charts.trend(
            [row["month"] for row in movements],
            {"ARR": [row["closing_arr"] for row in movements]},
            unit=cur,
        ),
        width="stretch",
    )


def arr() -> None:
    with page("ARR and MRR", "ARR = 12 x MRR at the month-end, reporting currency") as p:
        all_movements = figures.arr_movements(p.reader)
        mrr = figures.metric_rows(p.reader, "mrr")
        last_month = all_movements[-1]["month"] if all_movements else None
        movers = figures.customer_movements(p.reader, last_month) if last_month else []
    cur = p.currency
    window = st.columns(3)[0].selectbox("Period", [*WINDOWS, ALL_MONTHS], key="arr_window")
    movements = all_movements[-WINDOWS[window] :] if window in WINDOWS else all_movements
    if not movements:
        st.info("No ARR yet: the published marts have no recurring revenue.")
        return
    st.subheader(
        f"ARR bridge, {month_label(movements[0]['month'])} to {month_label(movements[-1]['month'])}"
    )
    st.altair_chart(charts.waterfall(figures.arr_bridge(movements), cur), width="stretch")
    st.subheader("Movements and closing ARR by month")
    st.altair_chart(charts.movements_and_closing(movements, cur), width="stretch")
    st.subheader("MRR by month")
    window_months = {row["month"] for row in movements}
    shown = [row for row in mrr if row["month"] in window_months]
    st.altair_chart(
        charts.trend([r["month"] for r in shown], {"MRR": [r["value"] for r in shown]}, unit=cur),
        width="stretch",
    )
    money_table(
        movements,
        {
            "month": ("Month", month_label),
            "opening_arr": (f"Opening ({cur})", cents),
            "new_arr": ("New", cents),
            "expansion_arr": ("Expansion", cents),
            "reactivation_arr": ("Reactivation", cents),
            "contraction_arr": ("Contraction", cents),
            "churn_arr": ("Churn", cents),
            "closing_arr": (f"Closing ({cur})", cents),
            "active_customers": ("Active customers", str),
            "new_customers": ("New customers", str),
            "churned_customers": ("Churned customers", str),
        },
    )
    st.subheader(f"Customers that moved in {month_label(last_month)}")
    if movers:
        money_table(
            movers,
            {
                "customer_name": ("Customer", str),
                "customer_id": ("Id", str),
                "movement": ("Movement", str),
                "previous_mrr": (f"Previous MRR ({cur})", cents),
                "mrr": (f"MRR ({cur})", cents),
                "arr_change": (f"ARR change ({cur})", cents),
            },
        )
    else:
        st.write("No customer's MRR changed in that month.")


def retention() -> None:
    with page("Retention", "12-month cohorts on ARR; logo counts at month-ends") as p:
        rows = figures.retention(p.reader)
        movements = figures.arr_movements(p.reader)
    with_cohort = [row for row in rows if row["nrr"] is not None]
    st.subheader("Net and gross revenue retention")
    if with_cohort:
        st.altair_chart(
            charts.trend(
                [row["month"] for row in with_cohort],
                {
                    "NRR": [row["nrr"] for row in with_cohort],
                    "GRR": [row["grr"] for row in with_cohort],
                },
                unit="",
                kind="ratio",
            ),
            width="stretch",
        )
    else:
        st.info("No 12-month cohort yet: NRR and GRR need ARR twelve months before a month.")
    st.subheader("Customers")
    st.altair_chart(
        charts.trend(
            [row["month"] for row in movements],
            {
                "Active": [row["active_customers"] for row in movements],
                "New": [row["new_customers"] for row in movements],
                "Churned": [row["churned_customers"] for row in movements],
            },
            unit="customers",
            kind="count",
        ),
        width="stretch",
    )
    by_month = {row["month"]: row for row in movements}
    money_table(
        rows[-12:],
        {
            "month": ("Month", month_label),
            "cohort_arr": (f"Cohort ARR 12 months earlier ({p.currency})", cents),
            "nrr": ("NRR", percent),
            "grr": ("GRR", percent),
        },
    )
    churn = [
        {
            "month": month,
            "active": row["active_customers"],
            "churned": row["churned_customers"],
        }
        for month, row in sorted(by_month.items())[-12:]
    ]
    money_table(
        churn,
        {
            "month": ("Month", month_label),
            "active": ("Active customers", str),
            "churned": ("Churned customers", str),
        },
    )


def revenue() -> None:
    with page(
        "Revenue and deferred revenue",
        "recognized revenue in reporting currency; the roll-forward in document currency",
    ) as p:
        recognized = figures.metric_rows(p.reader, "recognized_revenue")
        currencies = figures.document_currencies(p.reader)
        chosen = currency_choice(currencies, p.settings, "revenue_currency") if currencies else None
        rollforward = figures.deferred_rollforward(p.reader, chosen) if chosen else []
    cur = p.currency
    st.subheader(f"Recognized revenue by month ({cur}, all currencies converted)")
    st.altair_chart(
        charts.trend(
            [r["month"] for r in recognized],
            {"Recognized": [r["value"] for r in recognized]},
            unit=cur,
        ),
        width="stretch",
    )
    if not rollforward:
        st.info("No billings or revenue in the published marts.")
        return
    months = [row["month"] for row in rollforward]
    st.subheader(f"Billings vs recognized revenue ({chosen}, document currency)")
    st.altair_chart(
        charts.grouped_bars(
            months,
            {
                "Billings": [row["billings"] for row in rollforward],
                "Recognized": [row["recognized_revenue"] for row in rollforward],
            },
            chosen,
        ),
        width="stretch",
    )
    st.subheader(f"Deferred and unbilled revenue at month-end ({chosen})")
    st.altair_chart(
        charts.trend(
            months,
            {
                "Deferred": [row["closing_deferred"] for row in rollforward],
                "Unbilled": [row["closing_unbilled"] for row in rollforward],
            },
            unit=chosen,
        ),
        width="stretch",
    )
    st.subheader(f"Roll-forward, last 12 months ({chosen})")
    st.caption(
        "Opening + billings - recognized = closing balance = closing deferred - closing "
        "unbilled (per customer: deferred where billed ahead, unbilled where recognized ahead)."
    )
    money_table(
        rollforward[-12:],
        {
            "month": ("Month", month_label),
            "opening_balance": ("Opening balance", cents),
            "billings": ("Billings", cents),
            "recognized_revenue": ("Recognized", cents),
            "closing_balance": ("Closing balance", cents),
            "closing_deferred": ("Closing deferred", cents),
            "closing_unbilled": ("Closing unbilled", cents),
        },
    )


def billings_and_cash() -> None:
    with page("Billings and cash", "document currency; cash = payments received less refunds") as p:
        currencies = figures.document_currencies(p.reader)
        chosen = currency_choice(currencies, p.settings, "cash_currency") if currencies else None
        billings = figures.deferred_rollforward(p.reader, chosen) if chosen else []
        cash = figures.cash_by_month(p.reader, chosen) if chosen else []
    if not chosen:
        st.info("No billings or payments in the published marts.")
        return
    cash_by_month = {row["month"]: row["value"] for row in cash}
    billed = {row["month"]: row["billings"] for row in billings}
    months = sorted(set(cash_by_month) | set(billed))
    rows = [
        {
            "month": month,
            "billings": billed.get(month, Decimal(0)),
            "cash": cash_by_month.get(month, Decimal(0)),
        }
        for month in months
    ]
    st.subheader(f"Billings and cash collected by month ({chosen})")
    st.altair_chart(
        charts.grouped_bars(
            months,
            {
                "Billings": [r["billings"] for r in rows],
                "Cash collected": [r["cash"] for r in rows],
            },
            chosen,
        ),
        width="stretch",
    )
    st.caption(
        "Billings: net invoice lines, tax excluded (reversals negated in their month). Cash: "
        "payments received (Processed, Partially refunded or Refunded), gross of later refunds, "
        "tax included; fees not deducted."
    )
    money_table(
        rows[-12:],
        {
            "month": ("Month", month_label),
            "billings": (f"Billings ({chosen})", cents),
            "cash": (f"Cash collected ({chosen})", cents),
        },
    )


def ar_aging() -> None:
    with page("AR aging", "open invoices on the as-of date, tax included, document currency") as p:
        buckets = figures.ar_aging_buckets(p.reader)
        invoices = figures.open_invoices(p.reader, limit=20)
    currencies = sorted({row["currency"] for row in buckets})
    if not currencies:
        st.info("No open invoices on the as-of date.")
        return
    chosen = currency_choice(currencies, p.settings, "aging_currency")
    mine = [row for row in buckets if row["currency"] == chosen]
    st.subheader(f"Open AR by bucket ({chosen})")
    st.altair_chart(
        charts.bars(
            [row["aging_bucket"] for row in mine],
            [row["balance"] for row in mine],
            chosen,
            "days past due",
        ),
        width="stretch",
    )
    st.subheader("By currency and bucket")
    totals = []
    for currency in currencies:
        rows = [row for row in buckets if row["currency"] == currency]
        total = {"currency": currency, "invoices": sum(r["invoices"] for r in rows)}
        total |= {row["aging_bucket"]: row["balance"] for row in rows}
        total["total"] = sum((r["balance"] for r in rows), Decimal(0))
        totals.append(total)
    money_table(
        totals,
        {"currency": ("Currency", str), "invoices": ("Open invoices", str)}
        | {bucket: (bucket, cents) for bucket in figures.AGING_BUCKETS}
        | {"total": ("Total", cents)},
    )
    st.subheader("Most overdue open invoices")
    money_table(
        invoices,
        {
            "invoice_id": ("Invoice", str),
            "customer_name": ("Customer", str),
            "currency": ("Currency", str),
            "balance": ("Balance", cents),
            "due_date": ("Due", str),
            "days_past_due": ("Days past due", str),
            "aging_bucket": ("Bucket", str),
        },
    )


def customers() -> None:
    with page("Top customers", "by current ARR (reporting currency)") as p:
        top = figures.top_customers(p.reader, limit=25)
    cur = p.currency
    if not top:
        st.info("No customer has ARR in the published marts.")
        return
    chart_rows = top[:15]
    st.subheader(f"Top {len(chart_rows)} customers by ARR ({cur})")
    st.altair_chart(
        charts.bars(
            [row["customer_name"] or row["customer_id"] for row in chart_rows],
            [row["current_arr"] for row in chart_rows],
            cur,
            "customer",
        ),
        width="stretch",
    )

    def open_ar(balances: dict[str, Decimal]) -> str:
        return "; ".join(f"{c} {cents(v)}" for c, v in sorted(balances.items())) or "-"

    money_table(
        top,
        {
            "customer_name": ("Customer", str),
            "customer_id": ("Id", str),
            "customer_status": ("Status", str),
            "current_mrr": (f"MRR ({cur})", cents),
            "current_arr": (f"ARR ({cur})", cents),
            "open_ar": ("Open AR (document currency)", open_ar),
        },
    )


#: (function, title, url path); the first is the home page.
PAGES = (
    (overview, "Overview", "overview"),
    (arr, "ARR and MRR", "arr"),
    (retention, "Retention", "retention"),
    (revenue, "Revenue and deferred", "revenue"),
    (billings_and_cash, "Billings and cash", "billings-and-cash"),
    (ar_aging, "AR aging", "ar-aging"),
    (customers, "Top customers", "customers"),
)
