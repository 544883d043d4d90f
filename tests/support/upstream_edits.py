"""The upstream edits of the nightly-consistency scenario (tests/reliability/), shared with the
Snowflake end-to-end test: on the sandbox's tenant, after its last `advance`,

- an old invoice is edited with an `updated_date` inside the 2 h lookback (a partial payment);
- another old invoice is edited with an `updated_date` outside the lookback (a credit on its
  first line and on its totals): invisible to a nightly run, merged by the sweep;
- an old payment is deleted, and the invoices it paid lose it (an embedded list becoming
  empty) and reopen, edited inside the lookback;
- that payment and an invoice of the current month are deleted upstream.

The amounts are recorded on `edits` so tests can check them with Decimal arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from tests.support.source import parse_ms

LOOKBACK = timedelta(hours=2)  # ORDWAY_LOOKBACK_HOURS default
PAID_INSIDE = Decimal("10.00")  # paid on the invoice edited inside the lookback
CREDIT_OUTSIDE = Decimal("20.00")  # taken off a line of the invoice edited outside it


class Edits(Protocol):
    """Where `edit_upstream` records what it changed (the tenant's as-of date is read)."""

    as_of: str
    edited_inside: dict[str, Any]
    edited_outside: dict[str, Any]
    reopened: dict[str, Decimal]  # invoice -> balance
    deleted: dict[str, set[str]]


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def edit_upstream(sandbox: Any, history: Edits, cursor: datetime) -> None:
    """Edits and deletes on the final tenant, stamped relative to the warehouse's invoices
    cursor (the newest `updated_date` the previous nightly run stored)."""
    tenant = sandbox.get_tenant()
    invoices = tenant["invoices"]
    recent = history.as_of[:8] + "01"  # invoices of the current month came with nightly runs
    open_old = sorted(
        (
            r
            for r in invoices
            if r["status"] == "Posted"
            and Decimal(r["balance"]) > CREDIT_OUTSIDE
            and r["line_items"]
            and r["invoice_date"] < recent
        ),
        key=lambda r: (r["invoice_date"], r["id"]),
    )
    assert len(open_old) >= 2, "the tenant needs two old open invoices to edit"
    # inside the lookback: a partial payment recorded on the header
    record, inside = open_old[0], history.edited_inside
    stamp = cursor - timedelta(minutes=30)
    assert parse_ms(record["updated_date"]) < stamp  # an edit moves the stamp forward
    inside.update(id=record["id"], old=Decimal(record["balance"]))
    inside["new"] = inside["old"] - PAID_INSIDE
    record["balance"] = _money(inside["new"])
    record["paid_amount"] = _money(Decimal(record["paid_amount"]) + PAID_INSIDE)
    record["status"] = "Partially paid"
    record["updated_date"] = _stamp(stamp)
    # outside the lookback: a credit on the first line (a nested row) and on the totals
    record, outside = open_old[1], history.edited_outside
    stamp = cursor - 3 * LOOKBACK
    assert parse_ms(record["updated_date"]) < stamp
    line = record["line_items"][0]
    outside.update(id=record["id"], old=Decimal(record["balance"]), line_no=line["line_no"])
    outside["new"] = outside["old"] - CREDIT_OUTSIDE
    outside["line_old"] = Decimal(line["effective_price"])
    outside["line_new"] = outside["line_old"] - CREDIT_OUTSIDE
    line["effective_price"] = _money(outside["line_new"])
    for name in ("subtotal", "invoice_amount", "balance"):
        record[name] = _money(Decimal(record[name]) - CREDIT_OUTSIDE)
    record["updated_date"] = _stamp(stamp)
    # a payment deleted upstream: the invoices it paid lose it (their embedded payments list
    # becomes empty) and reopen, edited inside the lookback
    by_id = {r["id"]: r for r in invoices}
    old_payment = next(
        p
        for p in tenant["payments"]
        if p["status"] == "Processed"
        and p["payment_date"] < recent
        and p["invoices"]
        and all(len(by_id[a["id"]]["payments"]) == 1 for a in p["invoices"])
    )
    for application in old_payment["invoices"]:
        record = by_id[application["id"]]
        amount = Decimal(application["amount_applied"])
        record["payments"] = []
        record["balance"] = _money(Decimal(record["balance"]) + amount)
        record["paid_amount"] = _money(Decimal(record["paid_amount"]) - amount)
        record["status"] = "Posted" if Decimal(record["paid_amount"]) == 0 else "Partially paid"
        record["updated_date"] = _stamp(cursor - timedelta(minutes=20))
        history.reopened[record["id"]] = Decimal(record["balance"])
    new_invoice = next(  # first loaded by a nightly run
        r for r in invoices if r["invoice_date"] >= recent and parse_ms(r["updated_date"]) <= cursor
    )
    history.deleted = {"payments": {old_payment["id"]}, "invoices": {new_invoice["id"]}}
    tenant["payments"] = [p for p in tenant["payments"] if p is not old_payment]
    tenant["invoices"] = [r for r in invoices if r is not new_invoice]
    sandbox.put_tenant(tenant)
