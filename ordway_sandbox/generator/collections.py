"""Collections: payments (failed, partial, late), courtesy credits, refunds and the journal
entries they and invoices post; and how payments, credits, refunds and journal entries are
rendered.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import TERMS, q2
from ordway_sandbox.generator.formats import (
    FINANCE_USER,
    SYSTEM_USER,
    audit,
    day_str,
    money,
    ts,
)
from ordway_sandbox.generator.model import Credit, Event, Invoice, JournalEntry, Payment, Refund
from ordway_sandbox.generator.parts import RenderPart, SimPart
from ordway_sandbox.generator.timeline import d

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


class CollectionsRenderer(RenderPart):
    """Renders ``payments``, ``credits``, ``refunds`` and ``journal_entries``."""

    def __init__(self, root: Renderer) -> None:
        super().__init__(root)
        self._payments: dict[int, dict] = {}

    def payment_object(self, pmt: Payment) -> dict:
        if pmt.failed:
            status = "Failed"
        elif pmt.refunded == 0:
            status = "Processed"
        elif pmt.refunded >= pmt.amount:
            status = "Refunded"
        else:
            status = "Partially refunded"
        applied = sum((amount for _, amount, _ in pmt.applications), Decimal("0.00"))
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
            "failed_attempt": 1 if pmt.failed else 0,
            "retried_attempts": 0,
            "failure_reason": "card_declined" if pmt.failed else "",
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
            out.append(record)
        self._payments.clear()
        return out

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
                "notes": "Refund of cancellation credit",
                "payment_id": r.payment.id,
                "invoice_id": r.invoice.id,
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
