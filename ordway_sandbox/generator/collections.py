"""Collections: payments (failed, partial, late), the payment run (automatic payments that fail
and are retried), failed-payment fees (debit memos), courtesy credits, refunds (of credit balances
and of duplicate payments), stored payment methods, monthly statements, and the journal entries
all of them post; and how those collections are rendered.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import FAILED_PAYMENT_FEE, TERMS, ZERO, q2
from ordway_sandbox.generator.formats import (
    FINANCE_USER,
    SYSTEM_USER,
    audit,
    day_str,
    money,
    ts,
)
from ordway_sandbox.generator.model import (
    Credit,
    DebitMemo,
    Event,
    Invoice,
    JournalEntry,
    Payment,
    PaymentMethod,
    Refund,
    Statement,
)
from ordway_sandbox.generator.parts import RenderPart, SimPart
from ordway_sandbox.generator.timeline import (
    T_CARD_UPDATE,
    T_DUPLICATE,
    T_FEE,
    T_FEE_PAYMENT,
    T_PAYMENT_RUN,
    T_REFUND,
    T_STATEMENT,
    add_months,
    d,
    month_first,
    month_last,
    payment_run_stamp,
)

MAX_ATTEMPTS = 3
"""The payment run gives up after the third failed attempt (the invoice stays open)."""
RETRY_SUCCESS = {2: 0.7, 3: 0.5}
"""Share of retries (attempt number -> share) that succeed."""
FEE_SHARE = 0.5
"""Share of first failed attempts that cost the customer a failed-payment fee (a debit memo)."""
FEE_PAID_SHARE = 0.7
"""Share of those fees the customer pays (the others stay open)."""
CARD_UPDATE_SHARE = 0.4
"""Share of failed card attempts after which the customer stores a new card."""
DUPLICATE_SHARE = 0.015
"""Share of payments that the customer pays twice by mistake (the duplicate is refunded)."""
CARD_KINDS = ("Visa", "Mastercard", "American Express")

if TYPE_CHECKING:
    from ordway_sandbox.generator.render import Renderer


class CollectionsSim(SimPart):
    """Collects each invoice (or not), grants credits, refunds credit balances; keeps the
    journal of every posting."""

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
            self.push(reversal_day, self.business_time(), self.billing.reverse, (inv,))
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
        if draw < 0.05 and self.cust.auto_pay:  # the payment run's attempt fails; it retries
            day = inv.date + rng.randint(0, terms)
            if day == ev.day and ev.proc >= T_PAYMENT_RUN:  # posted after today's run
                day += 1
            self.business_time()  # the draws of version 1, so later decisions stay the same
            gap = rng.randint(3, 7)
            self.business_time()
            self.push(day, T_PAYMENT_RUN, self.run_attempt, (inv, 1, gap))
        elif draw < 0.05:  # a manual payment fails (a declined card, a bounced transfer)
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
            pmt.failed, pmt.attempt = True, 1
            return
        self.apply_payment(ev, pmt, inv, amount)
        if self.chance("duplicate", pmt.key) < DUPLICATE_SHARE:
            self.push(ev.day + 1, T_DUPLICATE, self.duplicate_payment, (pmt,))

    def apply_payment(self, ev: Event, pmt: Payment, inv: Invoice, amount) -> None:
        pmt.applications.append((inv, amount, ev))
        inv.payments.append((pmt, amount, ev))
        inv.touch(ev)
        self.cust.touch(ev)
        self.journal(
            ev,
            "Payment",
            pmt,
            ev.day,
            f"Payment {pmt.method}",
            [("1000", amount), ("1200", -amount)],
            amount,
        )

    # -- the payment run: automatic payments, retried when they fail -----------------------------
    def run_attempt(self, ev: Event, original: Invoice, attempt: int, gap: int) -> None:
        """Attempt ``attempt`` (1, 2, ...) of the payment run to collect ``original``: the first
        fails; a retry succeeds with ``RETRY_SUCCESS``; after ``MAX_ATTEMPTS`` the run gives up."""
        inv = original.current()
        balance = inv.balance
        if balance <= 0:
            return
        ev.stamp = payment_run_stamp(ev.day)
        cust = self.cust
        pmt = Payment(ev, cust)
        pmt.date, pmt.amount, pmt.method = ev.day, balance, self.default_method_kind()
        pmt.run_day, pmt.retried = ev.day, attempt - 1
        cust.payments.append(pmt)
        self.world.payments.append(pmt)
        if attempt > 1 and self.chance("retry", inv.key, attempt) < RETRY_SUCCESS[attempt]:
            self.apply_payment(ev, pmt, inv, balance)
            return
        pmt.failed, pmt.attempt = True, attempt
        if attempt == 1 and self.chance("fee", inv.key) < FEE_SHARE:
            self.push(ev.day, T_FEE, self.failed_payment_fee, ())
        if pmt.method == "Credit Card" and self.chance("new-card", inv.key, attempt) < (
            CARD_UPDATE_SHARE
        ):
            self.push(ev.day + 1, T_CARD_UPDATE, self.add_payment_method, ())
        if attempt < MAX_ATTEMPTS:
            self.push(ev.day + gap, T_PAYMENT_RUN, self.run_attempt, (inv, attempt + 1, gap))

    def default_method_kind(self) -> str:
        methods = [m for m in self.cust.methods if m.default]
        return methods[-1].kind if methods else "Credit Card"

    def failed_payment_fee(self, ev: Event) -> None:
        """A debit memo for the failed payment fee; most are paid a week or two later."""
        cust = self.cust
        dm = DebitMemo(ev, cust)
        dm.date, dm.reason = ev.day, "Failed payment fee"
        dm.amount = cat.local_price(FAILED_PAYMENT_FEE, cust.currency, self.base)
        cust.debit_memos.append(dm)
        cust.touch(ev)
        self.world.debit_memos.append(dm)
        dm.journal = self.journal(
            ev,
            "DebitMemo",
            dm,
            ev.day,
            "Debit memo: failed payment fee",
            [("1200", dm.amount), ("4300", -dm.amount)],
            dm.amount,
        )
        if self.chance("fee-paid", dm.key) < FEE_PAID_SHARE:
            days = 5 + int(self.chance("fee-paid-day", dm.key) * 16)
            self.push(ev.day + days, T_FEE_PAYMENT, self.pay_debit_memo, (dm,))

    def pay_debit_memo(self, ev: Event, dm: DebitMemo) -> None:
        amount = dm.balance
        if amount <= 0:
            return
        cust = self.cust
        pmt = Payment(ev, cust)
        pmt.date, pmt.amount, pmt.method = ev.day, amount, "ACH"
        cust.payments.append(pmt)
        self.world.payments.append(pmt)
        pmt.dm_applications.append((dm, amount, ev))
        dm.payments.append((pmt, amount, ev))
        dm.touch(ev)
        cust.touch(ev)
        self.journal(
            ev, "Payment", pmt, ev.day, "Payment ACH", [("1000", amount), ("1200", -amount)], amount
        )

    # -- duplicate payments and their refunds ----------------------------------------------------
    def duplicate_payment(self, ev: Event, original: Payment) -> None:
        """The customer pays the same amount again: nothing to apply it to (unapplied)."""
        cust = self.cust
        pmt = Payment(ev, cust)
        pmt.date, pmt.amount, pmt.method = ev.day, original.amount, original.method
        pmt.duplicate = True
        cust.payments.append(pmt)
        self.world.payments.append(pmt)
        self.journal(
            ev,
            "Payment",
            pmt,
            ev.day,
            f"Payment {pmt.method} (duplicate)",
            [("1000", pmt.amount), ("1200", -pmt.amount)],
            pmt.amount,
        )
        days = 3 + int(self.chance("duplicate-refund", pmt.key) * 8)
        self.push(ev.day + days, T_REFUND, self.refund_duplicate, (pmt,))

    def refund_duplicate(self, ev: Event, pmt: Payment) -> None:
        """A standalone refund of a payment: tied to no invoice."""
        due = pmt.amount - pmt.refunded
        if due <= 0:
            return
        refund = Refund(ev, self.cust)
        refund.date, refund.amount, refund.invoice, refund.payment = ev.day, due, None, pmt
        pmt.refunded += due
        pmt.refunds.append(refund)
        pmt.touch(ev)
        self.world.refunds.append(refund)
        entries = [("1200", due), ("1000", -due)]
        self.journal(ev, "Payment", pmt, ev.day, "Refund of duplicate payment", entries, due)

    # -- stored payment methods and statements ---------------------------------------------------
    def add_payment_method(self, ev: Event) -> None:
        """A new default card or bank account; the previous default stays, no longer default.
        Bumps the customer's ``updated_date`` (TENANT.md: the nightly fan-out relies on it)."""
        cust = self.cust
        method = PaymentMethod(ev, cust)
        previous = [m for m in cust.methods if m.default]
        if previous:  # a replacement after a failed charge: a new card
            method.kind = "Credit Card"
        else:
            method.kind = "Credit Card" if self.chance("method", method.key) < 0.7 else "ACH"
        method.last4 = f"{int(self.chance('last4', method.key) * 10_000):04d}"
        method.expiry = month_last(add_months(month_first(ev.day), 36))
        for old in previous:
            old.default = False
            old.touch(ev)
        cust.methods.append(method)
        cust.touch(ev)
        self.world.payment_methods.append(method)

    def statement_run(self, ev: Event) -> None:
        """On the 1st: a statement of last month for a customer with anything overdue."""
        cust = self.cust
        overdue = any(
            inv.reversed_on is None and inv.balance > 0 and inv.due < ev.day
            for inv in cust.invoices
        ) or any(dm.balance > 0 for dm in cust.debit_memos)
        if overdue:
            statement = Statement(ev, cust)
            statement.date = ev.day
            statement.start = month_first(ev.day - 1)
            statement.end = ev.day - 1
            self.world.statements.append(statement)
        self.push(month_last(ev.day) + 1, T_STATEMENT, self.statement_run, ())

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

    def refund(self, ev: Event, inv: Invoice) -> None:
        due = -inv.balance
        if due <= 0:
            return
        source = next(
            (
                p
                for p in reversed(self.cust.payments)
                if not p.failed and not p.duplicate and p.amount - p.refunded >= due
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

    def journal(
        self,
        ev: Event,
        source_type: str,
        source,
        day: int,
        description: str,
        entries: list[tuple[str, Decimal]],
        amount: Decimal,
    ) -> JournalEntry:
        je = JournalEntry(ev, self.cust)
        je.source_type, je.source, je.date = source_type, source, day
        je.description = description
        je.entries = [(account, value) for account, value in entries if value != 0]
        je.amount = amount
        je.currency = self.cust.currency
        je.rate = cat.fx_rate(self.cust.currency, d(day), self.base)[0]
        self.world.journal_entries.append(je)
        return je


class CollectionsRenderer(RenderPart):
    """Renders ``payments``, ``payment_runs``, ``debit_memos``, ``credits``, ``refunds``,
    ``payment_methods``, ``statements`` and ``journal_entries``."""

    def __init__(self, root: Renderer) -> None:
        super().__init__(root)
        self._payments: dict[int, dict] = {}
        self._runs: dict[tuple[int, str], str] | None = None

    def payment_run_ids(self) -> dict[tuple[int, str], str]:
        """(day, currency) -> the id of that day's payment run in that currency (``PR-00001``..
        in day and currency order; ordway-api.md §6: payment runs share revenue rules' prefix)."""
        if self._runs is None:
            keys = {
                (p.run_day, p.customer.currency)
                for p in self.world.payments
                if p.run_day is not None
            }
            self._runs = {key: f"PR-{n:05d}" for n, key in enumerate(sorted(keys), start=1)}
        return self._runs

    def payment_object(self, pmt: Payment) -> dict:
        if pmt.failed:
            status = "Failed"
        elif pmt.refunded == 0:
            status = "Processed"
        elif pmt.refunded >= pmt.amount:
            status = "Refunded"
        else:
            status = "Partially refunded"
        applied = sum((amount for _, amount, _ in pmt.applications), Decimal("0.00")) + sum(
            (amount for _, amount, _ in pmt.dm_applications), Decimal("0.00")
        )
        record = {
            "id": pmt.id,
            "customer_id": pmt.customer.id,
            "payment_date": day_str(pmt.date),
            "notes": "",
            "status": status,
            "payment_amount": money(pmt.amount),
            "fee_amount": "0.00",
            "applied_amount": money(applied),
            "unapplied_amount": money(pmt.amount - applied),
            "refunded_amount": money(pmt.refunded),
            "payment_type": "Electronic" if pmt.method != "Wire" else "External",
            "payment_method": pmt.method,
            "currency": pmt.customer.currency,
            "reference_number": f"REF{pmt.key[2]:06d}{pmt.key[3]:04d}",
            "auto_apply": True,
            "failed_attempt": pmt.attempt if pmt.failed else 0,
            "retried_attempts": pmt.retried,
            "failure_reason": failure_reason(pmt),
            "payment_run_id": self.payment_run_ids().get((pmt.run_day, pmt.customer.currency), "")
            if pmt.run_day is not None
            else "",
            "gl_account": "",
            "gateway_name": "Stripe" if pmt.method == "Credit Card" else "",
            "refunds": [
                {
                    "id": r.id,
                    "refund_amount": money(r.amount),
                    "refund_date": day_str(r.date),
                    "created_by": SYSTEM_USER,
                    "updated_by": SYSTEM_USER,
                    "created_date": day_str(r.date),
                    "updated_date": day_str(r.date),
                }
                for r in pmt.refunds
            ],
            **audit(pmt),
            "custom_fields": {"quickbooks_id": ""},
            "quickbooks_id": "",
        }
        return record

    def embedded_payment(self, pmt: Payment) -> dict:
        """The payment object as invoices embed it (rendered once, reused by ``payments``)."""
        cached = self._payments.get(id(pmt))
        if cached is None:
            cached = self._payments[id(pmt)] = self.payment_object(pmt)
        return cached

    def payments(self) -> list[dict]:
        out = []
        for pmt in self.world.payments:
            record = dict(self.embedded_payment(pmt))
            record["invoices"] = [
                {
                    "id": inv.id,
                    "amount_applied": money(amount),
                    "created_date": day_str(ev.day),
                    "updated_date": ts(ev.stamp),
                    "created_by": SYSTEM_USER,
                    "updated_by": SYSTEM_USER,
                }
                for inv, amount, ev in pmt.applications
            ]
            # applications to debit memos, shaped as the invoice applications (inferred: no
            # client shows how a payment names the debit memos it paid; credits list them
            # under ``debit_memos``, ordway-api.md §11.13)
            record["debit_memos"] = [
                {
                    "id": dm.id,
                    "amount_applied": money(amount),
                    "created_date": day_str(ev.day),
                    "updated_date": ts(ev.stamp),
                    "created_by": SYSTEM_USER,
                    "updated_by": SYSTEM_USER,
                }
                for dm, amount, ev in pmt.dm_applications
            ]
            out.append(record)
        self._payments.clear()
        return out

    def payment_runs(self) -> list[dict]:
        """One payment run per day and currency with automatic attempts (§11.22)."""
        attempts: dict[tuple[int, str], list[Payment]] = {}
        for pmt in self.world.payments:
            if pmt.run_day is not None:
                attempts.setdefault((pmt.run_day, pmt.customer.currency), []).append(pmt)
        out = []
        for (day, currency), run_id in self.payment_run_ids().items():
            payments = attempts[(day, currency)]
            failed = [p for p in payments if p.failed]
            succeeded = [p for p in payments if not p.failed]
            stamp = ts(payment_run_stamp(day))
            out.append(
                {
                    "id": run_id,
                    "status": "Completed",
                    "target_date": stamp,
                    "target_invoice_due_date": stamp,
                    "success_count": len(succeeded),
                    "failure_count": len(failed),
                    "currency": currency,
                    "payments_total_value": money(sum((p.amount for p in payments), ZERO)),
                    "payments_success_value": money(sum((p.amount for p in succeeded), ZERO)),
                    "payments_failed_value": money(sum((p.amount for p in failed), ZERO)),
                    "refunds_total_value": "0.00",
                    "refunds_success_value": "0.00",
                    "refunds_failed_value": "0.00",
                    "filter_options": {},
                    "filter_options_named": "",
                    "payment_per_customer": True,
                    "refunds_for_negative_invoices": False,
                    "send_email_on_payments_success": True,
                    "send_email_on_payment_fail": True,
                    "retry_failed_payments": True,
                    "payment_processing_surcharge": "0.00",
                    "created_by": SYSTEM_USER,
                    "updated_by": SYSTEM_USER,
                    "created_date": stamp,
                    "updated_date": stamp,
                }
            )
        return out

    def debit_memos(self) -> list[dict]:
        """Failed-payment fees (§11.14): ``Open`` until paid in full, then ``Paid``. The line
        shape is inferred (no client samples ``debit_lines``): as a credit's lines."""
        out = []
        journal = "journal_entries" in self.profile.served
        for dm in self.world.debit_memos:
            cust = dm.customer
            paid = dm.amount - dm.balance
            contact = self.root.contact(cust.contacts[0])
            out.append(
                {
                    "id": dm.id,
                    "customer_id": cust.id,
                    "status": "Paid" if dm.balance == 0 else "Open",
                    "debit_date": day_str(dm.date),
                    "debit_amount": money(dm.amount),
                    "subtotal": money(dm.amount - dm.tax),
                    "debit_tax": money(dm.tax),
                    "paid_amount": money(paid),
                    "balance": money(dm.balance),
                    "reference_number": "",
                    "notes": dm.reason,
                    "currency": cust.currency,
                    "conversion_rate": cat.fx_rate(cust.currency, d(dm.date), self.base)[0],
                    "reversed_on": "",
                    "debit_pdf_url": f"https://sandbox.invalid/debit_memos/{dm.id}.pdf",
                    "journal_entry_id": dm.journal.id if journal and dm.journal else "",
                    "billing_contact": contact,
                    "shipping_contact": contact,
                    "debit_lines": [
                        {
                            "line_no": "1",
                            "product_id": "",
                            "product_name": "",
                            "description": dm.reason,
                            "unit_price": money(dm.amount - dm.tax),
                            "quantity": 1.0,
                            "taxable": False,
                            "line_tax": money(dm.tax),
                            "effective_price": money(dm.amount - dm.tax),
                            "custom_fields": {},
                        }
                    ],
                    "payments": [self.embedded_payment(p) for p, _, _ in dm.payments],
                    "credits": [],
                    **audit(dm, user=FINANCE_USER),
                    "custom_fields": {},
                }
            )
        return out

    def payment_methods(self) -> list[dict]:
        """Stored cards and bank accounts (§11.3; no client samples the shape: inferred from
        the tap schema). No audit fields: a change shows in the customer's ``updated_date``."""
        out = []
        for method in self.world.payment_methods:
            cust = method.customer
            card = method.kind == "Credit Card"
            contact = cust.contacts[0]
            out.append(
                {
                    "id": method.id,
                    "customer_id": cust.id,
                    "customer_payment_gateway_id": f"cus_{cust.idx:08d}",
                    "payment_type": method.kind,
                    "type": CARD_KINDS[int(method.last4) % len(CARD_KINDS)] if card else "checking",
                    "account_number": ("************" if card else "******") + method.last4,
                    "routing_number": "" if card else "*****0021",
                    "account_holder_name": f"{contact.first} {contact.last}",
                    "account_holder_type": "company",
                    "country": contact.country,
                    "expiry": day_str(method.expiry) if card else "",
                    "status": "Active" if method.default else "Inactive",
                    "default": method.default,
                    "cvc": "",
                }
            )
        return out

    def statements(self) -> list[dict]:
        """Monthly statements of account (§11.23; keyed ``id`` like every collection, the
        tap's ``statement_id`` being its rename; dates as dates, format inferred)."""
        return [
            {
                "id": st.id,
                "customer_id": st.customer.id,
                "statement_date": day_str(st.date),
                "start_date": day_str(st.start),
                "end_date": day_str(st.end),
                "template_name": "Standard statement",
                "url": f"https://sandbox.invalid/statements/{st.id}.pdf",
                **audit(st),
            }
            for st in self.world.statements
        ]

    def credit_object(self, credit, with_applications: bool) -> dict:
        inv, ev = credit.application
        record = {
            "id": credit.id,
            "customer_id": credit.customer.id,
            "credit_date": day_str(credit.date),
            "notes": credit.reason,
            "status": "Processed",
            "credit_type": "COURTESY",
            "credit_amount": money(credit.amount),
            "applied_amount": money(credit.amount),
            "unapplied_amount": "0.00",
            "currency": credit.customer.currency,
            "reference_number": "",
            "auto_apply": False,
            "gl_account": "4900" if self.profile.ledger else "",
            "refunds": [],
            **audit(credit, user=FINANCE_USER),
            "custom_fields": {},
        }
        if with_applications:
            record["invoices"] = [
                {
                    "id": inv.id,
                    "amount_applied": money(credit.amount),
                    "created_date": day_str(ev.day),
                    "updated_date": ts(ev.stamp),
                    "created_by": FINANCE_USER,
                    "updated_by": FINANCE_USER,
                }
            ]
            record["credit_line_items"] = [
                {
                    "line_no": "1",
                    "product_id": "",
                    "product_name": "",
                    "description": credit.reason,
                    "credit_account": "4900" if self.profile.ledger else "",
                    "unit_price": money(credit.amount),
                    "quantity": 1.0,
                    "taxable": False,
                    "tax_override": False,
                    "line_tax": "0.00",
                    "effective_price": money(credit.amount),
                    "custom_fields": {},
                }
            ]
        return record

    def credits(self) -> list[dict]:
        return [self.credit_object(credit, True) for credit in self.world.credits]

    def refunds(self) -> list[dict]:
        return [
            {
                "id": r.id,
                "customer_id": r.customer.id,
                "refund_date": day_str(r.date),
                "refund_amount": money(r.amount),
                "refund_type": "Electronic",
                "refund_status": "Succeeded",
                "notes": "Refund of cancellation credit"
                if r.invoice
                else "Refund of duplicate payment",
                "payment_id": r.payment.id,
                "invoice_id": r.invoice.id if r.invoice else "",
                "credit_id": "",
                "currency": r.customer.currency,
                "reference_number": "",
                "conversion_rate": cat.fx_rate(
                    r.customer.currency, date.fromordinal(r.date), self.base
                )[0],
                **audit(r, user=FINANCE_USER),
                "custom_fields": {},
            }
            for r in self.world.refunds
        ]

    def journal_entries(self) -> list[dict]:
        out = []
        for je in self.world.journal_entries:
            cust = je.customer
            entries = [
                {
                    "line_no": str(n),
                    "account": account,
                    "debit": money(value) if value > 0 else "0.00",
                    "credit": money(-value) if value < 0 else "0.00",
                    "description": je.description,
                    "customer_id": cust.id,
                    "customer_name": cust.name,
                    "custom_fields": {},
                }
                for n, (account, value) in enumerate(je.entries, start=1)
            ]
            out.append(
                {
                    "id": je.id,
                    "date": day_str(je.date),
                    "description": je.description,
                    "source_type": je.source_type,
                    "source_id": je.source.id,
                    "transaction_currency": je.currency,
                    "conversion_rate": je.rate,
                    "transaction_amount": money(je.amount),
                    "entries": entries,
                    **audit(je),
                    "custom_fields": {},
                }
            )
        return out


def failure_reason(pmt: Payment) -> str:
    if not pmt.failed:
        return ""
    return "insufficient_funds" if pmt.method == "ACH" else "card_declined"
