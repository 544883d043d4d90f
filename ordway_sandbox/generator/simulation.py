"""Per-customer simulation of the synthetic SaaS company.

Each customer has its own random stream (seeded from ``seed`` and the customer index only) and
its own event queue, processed in time order; random draws happen when an event is processed,
so the sequence of draws never depends on ``as_of``. Events after the end of ``as_of`` are not
processed, which yields the snapshot.

Within a day the nominal times are: 00:05 nightly status job, 02:00 revenue posting run (1st of
the month), 03:00 usage rating run (1st of the month), 04:00 renewals, 05:00 billing run, then
business events (sign-ups, changes, payments, credits, reversals, usage) between 08:00 and 22:00.
Batch runs stamp every record they touch with one shared millisecond.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ordway_sandbox import recognition as rec
from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.model import (
    MS_PER_DAY,
    BillingSchedule,
    BLine,
    Contact,
    Credit,
    Customer,
    Event,
    Invoice,
    InvoiceItem,
    JournalEntry,
    Payment,
    Refund,
    RevenueSchedule,
    SubLine,
    Subscription,
    Usage,
)
from ordway_sandbox.generator.profiles import (
    LARGE_CURRENCY,
    LARGE_SEATS,
    LARGE_USAGE_FACTOR,
    LONG_HORIZON_MONTHS,
    TenantSpec,
)

HOUR = 3_600_000
T_NIGHTLY = 5 * 60_000
T_POSTING = 2 * HOUR
T_USAGE_RUN = 3 * HOUR
T_RENEWAL = 4 * HOUR
T_BILLING = 5 * HOUR
BACKDATE_SHARE = 0.02
BACKDATE_MAX_MS = 45 * 60_000
ZERO = Decimal("0.00")

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noor",
    "Oscar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
LAST_NAMES = (
    "Adler",
    "Brooks",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ivanov",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
)
NAME_A = (
    "Blue",
    "North",
    "Bright",
    "Silver",
    "Rapid",
    "Quiet",
    "Open",
    "Prime",
    "Clear",
    "Urban",
    "Polar",
    "Amber",
    "Cedar",
    "Vivid",
    "Solid",
    "Lunar",
)
NAME_B = (
    "Harbor",
    "Peak",
    "Field",
    "Forge",
    "Labs",
    "Works",
    "Logic",
    "Stack",
    "Wave",
    "Bridge",
    "Signal",
    "Orbit",
    "Grove",
    "Pixel",
    "Ledger",
    "Atlas",
)
NAME_C = ("Inc.", "LLC", "Ltd", "GmbH", "Co.", "Group", "Systems", "Technologies")
CITIES = {
    "USD": (("Austin", "TX", "US"), ("Denver", "CO", "US"), ("Boston", "MA", "US")),
    "EUR": (("Berlin", "", "DE"), ("Paris", "", "FR"), ("Dublin", "", "IE")),
    "GBP": (("London", "", "GB"), ("Leeds", "", "GB"), ("Bristol", "", "GB")),
    "CAD": (("Toronto", "ON", "CA"), ("Vancouver", "BC", "CA"), ("Montreal", "QC", "CA")),
    "IDR": (("Jakarta", "", "ID"), ("Surabaya", "", "ID"), ("Bandung", "", "ID")),
}
TERMS = {"Net 30": 30, "Net 15": 15, "Due on Receipt": 0}


def q2(value: Decimal) -> Decimal:
    rounded = value.quantize(cat.CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else ZERO


def d(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def month_first(ordinal: int) -> int:
    day = date.fromordinal(ordinal)
    return ordinal - day.day + 1


def month_last(ordinal: int) -> int:
    day = date.fromordinal(ordinal)
    return ordinal - day.day + rec.days_in_month(day)


def add_months(ordinal: int, months: int) -> int:
    return rec.add_months(date.fromordinal(ordinal), months).toordinal()


def billing_run_stamp(day: int) -> int:
    """The shared ``updated_date`` of everything the day's billing run posts."""
    return day * MS_PER_DAY + T_BILLING + (day * 7919) % 1000


def batch_stamp(day: int, proc: int) -> int:
    return day * MS_PER_DAY + proc


class World:
    """Everything the customers create, in creation order per collection."""

    def __init__(self, as_of: int, spec: TenantSpec | None = None) -> None:
        self.as_of = as_of
        self.spec = spec or TenantSpec(seed=0)
        self.customers: list[Customer] = []
        self.contacts: list[Contact] = []
        self.subscriptions: list[Subscription] = []
        self.billing_schedules: list[BillingSchedule] = []
        self.revenue_schedules: list[RevenueSchedule] = []
        self.invoices: list[Invoice] = []
        self.payments: list[Payment] = []
        self.credits: list[Credit] = []
        self.refunds: list[Refund] = []
        self.usages: list[Usage] = []
        self.journal_entries: list[JournalEntry] = []


class CustomerSim:
    """Simulates one customer's life from arrival up to the end of ``as_of``."""

    def __init__(self, world: World, idx: int, arrival: int, seed: int) -> None:
        self.world = world
        self.idx = idx
        self.rng = random.Random(f"ordway-sandbox:{seed}:{idx}")
        self.queue: list[tuple[int, int, int, Callable[..., None], tuple]] = []
        self.counter = 0
        self.cust: Customer | None = None
        self.pending: list[BLine] = []
        self.bill_days: set[int] = set()
        self.usage_lines: list[SubLine] = []
        self.usage_chain = False
        spec = world.spec
        self.profile = spec.profile
        self.base = spec.base
        self.large = spec.is_large(idx)
        self.long = spec.is_long(idx)
        self.push(arrival, self.business_time(), self.arrive, ())

    # -- event machinery -------------------------------------------------------------------
    def push(self, day: int, proc: int, fn: Callable[..., None], args: tuple) -> None:
        self.counter += 1
        heapq.heappush(self.queue, (day, proc, self.counter, fn, args))

    def business_time(self) -> int:
        return self.rng.randrange(8 * HOUR, 22 * HOUR)

    def run(self) -> None:
        as_of = self.world.as_of
        while self.queue and self.queue[0][0] <= as_of:
            day, proc, _, fn, args = heapq.heappop(self.queue)
            fn(Event(day, proc, batch_stamp(day, proc)), *args)

    def update_event(self, ev: Event) -> Event:
        """About 2% of business updates are stamped up to 45 minutes before their day began."""
        if self.rng.random() < BACKDATE_SHARE:
            ev.stamp = ev.day * MS_PER_DAY - self.rng.randint(1, BACKDATE_MAX_MS)
        return ev

    # -- arrival ---------------------------------------------------------------------------
    def arrive(self, ev: Event) -> None:
        rng = self.rng
        cust = Customer(ev, self.idx)
        self.cust = cust
        self.world.customers.append(cust)
        cust.arrival = ev.day
        cust.segment = rng.choices(("SMB", "Mid-Market", "Enterprise"), (55, 33, 12))[0]
        if self.large or self.long or self.profile.single_customer:
            cust.segment = "Enterprise"
        cust.currency = rng.choices(list(cat.CURRENCIES), [v[0] for v in cat.CURRENCIES.values()])[
            0
        ]
        if self.large:
            cust.currency = LARGE_CURRENCY
        cust.name = (
            f"{rng.choice(cat_names(0))} {rng.choice(cat_names(1))} {rng.choice(cat_names(2))}"
        )
        cust.tax_exempt = rng.random() < 0.1
        if cust.segment == "SMB":
            cust.terms = rng.choices(("Due on Receipt", "Net 15", "Net 30"), (40, 30, 30))[0]
        else:
            cust.terms = rng.choices(("Net 30", "Net 15"), (85, 15))[0]
        cust.draw = rng.random()
        for _ in range(1 if rng.random() < 0.7 else 2):
            self.new_contact(ev)
        if rng.random() < 0.12:
            draft = self.new_subscription(ev, draft=True)
            if rng.random() < 0.6:
                self.push(
                    ev.day + rng.randint(2, 10), self.business_time(), self.delete_draft, (draft,)
                )
                return
        self.start_contract(ev)

    def new_contact(self, ev: Event) -> None:
        cust, rng = self.cust, self.rng
        contact = Contact(ev, cust, cust.next_seq())
        contact.customer = cust
        contact.first = rng.choice(FIRST_NAMES)
        contact.last = rng.choice(LAST_NAMES)
        contact.title = rng.choice(("Controller", "CFO", "AP Specialist", "VP Finance"))
        city = rng.choice(CITIES[cust.currency])
        contact.city, contact.country = city[:2], city[2]
        domain = "".join(ch for ch in cust.name.lower() if ch.isalnum())[:18]
        contact.email = f"{contact.first.lower()}.{contact.last.lower()}@{domain}.example"
        cust.contacts.append(contact)
        self.world.contacts.append(contact)

    def delete_draft(self, ev: Event, draft: Subscription) -> None:
        self.update_event(ev)
        draft.deleted = True
        self.start_contract(ev)

    # -- contracts -------------------------------------------------------------------------
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
        bs = BillingSchedule(ev, line)
        rs = RevenueSchedule(ev, line)
        line.bs, line.rs = bs, rs
        self.world.billing_schedules.append(bs)
        self.world.revenue_schedules.append(rs)
        if charge.type == "Recurring":
            self.add_periods(ev, line, start)
            rs.total = sum((b.amount for b in bs.lines), ZERO)
            rs.lines = self.spread(line, rs.total, start, end)
        elif charge.type == "One time":
            self.add_bline(
                ev, line, "Regular", start, start, start, quantity, line.unit_price * quantity
            )
            rs.total = line.unit_price * quantity
            rs.lines = {}  # recognized in the invoice month, set when invoiced
        else:
            self.usage_lines.append(line)
            self.generate_usage(line, max(start, ev.day), month_last(max(start, ev.day)))
            if not self.usage_chain:
                self.usage_chain = True
                self.push(month_last(ev.day) + 1, T_USAGE_RUN, self.usage_run, ())
        return line

    def spread(self, line: SubLine, amount: Decimal, start: int, end: int) -> dict[int, Decimal]:
        schedule = rec.recognize(line.charge.rule.method, amount, d(start), d(end))
        return {month.toordinal(): value for month, value in schedule.items()}

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

    def start_contract(self, ev: Event) -> None:
        sub = self.new_subscription(ev)
        self.schedule_term(sub)
        self.bill_if_ready(ev)

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

    # -- billing ---------------------------------------------------------------------------
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
            if line.charge.type == "One time":
                month = month_first(ev.day)
                line.rs.lines = {month: line.rs.total}
                line.rs.invoice_of[month] = inv
                line.rs.touch(ev)
            elif line.charge.type == "Usage based":
                line.rs.invoice_of[month_first(b.start)] = inv
                line.rs.touch(ev)
        self.post_invoice(ev, inv, items)
        if inv.amount > 0:
            self.plan_collection(ev, inv)
        elif inv.amount < 0:
            self.push(ev.day + self.rng.randint(2, 6), self.business_time(), self.refund, (inv,))
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
        self.journal(
            ev, "Invoice", inv, inv.date, f"Invoice posting {inv.date}", entries, inv.amount
        )

    def journal(
        self,
        ev: Event,
        source_type: str,
        source,
        day: int,
        description: str,
        entries: list[tuple[str, Decimal]],
        amount: Decimal,
    ) -> None:
        je = JournalEntry(ev, self.cust)
        je.source_type, je.source, je.date = source_type, source, day
        je.description = description
        je.entries = [(account, value) for account, value in entries if value != 0]
        je.amount = amount
        je.currency = self.cust.currency
        je.rate = cat.fx_rate(self.cust.currency, d(day), self.base)[0]
        self.world.journal_entries.append(je)

    # -- collections -----------------------------------------------------------------------
    def plan_collection(self, ev: Event, inv: Invoice) -> None:
        rng = self.rng
        terms = TERMS[self.cust.terms]
        draw = rng.random()
        # Customers differ: a few never pay; some are habitually late.
        if self.cust.draw < 0.03 and draw < 0.6:
            return
        if (
            rng.random() < 0.02
            and inv.items
            and all(i.subline.charge.type == "Recurring" for i in inv.items)
        ):
            reversal_day = inv.date + rng.randint(3, 40)
            self.push(reversal_day, self.business_time(), self.reverse, (inv,))
            self.push(
                reversal_day + rng.randint(1, max(terms, 5)),
                self.business_time(),
                self.pay,
                (inv, False, False),
            )
            return
        if rng.random() < 0.02:
            self.push(
                inv.date + rng.randint(1, 8), self.business_time(), self.courtesy_credit, (inv,)
            )
        late = self.cust.draw > 0.85
        if draw < 0.05:  # failed first attempt, retried
            day = inv.date + rng.randint(0, terms)
            self.push(day, self.business_time(), self.pay, (inv, False, True))
            self.push(day + rng.randint(3, 7), self.business_time(), self.pay, (inv, False, False))
        elif draw < 0.10:  # partial payment then the rest
            day = inv.date + rng.randint(0, terms)
            self.push(day, self.business_time(), self.pay, (inv, True, False))
            self.push(
                day + rng.randint(15, 40), self.business_time(), self.pay, (inv, False, False)
            )
        elif late or draw < 0.22:
            self.push(
                inv.due + rng.randint(5, 60), self.business_time(), self.pay, (inv, False, False)
            )
        else:
            self.push(
                inv.date + rng.randint(0, terms),
                self.business_time(),
                self.pay,
                (inv, False, False),
            )

    def pay(self, ev: Event, original: Invoice, partial: bool, fail: bool) -> None:
        inv = original.current()
        balance = inv.balance
        if balance <= 0:
            return
        self.update_event(ev)
        rng, cust = self.rng, self.cust
        amount = q2(balance / 2) if partial else balance
        pmt = Payment(ev, cust)
        pmt.date = ev.day
        pmt.amount = amount
        pmt.method = rng.choices(("Credit Card", "ACH", "Wire"), (50, 35, 15))[0]
        cust.payments.append(pmt)
        self.world.payments.append(pmt)
        if fail:
            pmt.failed = True
            return
        pmt.applications.append((inv, amount, ev))
        inv.payments.append((pmt, amount, ev))
        inv.touch(ev)
        cust.touch(ev)
        self.journal(
            ev,
            "Payment",
            pmt,
            ev.day,
            f"Payment {pmt.method}",
            [("1000", amount), ("1200", -amount)],
            amount,
        )

    def courtesy_credit(self, ev: Event, original: Invoice) -> None:
        inv = original.current()
        amount = min(inv.balance, q2(inv.subtotal / 10))
        if amount <= 0:
            return
        self.update_event(ev)
        credit = Credit(ev, self.cust)
        credit.date, credit.amount, credit.application = ev.day, amount, (inv, ev)
        credit.reason = "Service interruption goodwill"
        inv.credits.append((credit, amount))
        inv.touch(ev)
        self.cust.touch(ev)
        self.world.credits.append(credit)

    def reverse(self, ev: Event, inv: Invoice) -> None:
        if inv.reversed_on is not None or inv.payments or inv.credits:
            return
        self.update_event(ev)
        inv.reversed_on = ev.day
        inv.touch(ev)
        self.journal(
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

    def refund(self, ev: Event, inv: Invoice) -> None:
        due = -inv.balance
        if due <= 0:
            return
        source = next(
            (
                p
                for p in reversed(self.cust.payments)
                if not p.failed and p.amount - p.refunded >= due
            ),
            None,
        )
        if source is None:  # nothing to refund to: the credit balance stays on the account
            return
        self.update_event(ev)
        refund = Refund(ev, self.cust)
        refund.date, refund.amount, refund.invoice, refund.payment = ev.day, due, inv, source
        source.refunded += due
        source.refunds.append(refund)
        source.touch(ev)
        inv.refunds.append(refund)
        inv.touch(ev)
        for application in source.applications:  # invoices embed the payment object
            application[0].touch(ev)
        self.cust.touch(ev)
        self.world.refunds.append(refund)
        self.journal(ev, "Payment", source, ev.day, "Refund", [("1200", due), ("1000", -due)], due)

    # -- contract changes ------------------------------------------------------------------
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
        sub.touch(ev)
        self.cust.touch(ev)
        self.bill_if_ready(ev)

    def current_period(self, line: SubLine, day: int) -> BLine | None:
        for b in line.bs.lines:
            if b.line_type == "Regular" and not b.removed and b.start <= day <= b.end:
                return b
        return None

    def change_quantity(self, ev: Event, line: SubLine, new: int) -> None:
        period = self.current_period(line, ev.day)
        old = line.quantity
        line.quantity = new
        if period is not None:
            days = period.end - ev.day + 1
            base = line.unit_price * days / period.nominal_days
            self.add_bline(
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
            self.add_bline(
                ev, line, "Rebill", ev.day, ev.day, period.end, new, base * new, period.nominal_days
            )
        for b in line.bs.lines:
            if b.line_type == "Regular" and b.start > ev.day and not b.removed:
                full = line.unit_price * new
                length = b.end - b.start + 1
                b.amount = q2(full if length == b.nominal_days else full * length / b.nominal_days)
                b.quantity = new
        line.bs.touch(ev)
        self.respread(ev, line)

    def end_line(self, ev: Event, line: SubLine, day: int) -> None:
        """Stop ``line`` at ``day - 1``: credit the billed rest, drop future periods."""
        line.end = day - 1
        if line.charge.type == "Recurring":
            period = self.current_period(line, day)
            if period is not None:
                days = period.end - day + 1
                self.add_bline(
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
            self.respread(ev, line)
        line.bs.touch(ev)

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

    # -- usage -----------------------------------------------------------------------------
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
                    b = self.add_bline(
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
                    line.rs.lines[previous] = b.amount
                    line.rs.total += b.amount
                    line.rs.touch(ev)
                    line.bs.touch(ev)
            if line.start <= this_last and line.end >= ev.day:
                active = True
                self.generate_usage(line, max(line.start, ev.day), this_last)
        if active:
            self.push(this_last + 1, T_USAGE_RUN, self.usage_run, ())
        else:
            self.usage_chain = False


def cat_names(part: int) -> tuple[str, ...]:
    return (NAME_A, NAME_B, NAME_C)[part]


def arrival_day(i: int, customers: int, start: date) -> int:
    """Customer ``i`` (1-based) arrives on a day depending only on ``i``, ``customers``, ``start``.

    Arrivals accelerate (a growing company): customer ``i`` arrives ``span * (i / N) ** 0.8``
    days after ``start``, where ``span`` is 36 months; customers beyond ``N`` keep arriving
    after that at the same pace.
    """
    span = rec.add_months(start, 36) - start
    offset = int(span.days * (i / customers) ** 0.8)
    return (start + timedelta(days=offset)).toordinal()
