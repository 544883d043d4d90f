"""Per-customer simulation of the synthetic SaaS company.

Each customer has its own random stream (seeded from ``seed`` and the customer index only) and
its own event queue, processed in time order; random draws happen when an event is processed,
so the sequence of draws never depends on ``as_of``. Events after the end of ``as_of`` are not
processed, which yields the snapshot. The clock (nominal times of the daily jobs) is in
timeline.py.

``CustomerSim`` is the customer: it arrives, gets contacts, and hands the rest to its parts
(parts.py), one per business concern: ``contracts``, ``billing``, ``collections``, ``usage``,
``revenue``.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import date, timedelta

from ordway_sandbox import recognition as rec
from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.billing import BillingSim
from ordway_sandbox.generator.collections import CollectionsSim
from ordway_sandbox.generator.contracts import ContractsSim
from ordway_sandbox.generator.model import (
    MS_PER_DAY,
    BillingSchedule,
    Contact,
    Credit,
    Customer,
    CustomerNote,
    DebitMemo,
    Event,
    Invoice,
    JournalEntry,
    Order,
    Payment,
    PaymentMethod,
    Refund,
    RevenueSchedule,
    Statement,
    Subscription,
    Usage,
)
from ordway_sandbox.generator.profiles import LARGE_CURRENCY, TenantSpec
from ordway_sandbox.generator.revenue import RevenueSim
from ordway_sandbox.generator.timeline import HOUR, T_STATEMENT, batch_stamp, month_last
from ordway_sandbox.generator.usage import UsageSim

BACKDATE_SHARE = 0.02
BACKDATE_MAX_MS = 45 * 60_000
NOTE_AT_ARRIVAL_SHARE = 0.35
"""Customers whose account manager wrote a kickoff note when they arrived."""

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
        self.orders: list[Order] = []
        self.debit_memos: list[DebitMemo] = []
        self.statements: list[Statement] = []
        self.customer_notes: list[CustomerNote] = []
        self.payment_methods: list[PaymentMethod] = []


class CustomerSim:
    """Simulates one customer's life from arrival up to the end of ``as_of``."""

    def __init__(self, world: World, idx: int, arrival: int, seed: int) -> None:
        self.world = world
        self.idx = idx
        self.rng = random.Random(f"ordway-sandbox:{seed}:{idx}")
        self.queue: list[tuple[int, int, int, Callable[..., None], tuple]] = []
        self.counter = 0
        self.cust: Customer | None = None
        spec = world.spec
        self.spec = spec
        self.profile = spec.profile
        self.base = spec.base
        self.large = spec.is_large(idx)
        self.long = spec.is_long(idx)
        self.contracts = ContractsSim(self)
        self.billing = BillingSim(self)
        self.collections = CollectionsSim(self)
        self.usage = UsageSim(self)
        self.revenue = RevenueSim(self)
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

    def chance(self, *parts: object) -> float:
        """A draw in [0, 1) from the seed, this customer and ``parts`` (stable record keys).

        Decisions added after generator version 1 use it instead of ``rng``, so that they draw
        nothing from the customer's stream and leave every other decision as it was.
        """
        return self.spec.chance(self.idx, *parts)

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
        if cust.auto_pay:  # pays automatically: a stored card or bank account
            self.collections.add_payment_method(ev)
        if self.chance("kickoff-note") < NOTE_AT_ARRIVAL_SHARE:
            self.add_note(ev, "Kickoff call", "Introduced the billing contact; invoices by email.")
        self.push(month_last(ev.day) + 1, T_STATEMENT, self.collections.statement_run, ())
        if rng.random() < 0.12:
            draft = self.contracts.new_subscription(ev, draft=True)
            if rng.random() < 0.6:
                self.push(
                    ev.day + rng.randint(2, 10), self.business_time(), self.delete_draft, (draft,)
                )
                return
        self.contracts.start_contract(ev)

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

    def add_note(self, ev: Event, title: str, description: str) -> None:
        """A note on the customer; writing one bumps the customer's ``updated_date`` (the
        assumption the source's nightly fan-out relies on, TENANT.md)."""
        cust = self.cust
        note = CustomerNote(ev, cust)
        note.title, note.description = title, description
        note.file = self.chance("note-file", note.key) < 0.25
        cust.touch(ev)
        self.world.customer_notes.append(note)

    def delete_draft(self, ev: Event, draft: Subscription) -> None:
        self.update_event(ev)
        draft.deleted = True
        self.contracts.start_contract(ev)


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
