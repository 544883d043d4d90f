"""Revenue: revenue schedules, their monthly lines (recognition.py's rules) and how changes,
invoices and usage move them; and how revenue schedules are rendered (posted or not at as_of).
"""

from __future__ import annotations

from decimal import Decimal

from ordway_sandbox import recognition as rec
from ordway_sandbox.generator.catalogue import ZERO, q2
from ordway_sandbox.generator.model import BLine, Event, Invoice, RevenueSchedule, SubLine
from ordway_sandbox.generator.parts import SimPart
from ordway_sandbox.generator.timeline import d, month_first


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
