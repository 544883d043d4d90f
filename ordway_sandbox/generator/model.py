"""In-memory records of the simulation, before ids are assigned and JSON is rendered.

Days are ``date.toordinal()`` integers; timestamps ("stamps") are integer milliseconds
``day * MS_PER_DAY + ms_of_day``. Each record remembers

* ``key``: ``(visible day, nominal time in that day, customer index, per-customer sequence)``,
  the order of creation used to assign ids (stable when ``as_of`` advances), and
* ``t``: its last touch ``(visible day, nominal time, stamp)``, whose stamp is the rendered
  ``updated_date`` (a back-dated event has a stamp before its visible day).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ordway_sandbox.generator.catalogue import Charge

MS_PER_DAY = 86_400_000
Touch = tuple[int, int, int]


@dataclass(slots=True)
class Event:
    """When the event being processed is visible (day, nominal time) and what it stamps."""

    day: int
    proc: int
    stamp: int

    @property
    def touch(self) -> Touch:
        return (self.day, self.proc, self.stamp)


class Record:
    __slots__ = ("created", "deleted", "id", "key", "t")

    def __init__(self, ev: Event, cust: Customer | None, seq: int = 0) -> None:
        self.key = (ev.day, ev.proc, cust.idx if cust else 0, seq)
        self.id = ""
        self.created = ev.stamp
        self.t: Touch = ev.touch
        self.deleted = False

    def touch(self, ev: Event) -> None:
        self.t = ev.touch


class Customer(Record):
    __slots__ = (
        "arrival",
        "contacts",
        "currency",
        "debit_memos",
        "draw",
        "idx",
        "invoices",
        "methods",
        "name",
        "payments",
        "segment",
        "seq",
        "subs",
        "tax_exempt",
        "terms",
    )

    def __init__(self, ev: Event, idx: int) -> None:
        self.idx = idx
        self.seq = 0
        super().__init__(ev, None, 0)
        self.key = (ev.day, ev.proc, idx, 0)
        self.contacts: list[Contact] = []
        self.subs: list[Subscription] = []
        self.invoices: list[Invoice] = []  # posted invoices (drafts are in World.invoices only)
        self.payments: list[Payment] = []
        self.debit_memos: list[DebitMemo] = []
        self.methods: list[PaymentMethod] = []

    @property
    def auto_pay(self) -> bool:
        return self.draw > 0.5

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


class Contact(Record):
    __slots__ = ("city", "country", "customer", "email", "first", "last", "title")


class Subscription(Record):
    __slots__ = (
        "auto_renew",
        "cancelled_on",
        "currency",
        "customer",
        "lines",
        "main",
        "order",
        "rate",
        "rate_f",
        "start",
        "status",
        "term",
        "term_end",
        "term_start",
        "version",
    )

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.lines: list[SubLine] = []
        self.version = 1
        self.cancelled_on: int | None = None
        self.main: SubLine | None = None
        self.order: Order | None = None


class SubLine:
    """A charge on a subscription (``plans[]`` element), with its two schedules."""

    __slots__ = (
        "bs",
        "charge",
        "discount",
        "end",
        "list_price",
        "number",
        "quantity",
        "rs",
        "start",
        "sub",
        "unit_price",
        "usage_by_month",
    )

    def __init__(self, sub: Subscription, charge: Charge, number: int) -> None:
        self.sub = sub
        self.charge = charge
        self.number = number
        self.bs: BillingSchedule | None = None
        self.rs: RevenueSchedule | None = None
        self.usage_by_month: dict[int, list[Usage]] = {}

    @property
    def line_id(self) -> str:
        return f"SCHG-{self.number:02d}"


class BillingSchedule(Record):
    __slots__ = ("counter", "line", "lines")

    def __init__(self, ev: Event, line: SubLine) -> None:
        cust = line.sub.customer
        super().__init__(ev, cust, cust.next_seq())
        self.line = line
        self.lines: list[BLine] = []
        self.counter = 0


class BLine:
    """One billing schedule line (a period, a credit, a rebill, a one-time or usage line)."""

    __slots__ = (
        "amount",
        "created",
        "discount",
        "end",
        "invoiced",
        "k",
        "line_type",
        "list_price",
        "nominal_days",
        "quantity",
        "ready",
        "removed",
        "schedule",
        "start",
        "unit_price",
        "usages",
    )

    def __init__(self, schedule: BillingSchedule, ev: Event) -> None:
        schedule.counter += 1
        self.k = schedule.counter
        self.schedule = schedule
        self.created = ev.stamp
        self.invoiced = False
        self.removed = False
        self.usages: list[Usage] = []


class RevenueSchedule(Record):
    __slots__ = ("end", "invoice_of", "line", "lines", "start", "total")

    def __init__(self, ev: Event, line: SubLine) -> None:
        cust = line.sub.customer
        super().__init__(ev, cust, cust.next_seq())
        self.line = line
        self.lines: dict[int, Decimal] = {}  # month-start ordinal -> amount
        self.invoice_of: dict[int, Invoice] = {}
        self.total = Decimal("0.00")


class Invoice(Record):
    __slots__ = (
        "amount",
        "credits",
        "customer",
        "date",
        "draft",
        "due",
        "items",
        "payments",
        "rate",
        "rate_f",
        "refunds",
        "reissued",
        "reversed_on",
        "run_day",
        "subtotal",
        "tax",
    )

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.payments: list[tuple[Payment, Decimal, Event]] = []
        self.credits: list[tuple[Credit, Decimal]] = []
        self.refunds: list[Refund] = []
        self.reversed_on: int | None = None
        self.reissued: Invoice | None = None
        self.draft = False  # a Draft: never posted, never billed, not in AR
        self.run_day: int | None = None  # posted by the billing run of that day

    @property
    def balance(self) -> Decimal:
        if self.reversed_on is not None:
            return Decimal("0.00")
        paid = sum((amount for _, amount, _ in self.payments), Decimal("0.00"))
        credited = sum((amount for _, amount in self.credits), Decimal("0.00"))
        refunded = sum((refund.amount for refund in self.refunds), Decimal("0.00"))
        return self.amount - paid - credited + refunded

    def current(self) -> Invoice:
        """Follow re-issues to the invoice that now carries these lines."""
        invoice = self
        while invoice.reissued is not None:
            invoice = invoice.reissued
        return invoice


@dataclass(slots=True)
class InvoiceItem:
    bline: BLine
    subline: SubLine
    tax: Decimal
    taxable: bool


@dataclass(slots=True)
class DraftItem:
    """A manual line of a Draft invoice: a one-time charge, not from any billing schedule."""

    charge: Charge
    quantity: int
    amount: Decimal
    tax: Decimal
    taxable: bool


class Payment(Record):
    __slots__ = (
        "amount",
        "applications",
        "attempt",
        "customer",
        "date",
        "dm_applications",
        "duplicate",
        "failed",
        "method",
        "refunded",
        "refunds",
        "retried",
        "run_day",
    )

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.applications: list[tuple[Invoice, Decimal, Event]] = []
        self.dm_applications: list[tuple[DebitMemo, Decimal, Event]] = []
        self.refunds: list[Refund] = []
        self.refunded = Decimal("0.00")
        self.failed = False
        self.duplicate = False  # paid twice by mistake: nothing applied, refunded later
        self.run_day: int | None = None  # attempted by the payment run of that day
        self.attempt = 0  # the failed attempt this record is (1, 2, ...); 0 = not failed
        self.retried = 0  # failed attempts retried before this one


class DebitMemo(Record):
    """A charge outside an invoice (ordway-api.md §11.14): a failed-payment fee."""

    __slots__ = ("amount", "customer", "date", "journal", "payments", "reason", "tax")

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.payments: list[tuple[Payment, Decimal, Event]] = []
        self.tax = Decimal("0.00")
        self.journal: JournalEntry | None = None

    @property
    def balance(self) -> Decimal:
        return self.amount - sum((amount for _, amount, _ in self.payments), Decimal("0.00"))


class Order(Record):
    """An order the customer placed that became a subscription (ordway-api.md §11.9)."""

    __slots__ = ("customer", "date", "lines", "sub")

    def __init__(self, ev: Event, sub: Subscription) -> None:
        cust = sub.customer
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.sub = sub
        self.date = ev.day
        # (charge, quantity, unit_price, list_price, discount) of the lines ordered
        self.lines = [
            (line.charge, line.quantity, line.unit_price, line.list_price, line.discount)
            for line in sub.lines
        ]


class Statement(Record):
    """A monthly statement of account sent to a customer with an overdue balance."""

    __slots__ = ("customer", "date", "end", "start")

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust


class CustomerNote(Record):
    """A note on a customer (``/customers/{id}/customer_notes``, ordway-api.md §11.4)."""

    __slots__ = ("customer", "description", "file", "title")

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust


class PaymentMethod(Record):
    """A stored card or bank account (``/customers/{id}/payment_methods``, §11.3)."""

    __slots__ = ("customer", "default", "expiry", "kind", "last4")

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.default = True


class Credit(Record):
    __slots__ = ("amount", "application", "customer", "date", "reason")

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust


class Refund(Record):
    __slots__ = ("amount", "customer", "date", "invoice", "payment")

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust


class Usage(Record):
    __slots__ = ("customer", "date", "invoiced", "line", "quantity")

    def __init__(self, ev: Event, line: SubLine) -> None:
        cust = line.sub.customer
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
        self.line = line
        self.invoiced = False


class JournalEntry(Record):
    __slots__ = (
        "amount",
        "currency",
        "customer",
        "date",
        "description",
        "entries",
        "rate",
        "source",
        "source_type",
    )

    def __init__(self, ev: Event, cust: Customer) -> None:
        super().__init__(ev, cust, cust.next_seq())
        self.customer = cust
