"""Independent oracles for the finance marts, computed with ``Decimal`` from the tenant the
sandbox serves (the wire records), following ``docs/revenue-rules.md``, never from the SQL under
test; and the accounting identities, checked in Python on the marts' rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

#: revenue-rules §2: Draft never counts; Reversed counts in its month and again, negated, in
#: the month of reversed_on (dbt var billed_invoice_statuses, default).
BILLED_STATUSES = ("Posted", "Paid", "Partially paid", "Reversed")
MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

Key = tuple[date, str, str]  # (month, customer_id, currency)


def month_of(day: str) -> date:
    return date.fromisoformat(day[:10]).replace(day=1)


def financial_period(value: str) -> date:
    """``"May 2025"`` / ``"Sep 2025"`` -> 2025-05-01."""
    name, year = value.strip().split()
    return date(int(year), MONTHS[name[:3].lower()], 1)


def money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "", "-") else Decimal(0)


def billings(tenant: Mapping[str, Any], through: date) -> dict[Key, Decimal]:
    """Net billed amount (line ``effective_price``, tax excluded) per invoice month, customer
    and document currency, up to the month ``through``."""
    result: dict[Key, Decimal] = defaultdict(Decimal)
    for invoice in tenant.get("invoices", []):
        if invoice.get("status") not in BILLED_STATUSES:
            continue
        amount = sum((money(line["effective_price"]) for line in invoice["line_items"]), Decimal(0))
        customer, currency = invoice["customer_id"], invoice["currency"]
        result[(month_of(invoice["invoice_date"]), customer, currency)] += amount
        if invoice.get("status") == "Reversed" and invoice.get("reversed_on") not in (None, ""):
            result[(month_of(invoice["reversed_on"]), customer, currency)] -= amount
    return {key: value for key, value in result.items() if key[0] <= through and value != 0}


def recognized_revenue(tenant: Mapping[str, Any], through: date) -> dict[Key, Decimal]:
    """Posted revenue schedule lines (``posted`` = Yes) by ``financial_period``, per customer
    and line currency, up to the month ``through``."""
    result: dict[Key, Decimal] = defaultdict(Decimal)
    for schedule in tenant.get("revenue_schedules", []):
        for line in schedule.get("schedule_lines", []):
            month = financial_period(line["financial_period"])
            if line.get("posted") != "Yes" or month > through:
                continue
            result[(month, schedule["customer_id"], line["currency"])] += money(line["amount"])
    return {key: value for key, value in result.items() if value != 0}


def nonzero(rows: Iterable[Mapping[str, Any]], column: str, through: date) -> dict[Key, Decimal]:
    """A mart's (month, customer_id, currency) -> column, without zero rows or later months."""
    result = {}
    for row in rows:
        if row["month"] <= through and row[column] != 0:
            result[(row["month"], row["customer_id"], row["currency"])] = row[column]
    return result


def arr_bridge_breaks(rows: list[Mapping[str, Any]]) -> list[str]:
    """Months where opening + movements != closing, or opening != the previous closing."""
    problems = []
    previous = None
    for row in sorted(rows, key=lambda r: r["month"]):
        moved = sum(
            row[c]
            for c in (
                "opening_arr",
                "new_arr",
                "expansion_arr",
                "contraction_arr",
                "churn_arr",
                "reactivation_arr",
            )
        )
        if moved != row["closing_arr"]:
            problems.append(f"{row['month']}: opening + movements {moved} != {row['closing_arr']}")
        if previous is not None and row["opening_arr"] != previous["closing_arr"]:
            problems.append(f"{row['month']}: opening != previous closing")
        previous = row
    return problems


def roll_forward_breaks(rows: list[Mapping[str, Any]]) -> list[str]:
    """Deferred revenue rows where opening + billings - recognized != closing, where opening is
    not the previous month's closing of the same customer and currency, or where the closing
    split into deferred and unbilled is wrong."""
    problems = []
    last: dict[tuple[str, str], Mapping[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (r["customer_id"], r["currency"], r["month"])):
        key = (row["customer_id"], row["currency"])
        where = f"{row['month']} {key}"
        if (
            row["opening_balance"] + row["billings"] - row["recognized_revenue"]
            != row["closing_balance"]
        ):
            problems.append(f"{where}: roll-forward does not add up")
        if key in last and row["opening_balance"] != last[key]["closing_balance"]:
            problems.append(f"{where}: opening != previous closing")
        closing = row["closing_balance"]
        if (row["closing_deferred"], row["closing_unbilled"]) != (
            max(closing, Decimal(0)),
            max(-closing, Decimal(0)),
        ):
            problems.append(f"{where}: deferred/unbilled split is wrong")
        last[key] = row
    return problems


# ------------------------------------------------------------ cash, credits, receivables (§9)

#: revenue-rules §9, typed here independently of the dbt vars.
COLLECTED_PAYMENT_STATUSES = ("Processed", "Partially refunded", "Refunded")
SUCCEEDED_REFUND_STATUSES = ("Succeeded",)
ISSUED_CREDIT_STATUSES = ("Processed",)
CASH_FIGURES = (
    "payments_received",
    "payments_refunded",
    "net_cash_received",
    "payments_applied",
    "credits_issued",
    "credits_applied",
    "failed_payment_attempts",
    "failed_payment_amount",
)


def cash_monthly(tenant: Mapping[str, Any], as_of: date) -> dict[Key, dict[str, Decimal]]:
    """fct_cash_monthly by the table of revenue-rules §9: per month, customer and document
    currency, every figure, from the payments, refunds and credits (events after ``as_of``
    left out)."""
    drafts = {i["id"] for i in tenant.get("invoices", []) if i["status"] == "Draft"}
    rows: dict[Key, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(CASH_FIGURES, Decimal(0))
    )

    def add(day: str, document: Mapping[str, Any], figure: str, amount: Decimal) -> None:
        if date.fromisoformat(day[:10]) <= as_of:
            key = (month_of(day), document["customer_id"], document["currency"])
            rows[key][figure] += amount

    def applications(document: Mapping[str, Any], own_date: str, figure: str) -> None:
        for application in document.get("invoices") or []:
            if application["id"] not in drafts:
                day = application.get("created_date") or own_date
                add(day, document, figure, money(application["amount_applied"]))

    for payment in tenant.get("payments", []):
        if payment["status"] in COLLECTED_PAYMENT_STATUSES:
            add(
                payment["payment_date"],
                payment,
                "payments_received",
                money(payment["payment_amount"]),
            )
            applications(payment, payment["payment_date"], "payments_applied")
        elif payment["status"] == "Failed":
            add(payment["payment_date"], payment, "failed_payment_attempts", Decimal(1))
            add(
                payment["payment_date"],
                payment,
                "failed_payment_amount",
                money(payment["payment_amount"]),
            )
    for refund in tenant.get("refunds", []):
        if refund["refund_status"] in SUCCEEDED_REFUND_STATUSES:
            add(refund["refund_date"], refund, "payments_refunded", money(refund["refund_amount"]))
    for credit in tenant.get("credits", []):
        if credit["status"] in ISSUED_CREDIT_STATUSES:
            add(credit["credit_date"], credit, "credits_issued", money(credit["credit_amount"]))
            applications(credit, credit["credit_date"], "credits_applied")
    for row in rows.values():
        row["net_cash_received"] = row["payments_received"] - row["payments_refunded"]
    return dict(rows)


def aging_bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    return "31-60" if days_past_due <= 60 else "61-90" if days_past_due <= 90 else "90+"


def open_ar(tenant: Mapping[str, Any], as_of: date) -> set[tuple[Any, ...]]:
    """fct_ar_aging by revenue-rules §2/§9: (id, document_type, customer, currency, balance, due
    date, days past due, bucket) of every open invoice and debit memo on ``as_of``."""
    documents = [
        (i["id"], "invoice", i, i["invoice_date"], i["due_date"])
        for i in tenant.get("invoices", [])
        if i["status"] not in ("Draft", "Reversed")
    ] + [
        (m["id"], "debit_memo", m, m["debit_date"], m["debit_date"])
        for m in tenant.get("debit_memos", [])
        if m["status"] not in ("Draft", "Reversed", "Void") and not m.get("reversed_on")
    ]
    out = set()
    for document_id, kind, document, dated, due in documents:
        balance = money(document["balance"])
        if balance > 0 and date.fromisoformat(dated) <= as_of:
            days = (as_of - date.fromisoformat(due)).days
            row = (document_id, kind, document["customer_id"], document["currency"], balance)
            out.add((*row, date.fromisoformat(due), days, aging_bucket(days)))
    return out


def invoices_off_their_applications(tenant: Mapping[str, Any]) -> set[str]:
    """The §9 roll-forward per invoice, as of the latest load: the billed, not Reversed
    invoices whose balance is not invoice_amount - received payments applied - issued credits
    applied + succeeded refunds against it."""
    settled: dict[str, Decimal] = defaultdict(Decimal)
    for payment in tenant.get("payments", []):
        if payment["status"] in COLLECTED_PAYMENT_STATUSES:
            for application in payment.get("invoices") or []:
                settled[application["id"]] -= money(application["amount_applied"])
    for credit in tenant.get("credits", []):
        if credit["status"] in ISSUED_CREDIT_STATUSES:
            for application in credit.get("invoices") or []:
                settled[application["id"]] -= money(application["amount_applied"])
    for refund in tenant.get("refunds", []):
        if refund["refund_status"] in SUCCEEDED_REFUND_STATUSES and refund.get("invoice_id"):
            settled[refund["invoice_id"]] += money(refund["refund_amount"])
    return {
        i["id"]
        for i in tenant.get("invoices", [])
        if i["status"] in BILLED_STATUSES
        and i["status"] != "Reversed"
        and money(i["invoice_amount"]) + settled[i["id"]] != money(i["balance"])
    }


PAYMENT_RUN_MAX_ATTEMPTS = 3
PAYMENT_RETRY_DAYS = 7


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value not in (None, "", "-") else None


def _count(value: Any) -> int:
    return int(value) if value not in (None, "", "-") else 0


def payment_failures(tenant: Mapping[str, Any], as_of: date) -> dict[str, dict[str, Any]]:
    """fct_payment_failures by the rules of revenue-rules §10, written from the page: failed
    payment id -> its row (customer, currency, date, amount, method, reason, run, counters,
    outcome, the resolving payment or credit and its date, days to resolution)."""
    invoices = {i["id"]: i for i in tenant.get("invoices", [])}

    def owed_by(applications: Iterable[Mapping[str, Any]], day: date, settled: bool) -> bool:
        """Some application is to a non-Draft invoice dated on or before ``day`` (and, when
        ``settled``, whose balance is now <= 0)."""
        for application in applications:
            invoice = invoices.get(application["id"])
            if invoice is None or invoice["status"] == "Draft":
                continue
            if _day(invoice["invoice_date"]) <= day and (
                not settled or money(invoice["balance"]) <= 0
            ):
                return True
        return False

    payments = [
        p
        for p in tenant.get("payments", [])
        if _day(p["payment_date"]) is not None and _day(p["payment_date"]) <= as_of
    ]
    failed = [p for p in payments if p["status"] == "Failed"]
    received = [p for p in payments if p["status"] in COLLECTED_PAYMENT_STATUSES]
    credits = [
        c
        for c in tenant.get("credits", [])
        if c["status"] in ISSUED_CREDIT_STATUSES and _day(c["credit_date"]) <= as_of
    ]
    rows = {}
    for f in failed:
        day, run = _day(f["payment_date"]), f.get("payment_run_id") or None
        attempt = _count(f.get("failed_attempt"))
        same = [
            p
            for p in received
            if (p["customer_id"], p["currency"]) == (f["customer_id"], f["currency"])
            and _day(p["payment_date"]) >= day
            and owed_by(p.get("invoices") or [], day, settled=False)
            and (
                money(p["payment_amount"]) == money(f["payment_amount"])
                or (
                    run is not None
                    and bool(p.get("payment_run_id"))
                    and _count(p.get("retried_attempts")) >= attempt
                )
            )
        ]
        recovery = min(same, key=lambda p: (_day(p["payment_date"]), p["id"]), default=None)
        offs = [
            c
            for c in credits
            if (c["customer_id"], c["currency"]) == (f["customer_id"], f["currency"])
            and _day(c["credit_date"]) >= day
            and owed_by(c.get("invoices") or [], day, settled=True)
        ]
        write_off = min(offs, key=lambda c: (_day(c["credit_date"]), c["id"]), default=None)
        resolved = None
        if recovery is not None:
            outcome, resolved = "recovered", _day(recovery["payment_date"])
        elif write_off is not None:
            outcome, resolved = "written_off", _day(write_off["credit_date"])
        else:
            outcome = "failed"
            if run is not None:
                later = [
                    p
                    for p in failed
                    if (p["customer_id"], p["currency"]) == (f["customer_id"], f["currency"])
                    and p.get("payment_run_id")
                    and _day(p["payment_date"]) >= day
                ]
                highest = max(_count(p.get("failed_attempt")) for p in later)
                latest = max(_day(p["payment_date"]) for p in later)
                if (
                    attempt < PAYMENT_RUN_MAX_ATTEMPTS
                    and highest < PAYMENT_RUN_MAX_ATTEMPTS
                    and (as_of - latest).days <= PAYMENT_RETRY_DAYS
                ):
                    outcome = "retrying"
        rows[f["id"]] = {
            "customer_id": f["customer_id"],
            "currency": f["currency"],
            "payment_date": day,
            "payment_amount": money(f["payment_amount"]),
            "payment_method": f.get("payment_method") or None,
            "failure_reason": f.get("failure_reason") or None,
            "payment_run_id": run,
            "failed_attempt": attempt,
            "retried_attempts": _count(f.get("retried_attempts")),
            "outcome": outcome,
            "recovered_by_payment_id": recovery["id"] if outcome == "recovered" else None,
            "written_off_by_credit_id": write_off["id"] if outcome == "written_off" else None,
            "resolved_date": resolved,
            "days_to_resolution": (resolved - day).days if resolved else None,
        }
    return rows
