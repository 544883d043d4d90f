"""Billing: billing schedules and their lines, the daily billing run, invoices (posting,
reversal and re-issue); and how billing schedules and invoices are rendered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import TERMS, ZERO, q2
from ordway_sandbox.generator.model import (
    BillingSchedule,
    BLine,
    Event,
    Invoice,
    InvoiceItem,
    SubLine,
)
from ordway_sandbox.generator.parts import SimPart
from ordway_sandbox.generator.timeline import T_BILLING, add_months, billing_run_stamp, d

if TYPE_CHECKING:
    from ordway_sandbox.generator.simulation import CustomerSim


class BillingSim(SimPart):
    """Schedules what to bill, invoices it in the billing run, and posts (or reverses) invoices."""

    def __init__(self, sim: CustomerSim) -> None:
        super().__init__(sim)
        self.pending: list[BLine] = []
        self.bill_days: set[int] = set()

    def open_schedule(self, ev: Event, line: SubLine) -> None:
        """The billing schedule of a line just sold (its lines are added by the caller)."""
        bs = BillingSchedule(ev, line)
        line.bs = bs
        self.world.billing_schedules.append(bs)

    def add_bline(
        self,
        ev: Event,
        line: SubLine,
        line_type: str,
        ready: int,
        start: int,
        end: int,
        quantity: int,
        amount: Decimal,
        nominal_days: int = 0,
    ) -> BLine:
        b = BLine(line.bs, ev)
        b.line_type = line_type
        b.ready, b.start, b.end = ready, start, end
        b.quantity = quantity
        b.unit_price, b.list_price, b.discount = line.unit_price, line.list_price, line.discount
        b.amount = q2(amount)
        b.nominal_days = nominal_days
        line.bs.lines.append(b)
        self.pending.append(b)
        later_today = ready == ev.day and ev.proc < T_BILLING
        if (ready > ev.day or later_today) and ready not in self.bill_days:
            self.bill_days.add(ready)
            self.push(ready, T_BILLING, self.billing_run, ())
        return b

    def add_periods(self, ev: Event, line: SubLine, first: int) -> None:
        """Billing periods of a recurring line from ``first`` to its end (last one clipped)."""
        months = line.charge.months
        k = 0
        while True:
            start = add_months(first, k * months)
            if start > line.end:
                break
            nominal_end = add_months(first, (k + 1) * months) - 1
            end = min(nominal_end, line.end)
            nominal = nominal_end - start + 1
            full = line.unit_price * line.quantity
            amount = full if end == nominal_end else full * (end - start + 1) / nominal
            self.add_bline(ev, line, "Regular", start, start, end, line.quantity, amount, nominal)
            k += 1

    def current_period(self, line: SubLine, day: int) -> BLine | None:
        for b in line.bs.lines:
            if b.line_type == "Regular" and not b.removed and b.start <= day <= b.end:
                return b
        return None

    def bill_if_ready(self, ev: Event) -> None:
        """Invoice right away what is ready today when the day's billing run has passed."""
        if ev.proc >= T_BILLING:
            self.invoice(ev, [b for b in self.pending if b.ready <= ev.day])

    def billing_run(self, ev: Event) -> None:
        ev.stamp = billing_run_stamp(ev.day)
        self.bill_days.discard(ev.day)
        self.invoice(ev, [b for b in self.pending if b.ready <= ev.day])

    def invoice(self, ev: Event, blines: list[BLine]) -> Invoice | None:
        blines = [b for b in blines if not b.removed and not b.invoiced]
        if not blines:
            return None
        ready = set(map(id, blines))
        self.pending = [b for b in self.pending if id(b) not in ready and not b.removed]
        cust = self.cust
        inv = Invoice(ev, cust)
        inv.date = ev.day
        rate = cat.tax_rate(cust.currency)
        items = []
        for b in blines:
            line = b.schedule.line
            taxable = line.charge.product.taxable and not cust.tax_exempt
            items.append(InvoiceItem(b, line, q2(b.amount * rate) if taxable else ZERO, taxable))
            b.invoiced = True
            b.schedule.touch(ev)
            for usage in b.usages:
                usage.invoiced = True
                usage.touch(ev)
            self.revenue.invoiced(ev, inv, b)
        self.post_invoice(ev, inv, items)
        if inv.amount > 0:
            self.collections.plan_collection(ev, inv)
        elif inv.amount < 0:
            self.push(
                ev.day + self.rng.randint(2, 6),
                self.business_time(),
                self.collections.refund,
                (inv,),
            )
        return inv

    def post_invoice(self, ev: Event, inv: Invoice, items: list[InvoiceItem]) -> None:
        cust = self.cust
        inv.items = items
        inv.rate_f, inv.rate = cat.fx_rate(cust.currency, d(inv.date), self.base)
        inv.due = inv.date + TERMS[cust.terms]
        inv.subtotal = sum((item.bline.amount for item in items), ZERO)
        inv.tax = sum((item.tax for item in items), ZERO)
        inv.amount = inv.subtotal + inv.tax
        cust.invoices.append(inv)
        cust.touch(ev)
        self.world.invoices.append(inv)
        deferred = sum(
            (i.bline.amount for i in items if i.subline.charge.type == "Recurring"), ZERO
        )
        entries = [("1200", inv.amount), ("2400", -deferred)]
        for account in ("4000", "4100", "4200"):
            entries.append(
                (
                    account,
                    -sum(
                        (
                            i.bline.amount
                            for i in items
                            if i.subline.charge.type != "Recurring"
                            and i.subline.charge.product.revenue_account == account
                        ),
                        ZERO,
                    ),
                )
            )
        entries.append(("2300", -inv.tax))
        self.collections.journal(
            ev, "Invoice", inv, inv.date, f"Invoice posting {inv.date}", entries, inv.amount
        )

    def reverse(self, ev: Event, inv: Invoice) -> None:
        if inv.reversed_on is not None or inv.payments or inv.credits:
            return
        self.update_event(ev)
        inv.reversed_on = ev.day
        inv.touch(ev)
        self.collections.journal(
            ev,
            "Invoice",
            inv,
            ev.day,
            "Invoice reversal",
            [("1200", -inv.amount), ("2400", inv.subtotal), ("2300", inv.tax)],
            -inv.amount,
        )
        again = Invoice(ev, self.cust)
        again.date = ev.day
        inv.reissued = again
        self.post_invoice(
            ev, again, [InvoiceItem(i.bline, i.subline, i.tax, i.taxable) for i in inv.items]
        )
