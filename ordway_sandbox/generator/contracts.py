"""Contracts: orders that become subscriptions, subscriptions, their lines, changes (seats, plan
switches, cancellations) and renewals; and how subscriptions (with their MRR), orders and coupons
are rendered.

A line, once sold, opens a billing schedule (billing.py) and a revenue schedule (revenue.py);
usage-based lines are metered by usage.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import q2
from ordway_sandbox.generator.formats import (
    ABSENT,
    FINANCE_USER,
    TIMING,
    audit,
    day_str,
    later,
    money,
    nightly,
    ts,
)
from ordway_sandbox.generator.model import BLine, Event, Order, SubLine, Subscription, Touch
from ordway_sandbox.generator.parts import RenderPart, SimPart
from ordway_sandbox.generator.profiles import LARGE_SEATS, LONG_HORIZON_MONTHS
from ordway_sandbox.generator.timeline import T_NOTE, T_RENEWAL, add_months, d

ORDER_SHARE = 0.4
"""Share of new contracts that start as an order the customer placed (converted at once)."""
CHURN_NOTE_SHARE = 0.6
"""Share of cancellations after which the account manager writes down why (the next day)."""


class ContractsSim(SimPart):
    """Sells, changes, renews, cancels and reactivates the customer's subscriptions."""

    def new_subscription(self, ev: Event, draft: bool = False) -> Subscription:
        cust, rng = self.cust, self.rng
        sub = Subscription(ev, cust)
        sub.currency = cust.currency
        sub.rate_f, sub.rate = cat.fx_rate(cust.currency, d(ev.day), self.base)
        sub.status = "Draft" if draft else "Active"
        sub.auto_renew = rng.random() < 0.9
        sub.start = ev.day
        cust.subs.append(sub)
        self.world.subscriptions.append(sub)
        main, term, extras = self.choose_offer()
        sub.term = term
        sub.term_start = ev.day
        sub.term_end = add_months(ev.day, term) - 1
        discount = self.choose_discount()
        seats = self.choose_seats()
        if main.type == "Usage based":  # usage-only: the usage line is the contract
            seats, discount = 0, Decimal("0")
        sub.main = self.add_line(ev, sub, main, seats, discount, sub.term_start, sub.term_end)
        for charge_id, quantity in extras:
            charge = cat.CHARGES[charge_id]
            end = sub.term_start if charge.type == "One time" else sub.term_end
            self.add_line(
                ev,
                sub,
                charge,
                quantity,
                discount if charge.type == "Recurring" else Decimal("0"),
                sub.term_start,
                end,
            )
        if not draft and self.chance("order", sub.key) < ORDER_SHARE:
            sub.order = Order(ev, sub)
            self.world.orders.append(sub.order)
        return sub

    def choose_offer(self) -> tuple[cat.Charge, int, list[tuple[str, int]]]:
        rng, segment = self.rng, self.cust.segment
        extras: list[tuple[str, int]] = []
        if segment == "SMB":
            main = rng.choices((cat.STARTER, cat.GROWTH_M, cat.GROWTH_A), (45, 35, 20))[0]
            term = 12
            if rng.random() < 0.2:
                extras.append((cat.ONBOARDING, 1))
            usage_p = 0.15
        elif segment == "Mid-Market":
            main = rng.choices((cat.GROWTH_A, cat.BUSINESS_Q, cat.GROWTH_M), (45, 35, 20))[0]
            term = 24 if rng.random() < 0.2 else 12
            if rng.random() < 0.4:
                extras.append((cat.ANALYTICS, 1))
            if rng.random() < 0.25:
                extras.append((cat.SUPPORT_6M, 1))
            if rng.random() < 0.5:
                extras.append((cat.IMPLEMENTATION, 1))
            usage_p = 0.35
        else:
            main = rng.choices((cat.ENT_2Y, cat.ENT_3Y, cat.ENT_A), (30, 25, 45))[0]
            term = {cat.ENT_2Y: 24, cat.ENT_3Y: 36}.get(main) or rng.choice((12, 24, 36))
            if rng.random() < 0.6:
                extras.append((cat.SUPPORT_12M, 1))
            if rng.random() < 0.5:
                extras.append((cat.ANALYTICS, 1))
            if rng.random() < 0.9:
                extras.append((cat.IMPLEMENTATION, 1))
            usage_p = 0.45
        if rng.random() < usage_p:
            extras.append((cat.API_USAGE, 0))
        return self.filter_offer(main, term, extras)

    def filter_offer(
        self, main: str, term: int, extras: list[tuple[str, int]]
    ) -> tuple[cat.Charge, int, list[tuple[str, int]]]:
        """Apply the profile and the edge cases to the drawn offer (profiles.py)."""
        profile = self.profile
        if self.large:
            main, term = cat.ENT_3Y, 36
        if self.long:
            main = main if self.large else cat.ENT_A
            term = LONG_HORIZON_MONTHS
        if profile.usage_only:
            main, extras = cat.API_USAGE, []
        elif not profile.sells_usage:
            extras = [extra for extra in extras if extra[0] != cat.API_USAGE]
        elif profile.single_customer and all(extra[0] != cat.API_USAGE for extra in extras):
            extras.append((cat.API_USAGE, 0))
        return cat.CHARGES[main], term, extras

    def choose_discount(self) -> Decimal:
        options = {
            "SMB": ((0, 10, 20), (70, 20, 10)),
            "Mid-Market": ((0, 5, 10, 15), (50, 20, 20, 10)),
            "Enterprise": ((10, 15, 20, 25), (30, 30, 25, 15)),
        }[self.cust.segment]
        return Decimal(self.rng.choices(*options)[0])

    def choose_seats(self) -> int:
        low, high = {"SMB": (1, 12), "Mid-Market": (10, 80), "Enterprise": (50, 300)}[
            self.cust.segment
        ]
        if self.large:
            low, high = LARGE_SEATS
        return self.rng.randint(low, high)

    def add_line(
        self,
        ev: Event,
        sub: Subscription,
        charge: cat.Charge,
        quantity: int,
        discount: Decimal,
        start: int,
        end: int,
    ) -> SubLine:
        line = SubLine(sub, charge, len(sub.lines) + 1)
        line.quantity = quantity
        line.discount = discount
        line.list_price = cat.local_price(charge.list_price, sub.currency, self.base)
        line.unit_price = q2(line.list_price * (100 - discount) / 100)
        line.start, line.end = start, end
        sub.lines.append(line)
        if sub.status == "Draft":
            return line
        self.billing.open_schedule(ev, line)
        self.revenue.open_schedule(ev, line)
        if charge.type == "Recurring":
            self.billing.add_periods(ev, line, start)
            self.revenue.spread_billed(line)
        elif charge.type == "One time":
            self.billing.add_bline(
                ev, line, "Regular", start, start, start, quantity, line.unit_price * quantity
            )
            self.revenue.defer_to_invoice(line, quantity)
        else:
            self.usage.meter(ev, line, start)
        return line

    def start_contract(self, ev: Event) -> None:
        sub = self.new_subscription(ev)
        self.schedule_term(sub)
        self.billing.bill_if_ready(ev)

    def schedule_term(self, sub: Subscription) -> None:
        rng = self.rng
        term_days = sub.term_end - sub.term_start + 1
        kinds = ["qty"] * rng.choices((0, 1, 2), (55, 30, 15))[0]
        if sub.main.charge.id in cat.SWITCHES and rng.random() < 0.07:
            kinds.append("switch")
        if rng.random() < (0.08 if self.cust.segment == "SMB" else 0.04):
            kinds.append("cancel")
        if sub.main.charge.type != "Recurring":  # usage-only: no seats to change or switch
            kinds = [kind for kind in kinds if kind == "cancel"]
        if self.long:  # the 30-year contract runs its whole term unchanged
            kinds = []
        offsets = sorted(rng.sample(range(30, term_days - 20), len(kinds))) if kinds else []
        for kind, offset in zip(kinds, offsets, strict=True):
            self.push(
                sub.term_start + offset, self.business_time(), self.change, (sub, kind, sub.version)
            )
        self.push(sub.term_end + 1, T_RENEWAL, self.term_end, (sub, sub.version))

    def change(self, ev: Event, sub: Subscription, kind: str, version: int) -> None:
        main = sub.main
        if sub.status != "Active" or sub.version != version or not main.start < ev.day <= main.end:
            return
        self.update_event(ev)
        rng = self.rng
        if kind == "qty":
            old = main.quantity
            up = rng.random() < 0.65 or old <= 1
            step = max(1, round(old * rng.uniform(0.1, 0.5)))
            new = old + step if up else max(1, old - step)
            if new != old:
                self.change_quantity(ev, main, new)
        elif kind == "switch":
            charge = cat.CHARGES[cat.SWITCHES[main.charge.id]]
            self.end_line(ev, main, ev.day)
            sub.main = self.add_line(
                ev, sub, charge, main.quantity, main.discount, ev.day, sub.term_end
            )
        else:
            for line in sub.lines:
                if (
                    line.rs is not None
                    and line.start <= ev.day <= line.end
                    and (line.charge.type != "One time")
                ):
                    self.end_line(ev, line, ev.day)
            sub.status = "Cancelled"
            sub.cancelled_on = ev.day
            self.maybe_reactivate(ev.day)
            if self.chance("churn-note", sub.key) < CHURN_NOTE_SHARE:
                reason = "budget cuts" if main.quantity < 20 else "moved to a competitor"
                reason = f"Cancelled: {reason}"
                self.push(ev.day + 1, T_NOTE, self.sim.add_note, ("Churn reason", reason))
        sub.touch(ev)
        self.cust.touch(ev)
        self.billing.bill_if_ready(ev)

    def change_quantity(self, ev: Event, line: SubLine, new: int) -> None:
        period = self.billing.current_period(line, ev.day)
        old = line.quantity
        line.quantity = new
        if period is not None:
            days = period.end - ev.day + 1
            base = line.unit_price * days / period.nominal_days
            self.billing.add_bline(
                ev,
                line,
                "Credit",
                ev.day,
                ev.day,
                period.end,
                -old,
                -base * old,
                period.nominal_days,
            )
            self.billing.add_bline(
                ev, line, "Rebill", ev.day, ev.day, period.end, new, base * new, period.nominal_days
            )
        for b in line.bs.lines:
            if b.line_type == "Regular" and b.start > ev.day and not b.removed:
                full = line.unit_price * new
                length = b.end - b.start + 1
                b.amount = q2(full if length == b.nominal_days else full * length / b.nominal_days)
                b.quantity = new
        line.bs.touch(ev)
        self.revenue.respread(ev, line)

    def end_line(self, ev: Event, line: SubLine, day: int) -> None:
        """Stop ``line`` at ``day - 1``: credit the billed rest, drop future periods."""
        line.end = day - 1
        if line.charge.type == "Recurring":
            period = self.billing.current_period(line, day)
            if period is not None:
                days = period.end - day + 1
                self.billing.add_bline(
                    ev,
                    line,
                    "Credit",
                    day,
                    day,
                    period.end,
                    -line.quantity,
                    -line.unit_price * line.quantity * days / period.nominal_days,
                    period.nominal_days,
                )
            for b in line.bs.lines:
                if b.line_type == "Regular" and b.start >= day and not b.invoiced:
                    b.removed = True
            line.bs.lines = [b for b in line.bs.lines if not b.removed]
            self.revenue.respread(ev, line)
        line.bs.touch(ev)

    def term_end(self, ev: Event, sub: Subscription, version: int) -> None:
        if sub.status != "Active" or sub.version != version:
            return
        rng = self.rng
        renew_p = {"SMB": 0.72, "Mid-Market": 0.82, "Enterprise": 0.88}[self.cust.segment]
        if not sub.auto_renew or rng.random() >= renew_p:
            sub.status = "Expired"
            sub.touch(ev)
            self.maybe_reactivate(ev.day)
            return
        ev.stamp += rng.randrange(1000)
        sub.version += 1
        sub.term_start = ev.day
        sub.term_end = add_months(ev.day, sub.term) - 1
        drop_discount = rng.random() < 0.3
        for line in list(sub.lines):
            if line.rs is None or line.charge.type == "One time" or line.end < ev.day - 1:
                continue
            quantity = line.quantity
            if line is sub.main and line.charge.type == "Recurring" and rng.random() < 0.3:
                quantity = max(1, quantity + rng.choice((-2, -1, 1, 2, 3, 5)))
            discount = Decimal("0") if drop_discount else line.discount
            new = self.add_line(
                ev, sub, line.charge, quantity, discount, sub.term_start, sub.term_end
            )
            if line is sub.main:
                sub.main = new
        sub.touch(ev)
        self.schedule_term(sub)

    def maybe_reactivate(self, day: int) -> None:
        if self.rng.random() < 0.3:
            self.push(day + self.rng.randint(45, 240), self.business_time(), self.reactivate, ())

    def reactivate(self, ev: Event) -> None:
        if any(sub.status == "Active" for sub in self.cust.subs):
            return
        self.start_contract(ev)
        self.cust.touch(ev)


class ContractsRenderer(RenderPart):
    """Renders ``subscriptions`` (with their lines) and the MRR of subscriptions and customers."""

    @staticmethod
    def _recurring_blines(subs: Iterable[Subscription]) -> Iterable[tuple[SubLine, BLine]]:
        for sub in subs:
            if sub.deleted or sub.status == "Draft":
                continue
            for line in sub.lines:
                if line.charge.type == "Recurring" and line.bs is not None:
                    for b in line.bs.lines:
                        yield line, b

    def mrr(self, subs: Iterable[Subscription]) -> tuple[Decimal, Decimal, Touch | None]:
        """(gross, net) MRR at the end of as_of (revenue-rules §5) and its last change.

        Exact integer arithmetic in 1/72 cents (72 is divisible by every period length in
        months), so a change of the rendered value is never missed.
        """
        gross = net = 0
        deltas: dict[int, list[int]] = {}
        for line, b in self._recurring_blines(subs):
            factor = 72 // line.charge.months * b.quantity
            g = int(b.list_price * 100) * factor
            n = int(b.unit_price * 100) * factor
            if b.start <= self.as_of <= b.end:
                gross += g
                net += n
            for day, sign in ((b.start, 1), (b.end + 1, -1)):
                if day <= self.as_of:
                    slot = deltas.setdefault(day, [0, 0])
                    slot[0] += sign * g
                    slot[1] += sign * n
        changed = [day for day, (dg, dn) in deltas.items() if dg or dn]
        tick = nightly(max(changed)) if changed else None
        return q2(Decimal(gross) / 7200), q2(Decimal(net) / 7200), tick

    def subscriptions(self) -> list[dict]:
        out = []
        for sub in self.world.subscriptions:
            if sub.deleted:
                continue
            gross, net, tick = self.mrr([sub])
            last = later(tick, sub.t) if tick else sub.t
            tcv = Decimal("0.00")
            lines = []
            for line in sub.lines:
                if line.bs is not None and line.charge.type != "Usage based":
                    tcv += sum((b.amount for b in line.bs.lines), Decimal("0.00"))
                lines.append(self.sub_line(sub, line))
            cancelled = day_str(sub.cancelled_on) if sub.cancelled_on else "-"
            opportunity = f"006{sub.key[2]:07d}{sub.key[3]:03d}"
            custom: dict = {"opportunity_id": opportunity}
            if self.edges.drift:
                even = int(sub.id.split("-")[1]) % 2 == 0
                uplift = float(int(self.spec.chance("uplift", sub.id) * 8))
                custom["renewal_uplift_pct"] = self.drifting(even, uplift)
            record = {
                "id": sub.id,
                "customer_id": sub.customer.id,
                "bill_contact_id": sub.customer.contacts[0].id,
                "status": sub.status,
                "currency": sub.currency,
                "exchange_rate": self.rate_of(sub),
                "billing_start_date": day_str(sub.start),
                "service_start_date": day_str(sub.start),
                "contract_effective_date": day_str(sub.start),
                "current_term_start_date": day_str(sub.term_start),
                "current_term_end_date": day_str(sub.term_end),
                "cancellation_date": cancelled,
                "auto_renew": sub.auto_renew,
                "contract_term": str(sub.term),
                "renewal_term": str(sub.term),
                "version": sub.version,
                "version_type": "Renewal" if sub.version > 1 else "",
                "order_placed_at": day_str(sub.order.date) if sub.order else "-",
                "coupon_code": self.coupon_code(sub),
                "payment_terms": sub.customer.terms,
                "notes": "",
                "cmrr": money(gross),
                "discounted_cmrr": money(net),
                "tcv": money(tcv),
                "plans": lines,
                **audit(sub, last, FINANCE_USER),
                "custom_fields": custom,
                **custom,
            }
            if record["exchange_rate"] is ABSENT:
                del record["exchange_rate"]
            out.append(record)
        return out

    @staticmethod
    def coupon_code(sub: Subscription) -> str:
        """The coupon the contract was sold with: the one of its first line's discount."""
        coupon = cat.COUPON_BY_DISCOUNT.get(int(sub.lines[0].discount)) if sub.lines else None
        return coupon.code if coupon and sub.status != "Draft" else ""

    def coupons(self) -> list[dict]:
        """The catalogue's coupons; ``usage_count`` = the served subscriptions sold with it, and
        ``updated_date`` moves with it (the latest such subscription's creation)."""
        used: dict[str, list[int]] = {}
        for sub in self.world.subscriptions:
            code = "" if sub.deleted else self.coupon_code(sub)
            if code:
                used.setdefault(code, []).append(sub.created)
        out = []
        for coupon in cat.COUPONS:
            stamps = used.get(coupon.code, [])
            audit_fields = self.root.catalogue_audit()
            if stamps:
                audit_fields["updated_date"] = ts(max(max(stamps), self.root.catalogue_stamp))
            out.append(
                {
                    "id": coupon.id,
                    "code": coupon.code,
                    "display_text": coupon.display_text,
                    "status": coupon.status,
                    "discount_type": "Percentage",
                    "discount_value": coupon.discount,
                    "duration_period": coupon.duration_months,
                    "trial_type": "",
                    "trial_value": "",
                    "discount_criteria": "",
                    "criteria_value": "",
                    "expiration_date": coupon.expiration,
                    "usage_limit": coupon.usage_limit,
                    "usage_count": len(stamps),
                    **audit_fields,
                }
            )
        return out

    def orders(self) -> list[dict]:
        """Orders that became subscriptions (ordway-api.md §11.9): the lines as ordered."""
        out = []
        for order in self.world.orders:
            cust = order.customer
            rate = cat.tax_rate(cust.currency)
            lines, amount, tax = [], Decimal("0.00"), Decimal("0.00")
            for number, (charge, quantity, unit_price, list_price, discount) in enumerate(
                order.lines, start=1
            ):
                price = q2(unit_price * quantity)
                amount += price
                if charge.product.taxable and not cust.tax_exempt:
                    tax += q2(price * rate)
                lines.append(
                    {
                        "line_no": str(number),
                        "product_id": charge.product_id,
                        "product_name": charge.product.name,
                        "plan_id": charge.plan_id,
                        "charge_id": charge.id,
                        "description": charge.name,
                        "unit_price": money(unit_price),
                        "list_price": money(list_price),
                        "quantity": float(quantity),
                        "discount": float(discount),
                        "effective_price": money(price),
                        "custom_fields": {},
                    }
                )
            sub = order.sub
            out.append(
                {
                    "id": order.id,
                    "customer_id": cust.id,
                    "bill_contact_id": cust.contacts[0].id,
                    "shipping_contact_id": cust.contacts[0].id,
                    "invoice_id": "",
                    "order_date": day_str(order.date),
                    "status": "Completed",
                    "order_amount": money(amount),
                    "estimated_tax": money(tax),
                    "separate_invoice": False,
                    "currency": cust.currency,
                    "exchange_rate": sub.rate_f,
                    "payment_terms": cust.terms,
                    "payment_term_id": "",
                    "coupon_code": self.coupon_code(sub),
                    "notes": f"Converted to subscription {sub.id}",
                    "line_items": lines,
                    **audit(order, user=FINANCE_USER),
                    "custom_fields": {},
                }
            )
        return out

    def sub_line(self, sub: Subscription, line: SubLine) -> dict:
        charge = line.charge
        one_time = charge.type == "One time"
        revenue = self.profile.revenue
        return {
            "subscription_line_id": line.line_id,
            "product_id": charge.product_id,
            "product_name": charge.product.name,
            "plan_id": charge.plan_id,
            "plan_name": charge.plan_name,
            "charge_id": charge.id,
            "charge_name": charge.name,
            "charge_type": charge.type,
            "pricing_model": charge.pricing_model,
            "billing_period": charge.billing_period,
            "unit_of_measure": charge.unit_of_measure,
            "charge_timing": TIMING[charge.type],
            "list_price": money(line.list_price),
            "discount": float(line.discount),
            "quantity": float(line.quantity),
            "effective_price": money(line.unit_price * line.quantity),
            "charge_start_date": day_str(line.start),
            "charge_end_date": day_str(line.end) if not one_time else day_str(line.start),
            "billing_schedule_id": line.bs.id if line.bs else "",
            "revenue_schedule_id": line.rs.id if line.rs and revenue else "",
            "revenue_rule_id": charge.product.rule_id if revenue else "",
            "prorate_partial_periods": charge.type == "Recurring",
            "custom_fields": {},
        }
