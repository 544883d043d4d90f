"""Revenue: revenue schedules, their monthly lines (recognition.py's rules) and how changes,
invoices and usage move them; and how revenue schedules are rendered (posted or not at as_of).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ordway_sandbox import recognition as rec
from ordway_sandbox.generator.catalogue import ZERO, q2
from ordway_sandbox.generator.formats import (
    ABSENT,
    CHARGE_TYPE,
    TIMING,
    audit,
    day_str,
    later,
    money,
)
from ordway_sandbox.generator.model import BLine, Event, Invoice, RevenueSchedule, SubLine
from ordway_sandbox.generator.parts import RenderPart, SimPart
from ordway_sandbox.generator.profiles import UNPOSTED_MONTHS
from ordway_sandbox.generator.timeline import T_POSTING, batch_stamp, d, month_first

if TYPE_CHECKING:
    from ordway_sandbox.generator.render import Renderer

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


class RevenueSim(SimPart):
    """Keeps each line's revenue schedule: spread when sold, re-spread on a change, and the
    months of one-time and usage lines set when they are invoiced or rated."""

    def open_schedule(self, ev: Event, line: SubLine) -> None:
        """The revenue schedule of a line just sold (after its billing schedule)."""
        rs = RevenueSchedule(ev, line)
        line.rs = rs
        self.world.revenue_schedules.append(rs)

    def spread_billed(self, line: SubLine) -> None:
        """A recurring line: what its schedule bills, spread by the line's revenue rule."""
        rs = line.rs
        rs.total = sum((b.amount for b in line.bs.lines), ZERO)
        rs.lines = self.spread(line, rs.total, line.start, line.end)

    def defer_to_invoice(self, line: SubLine, quantity: int) -> None:
        """A one-time line: recognized in the month it is invoiced (set by ``invoiced``)."""
        line.rs.total = line.unit_price * quantity
        line.rs.lines = {}

    def invoiced(self, ev: Event, inv: Invoice, b: BLine) -> None:
        """A billing line was invoiced: a one-time line is recognized in the invoice month, and
        a usage month is linked to its invoice."""
        line = b.schedule.line
        if line.charge.type == "One time":
            month = month_first(ev.day)
            line.rs.lines = {month: line.rs.total}
            line.rs.invoice_of[month] = inv
            line.rs.touch(ev)
        elif line.charge.type == "Usage based":
            line.rs.invoice_of[month_first(b.start)] = inv
            line.rs.touch(ev)

    def rated(self, ev: Event, line: SubLine, month: int, amount: Decimal) -> None:
        """The rating run billed ``amount`` of usage for ``month``: that month's revenue."""
        line.rs.lines[month] = amount
        line.rs.total += amount
        line.rs.touch(ev)

    def spread(self, line: SubLine, amount: Decimal, start: int, end: int) -> dict[int, Decimal]:
        schedule = rec.recognize(line.charge.rule.method, amount, d(start), d(end))
        return {month.toordinal(): value for month, value in schedule.items()}

    def respread(self, ev: Event, line: SubLine) -> None:
        """Keep the months before the change month, re-spread the remainder from it."""
        rs = line.rs
        rs.total = sum((b.amount for b in line.bs.lines), ZERO)
        change_month = month_first(ev.day)
        kept = {m: v for m, v in rs.lines.items() if m < change_month}
        remainder = rs.total - sum(kept.values(), ZERO)
        window_start = max(line.start, change_month)
        if line.end >= window_start:
            kept.update(self.spread(line, remainder, window_start, line.end))
        else:
            kept[change_month] = q2(remainder)
        rs.lines = kept
        rs.touch(ev)


class RevenueRenderer(RenderPart):
    """Renders ``revenue_schedules``: lines up to the posting run's month are posted.

    With ``unposted`` the posting run is UNPOSTED_MONTHS behind, so a month's lines are posted
    on the 1st of the month that many months later (0 = on the 1st of their own month).
    """

    def __init__(self, root: Renderer) -> None:
        super().__init__(root)
        as_of_month = date.fromordinal(self.as_of).replace(day=1).toordinal()
        self.posting_lag = UNPOSTED_MONTHS if self.edges.unposted else 0
        self.posted_through = rec.add_months(
            date.fromordinal(as_of_month), -self.posting_lag
        ).toordinal()

    def posting_day(self, month: int) -> int:
        """The day the posting run posts the lines of ``month`` (its 1st, or later: unposted)."""
        if not self.posting_lag:
            return month
        return rec.add_months(date.fromordinal(month), self.posting_lag).toordinal()

    def revenue_schedules(self) -> list[dict]:
        out = []
        for rs in self.world.revenue_schedules:
            line = rs.line
            sub = line.sub
            charge = line.charge
            created_day = rs.key[0]
            posting = [
                m
                for m in rs.lines
                if m <= self.posted_through and created_day < self.posting_day(m)
            ]
            last = rs.t
            if posting:
                day = self.posting_day(max(posting))
                last = later((day, T_POSTING, batch_stamp(day, T_POSTING)), rs.t)
            rate = None if self.rate_of(sub) is ABSENT else self.rate_of(sub)
            recognized = Decimal("0.00")
            schedule_lines = []
            for month in sorted(rs.lines):
                value = rs.lines[month]
                posted = month <= self.posted_through
                if posted:
                    recognized += value
                first = date.fromordinal(month)
                invoice = rs.invoice_of.get(month)
                schedule_lines.append(
                    {
                        "uid": f"{rs.id}-{first.year}{first.month:02d}",
                        "financial_period": f"{MONTH_NAMES[first.month - 1]} {first.year}",
                        "posted": "Yes" if posted else "No",
                        "posting_date": day_str(month_end(month)),
                        "period_revenue": money(value),
                        "amount": money(value),
                        "revenue_schedule_id": rs.id,
                        "subscription_charge_uid": f"{sub.id}-{line.line_id}",
                        "currency": sub.currency,
                        "exchange_rate": rate,
                        "invoice_id": invoice.current().id if invoice else "",
                        "custom_fields": {},
                    }
                )
            one_time = charge.type == "One time"
            out.append(
                {
                    "id": rs.id,
                    "customer_id": sub.customer.id,
                    "source_transaction": f"Subscription: {sub.id}",
                    "product_id": charge.product_id,
                    "product_name": charge.product.name,
                    "plan_id": charge.plan_id,
                    "plan_name": charge.plan_name,
                    "charge_id": line.line_id,
                    "charge_name": charge.name,
                    "charge_type": CHARGE_TYPE[charge.type],
                    "charge_timing": TIMING[charge.type],
                    "revenue_rule_id": charge.product.rule_id,
                    "total_revenue": money(rs.total),
                    "recognized_revenue": money(recognized),
                    "unrecognized_revenue": money(rs.total - recognized),
                    "start_date": day_str(line.start),
                    "end_date": day_str(line.start if one_time else line.end),
                    "exchange_rate_source": "Subscription/Order",
                    "schedule_lines": schedule_lines,
                    **audit(rs, last),
                }
            )
        return out


def month_end(month_first: int) -> int:
    return month_first + rec.days_in_month(date.fromordinal(month_first)) - 1
