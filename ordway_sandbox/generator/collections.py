"""Collections: payments (failed, partial, late), courtesy credits, refunds and the journal
entries they and invoices post; and how payments, credits, refunds and journal entries are
rendered.
"""

from __future__ import annotations

from decimal import Decimal

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import TERMS, q2
from ordway_sandbox.generator.model import Credit, Event, Invoice, JournalEntry, Payment, Refund
from ordway_sandbox.generator.parts import SimPart
from ordway_sandbox.generator.timeline import d


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
