"""Usage: usage records of usage-based lines (a few per month, some entered by mistake and
deleted), and the monthly rating run that bills last month's usage; and how usages are rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordway_sandbox.generator.formats import audit, day_str
from ordway_sandbox.generator.model import Event, SubLine, Usage
from ordway_sandbox.generator.parts import RenderPart, SimPart
from ordway_sandbox.generator.profiles import LARGE_USAGE_FACTOR
from ordway_sandbox.generator.timeline import T_USAGE_RUN, batch_stamp, month_first, month_last

if TYPE_CHECKING:
    from ordway_sandbox.generator.simulation import CustomerSim


class UsageSim(SimPart):
    """Meters the customer's usage-based lines and rates them on the 1st of each month."""

    def __init__(self, sim: CustomerSim) -> None:
        super().__init__(sim)
        self.usage_lines: list[SubLine] = []
        self.usage_chain = False

    def meter(self, ev: Event, line: SubLine, start: int) -> None:
        """Start metering a usage-based line just sold; keep the monthly rating run going."""
        self.usage_lines.append(line)
        self.generate_usage(line, max(start, ev.day), month_last(max(start, ev.day)))
        if not self.usage_chain:
            self.usage_chain = True
            self.push(month_last(ev.day) + 1, T_USAGE_RUN, self.usage_run, ())

    def generate_usage(self, line: SubLine, first: int, last: int) -> None:
        """Schedule the usage records of ``line`` for ``first..last`` (one month at most)."""
        last = min(last, line.end)
        if first > last:
            return
        rng = self.rng
        scale = LARGE_USAGE_FACTOR if self.large else 1
        for _ in range(rng.randint(1, 3)):
            day = rng.randint(first, last)
            time = self.business_time()  # drawn before the quantity
            quantity = rng.randint(40, 2000) * scale
            self.push(day, time, self.record_usage, (line, quantity, False))
        if rng.random() < 0.08 and last - first >= 6:
            day = rng.randint(first, last - 5)
            time = self.business_time()
            quantity = rng.randint(5000, 90000) * scale
            self.push(day, time, self.record_usage, (line, quantity, True))

    def record_usage(self, ev: Event, line: SubLine, quantity: int, mistaken: bool) -> None:
        if ev.day > line.end:
            return
        usage = Usage(ev, line)
        usage.quantity = quantity
        usage.date = ev.day
        line.usage_by_month.setdefault(month_first(ev.day), []).append(usage)
        self.world.usages.append(usage)
        if mistaken:
            self.push(
                ev.day + self.rng.randint(1, 3), self.business_time(), self.delete_usage, (usage,)
            )

    def delete_usage(self, ev: Event, usage: Usage) -> None:
        usage.deleted = True

    def usage_run(self, ev: Event) -> None:
        """1st of the month: rate last month's usage, plan this month's, keep the chain."""
        ev.stamp = batch_stamp(ev.day, T_USAGE_RUN)
        previous = month_first(ev.day - 1)
        this_last = month_last(ev.day)
        active = False
        for line in self.usage_lines:
            if line.start <= ev.day - 1 and line.end >= previous:
                records = [u for u in line.usage_by_month.get(previous, []) if not u.deleted]
                quantity = sum(u.quantity for u in records)
                if quantity:
                    b = self.billing.add_bline(
                        ev,
                        line,
                        "Regular",
                        ev.day,
                        max(line.start, previous),
                        min(line.end, ev.day - 1),
                        quantity,
                        line.unit_price * quantity,
                    )
                    b.usages = records
                    self.revenue.rated(ev, line, previous, b.amount)
                    line.bs.touch(ev)
            if line.start <= this_last and line.end >= ev.day:
                active = True
                self.generate_usage(line, max(line.start, ev.day), this_last)
        if active:
            self.push(this_last + 1, T_USAGE_RUN, self.usage_run, ())
        else:
            self.usage_chain = False


class UsageRenderer(RenderPart):
    """Renders ``usages`` (deleted ones are gone)."""

    def usages(self) -> list[dict]:
        return [
            {
                "id": u.id,
                "customer_id": u.customer.id,
                "subscription_id": u.line.sub.id,
                "subscription_line_id": u.line.line_id,
                "charge_id": u.line.charge.id,
                "quantity": float(u.quantity),
                "date": day_str(u.date),
                "unit_of_measure": u.line.charge.unit_of_measure,
                "description": "",
                "currency": u.customer.currency,
                "invoiced": u.invoiced,
                **audit(u, user="api@demo-saas.example"),
                "custom_fields": {},
            }
            for u in self.world.usages
            if not u.deleted
        ]
