"""Billing: billing schedules and their lines, the daily billing run, invoices (posting,
reversal and re-issue, Draft invoices never posted); and how billing schedules, billing runs and
invoices are rendered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import TERMS, ZERO, q2
from ordway_sandbox.generator.formats import (
    ABSENT,
    CHARGE_TYPE,
    LINE_CHARGE_TYPE,
    SYSTEM_USER,
    TIMING,
    audit,
    day_str,
    money,
    ts,
)
from ordway_sandbox.generator.model import (
    BillingSchedule,
    BLine,
    DraftItem,
    Event,
    Invoice,
    InvoiceItem,
    SubLine,
)
from ordway_sandbox.generator.parts import RenderPart, SimPart
from ordway_sandbox.generator.timeline import (
    T_BILLING,
    T_DRAFT,
    add_months,
    billing_run_stamp,
    d,
)

DRAFT_SHARE = 0.02
"""Share of posted invoices after which finance drafts an invoice for extra services that is
never posted (a Draft: never billed, never in AR)."""
DRAFT_CHARGES = (cat.ONBOARDING, cat.IMPLEMENTATION)

if TYPE_CHECKING:
    from ordway_sandbox.generator.simulation import CustomerSim


class BillingSim(SimPart):
    """Schedules what to bill, invoices it in the billing run, and posts (or reverses) invoices."""

    def __init__(self, sim: CustomerSim) -> None:
        super().__init__(sim)
        self.pending: list[BLine] = []
        self.bill_days: set[int] = set()

    def open_schedule(self, ev: Event, line: SubLine) -> None:
        """The billing schedule of a line just sold (its lines are added by the caller)."""
        bs = BillingSchedule(ev, line)
        line.bs = bs
        self.world.billing_schedules.append(bs)

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

    def current_period(self, line: SubLine, day: int) -> BLine | None:
        for b in line.bs.lines:
            if b.line_type == "Regular" and not b.removed and b.start <= day <= b.end:
                return b
        return None

    def bill_if_ready(self, ev: Event) -> None:
        """Invoice right away what is ready today when the day's billing run has passed."""
        if ev.proc >= T_BILLING:
            self.invoice(ev, [b for b in self.pending if b.ready <= ev.day])

    def billing_run(self, ev: Event) -> None:
        ev.stamp = billing_run_stamp(ev.day)
        self.bill_days.discard(ev.day)
        inv = self.invoice(ev, [b for b in self.pending if b.ready <= ev.day])
        if inv is not None:
            inv.run_day = ev.day

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
            self.revenue.invoiced(ev, inv, b)
        self.post_invoice(ev, inv, items)
        if not self.profile.usage_only and self.chance("draft", inv.key) < DRAFT_SHARE:
            days = 1 + int(self.chance("draft-day", inv.key) * 5)
            self.push(ev.day + days, T_DRAFT, self.draft_invoice, (inv,))
        if inv.amount > 0:
            self.collections.plan_collection(ev, inv)
        elif inv.amount < 0:
            self.push(
                ev.day + self.rng.randint(2, 6),
                self.business_time(),
                self.collections.refund,
                (inv,),
            )
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
        self.collections.journal(
            ev, "Invoice", inv, inv.date, f"Invoice posting {inv.date}", entries, inv.amount
        )

    def draft_invoice(self, ev: Event, after: Invoice) -> None:
        """A Draft invoice of one extra service, never posted: no journal entry, no balance in
        the customer's AR, no collection."""
        cust = self.cust
        charge = cat.CHARGES[DRAFT_CHARGES[int(self.chance("draft-charge", after.key) * 2)]]
        amount = cat.local_price(charge.list_price, cust.currency, self.base)
        taxable = charge.product.taxable and not cust.tax_exempt
        tax = q2(amount * cat.tax_rate(cust.currency)) if taxable else ZERO
        draft = Invoice(ev, cust)
        draft.draft, draft.date = True, ev.day
        draft.items = [DraftItem(charge, 1, amount, tax, taxable)]
        draft.rate_f, draft.rate = cat.fx_rate(cust.currency, d(draft.date), self.base)
        draft.due = draft.date + TERMS[cust.terms]
        draft.subtotal, draft.tax, draft.amount = amount, tax, amount + tax
        self.world.invoices.append(draft)

    def reverse(self, ev: Event, inv: Invoice) -> None:
        if inv.reversed_on is not None or inv.payments or inv.credits:
            return
        self.update_event(ev)
        inv.reversed_on = ev.day
        inv.touch(ev)
        self.collections.journal(
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


class BillingRenderer(RenderPart):
    """Renders ``billing_schedules``, ``billing_runs`` and ``invoices`` (which embed payments
    and credits)."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self._runs: dict[tuple[int | None, str], str] | None = None

    def billing_schedules(self) -> list[dict]:
        out = []
        for bs in self.world.billing_schedules:
            line = bs.line
            sub = line.sub
            charge = line.charge
            number = int(bs.id.split("-")[1])
            invoiced = sum((b.amount for b in bs.lines if b.invoiced), Decimal("0.00"))
            total = sum((b.amount for b in bs.lines), Decimal("0.00"))
            mrr = Decimal("0.00")
            if charge.type == "Recurring" and line.end >= line.start:
                mrr = q2(line.unit_price * line.quantity / charge.months)
            schedule_lines = []
            for b in bs.lines:
                schedule_lines.append(
                    {
                        "id": number * 1000 + b.k,
                        "uid": f"{bs.id}-L{b.k:03d}",
                        "line_type": b.line_type,
                        "charge_ready_date": day_str(b.ready),
                        "start_date": day_str(b.start),
                        "end_date": day_str(b.end),
                        "unit_price": money(b.unit_price),
                        "list_price": money(b.list_price),
                        "list_price_base": "Billing Period",
                        "quantity": float(b.quantity),
                        "discount": float(b.discount),
                        "amount": money(b.amount),
                        "invoiced": "Yes" if b.invoiced else "No",
                        "description": f"{charge.name} {day_str(b.start)} - {day_str(b.end)}",
                        "custom_fields": {},
                        "created_date": ts(b.created),
                    }
                )
            out.append(
                {
                    "id": bs.id,
                    "customer_id": sub.customer.id,
                    "customer_name": sub.customer.name,
                    "subscription_id": sub.id,
                    "product_id": charge.product_id,
                    "product_name": charge.product.name,
                    "charge_id": line.line_id,
                    "charge_name": charge.name,
                    "charge_type": CHARGE_TYPE[charge.type],
                    "charge_timing": TIMING[charge.type],
                    "start_date": day_str(line.start),
                    "end_date": day_str(line.end)
                    if charge.type != "One time"
                    else day_str(line.start),
                    "currency": sub.currency,
                    "key_metrics": {
                        "monthly_recurring_revenue": money(mrr),
                        "annual_contract_revenue": money(mrr * 12),
                        "total_contract_revenue": money(total),
                        "amount_invoiced": money(invoiced),
                    },
                    "schedule_lines": schedule_lines,
                    **audit(bs),
                    "custom_fields": {},
                }
            )
        return out

    def invoices(self) -> list[dict]:
        out = []
        contacts: dict[int, dict] = {}
        for inv in self.world.invoices:
            cust = inv.customer
            balance = inv.balance
            paid = sum((a for _, a, _ in inv.payments), Decimal("0.00")) - sum(
                (r.amount for r in inv.refunds), Decimal("0.00")
            )
            starts = [i.bline.start for i in inv.items] if not inv.draft else []
            ends = [i.bline.end for i in inv.items] if not inv.draft else []
            contact = contacts.get(cust.idx)
            if contact is None:  # one shared (read-only) object per customer saves memory
                contact = contacts[cust.idx] = self.root.contact(cust.contacts[0])
            custom: dict = {"po_number": ""}
            if self.edges.drift:
                even = int(inv.id.split("-")[1]) % 2 == 0
                custom["approved"] = self.drifting(even, self.spec.chance("approved", inv.id) < 0.8)
            record = {
                "id": inv.id,
                "customer_id": cust.id,
                "customer_name": cust.name,
                "billing_contact": contact,
                "shipping_contact": contact,
                "invoice_date": day_str(inv.date),
                "due_date": day_str(inv.due),
                "start_date": day_str(inv.date if inv.draft else min(starts)),
                "end_date": day_str(inv.date if inv.draft else max(ends)),
                "billing_run_id": self.billing_run_ids().get((inv.run_day, cust.currency), ""),
                "subtotal": money(inv.subtotal),
                "invoice_tax": money(inv.tax),
                "invoice_amount": money(inv.amount),
                "paid_amount": money(paid),
                "balance": money(balance),
                "status": invoice_status(inv, balance),
                "notes": "",
                "currency": cust.currency,
                "exchange_rate": self.rate_of(inv),
                "payment_terms": cust.terms,
                "invoice_pdf_url": f"https://sandbox.invalid/invoices/{inv.id}.pdf",
                **({"reversed_on": day_str(inv.reversed_on)} if inv.reversed_on else {}),
                "line_items": [
                    self.draft_line(inv, n, item) if inv.draft else self.invoice_line(inv, n, item)
                    for n, item in enumerate(inv.items, start=1)
                ],
                "subtotals": [],
                "payments": [self.collections.embedded_payment(p) for p, _, _ in inv.payments],
                "credits": [self.collections.credit_object(c, False) for c, _ in inv.credits],
                "refunds": [
                    {
                        "id": r.id,
                        "refund_amount": money(r.amount),
                        "refund_date": day_str(r.date),
                    }
                    for r in inv.refunds
                ],
                **audit(inv),
                "custom_fields": custom,
                **custom,
            }
            if record["exchange_rate"] is ABSENT:
                del record["exchange_rate"]
            out.append(record)
        return out

    def billing_run_ids(self) -> dict[tuple[int | None, str], str]:
        """(day, currency) -> the id of the billing run that posted that day's invoices in that
        currency (``BR-00001``.. in day and currency order; none without subscriptions: the
        billing-only account invoices by hand)."""
        if self._runs is None:
            keys = set()
            if self.profile.subscriptions:
                keys = {
                    (inv.run_day, inv.customer.currency)
                    for inv in self.world.invoices
                    if inv.run_day is not None
                }
            self._runs = {key: f"BR-{n:05d}" for n, key in enumerate(sorted(keys), start=1)}
        return self._runs

    def billing_runs(self) -> list[dict]:
        """One billing run per day and currency: what it posted (ordway-api.md §11.15)."""
        posted: dict[tuple[int, str], list[Invoice]] = {}
        for inv in self.world.invoices:
            if inv.run_day is not None:
                posted.setdefault((inv.run_day, inv.customer.currency), []).append(inv)
        out = []
        for (day, currency), run_id in self.billing_run_ids().items():
            invoices = posted[(day, currency)]
            stamp = ts(billing_run_stamp(day))
            out.append(
                {
                    "id": run_id,
                    "status": "Posted",
                    "target_date": day_str(day),
                    "invoice_date": day_str(day),
                    "invoices_total": money(sum((inv.amount for inv in invoices), ZERO)),
                    "invoices_count": len(invoices),
                    "currency": currency,
                    "filter_options": {"customer": [], "order": [], "subscription": []},
                    "charge_type": "one_time,recurring,usage_based",
                    "payment_term": "Default",
                    "customer_filter_options": "",
                    "subscription_filter_options": {},
                    "auto_post": True,
                    "created_by": SYSTEM_USER,
                    "updated_by": SYSTEM_USER,
                    "created_date": stamp,
                    "updated_date": stamp,
                }
            )
        return out

    def draft_line(self, inv: Invoice, number: int, item: DraftItem) -> dict:
        """A Draft invoice's manual line: a one-time charge naming its product."""
        charge = item.charge
        rate = cat.tax_rate(inv.customer.currency)
        return {
            "line_no": str(number),
            "subscription_id": "",
            "subscription_line_id": "",
            "customer_id": inv.customer.id,
            "customer_name": inv.customer.name,
            "product_id": charge.product_id,
            "product_name": charge.product.name,
            "plan_id": "",
            "plan_name": "",
            "charge_id": "",
            "charge_name": charge.name,
            "charge_type": "one_time",
            "description": f"{charge.name} (proposed)",
            "start_date": day_str(inv.date),
            "end_date": "-",
            "unit_price": money(item.amount),
            "list_price": money(item.amount),
            "list_price_base": "",
            "quantity": float(item.quantity),
            "discount": "0.0",
            "effective_price": money(item.amount),
            "line_tax": money(item.tax),
            "taxable": item.taxable,
            "tax_lines": [
                {
                    "name": cat.tax_name(inv.customer.currency),
                    "rate": float(rate),
                    "value": money(item.tax),
                }
            ]
            if item.taxable
            else [],
            "applied_tiers": "",
            "custom_fields": {},
        }

    def invoice_line(self, inv: Invoice, number: int, item) -> dict:
        b, line = item.bline, item.subline
        charge = line.charge
        one_time = charge.type == "One time"
        rate = cat.tax_rate(inv.customer.currency)
        if self.profile.subscriptions:
            refs = {
                "subscription_id": line.sub.id,
                "subscription_line_id": line.line_id,
                "customer_id": inv.customer.id,
                "customer_name": inv.customer.name,
                "product_id": charge.product_id,
                "product_name": charge.product.name,
                "plan_id": charge.plan_id,
                "plan_name": charge.plan_name,
                "charge_id": charge.id,
                "charge_name": charge.name,
                "charge_type": LINE_CHARGE_TYPE[charge.type],
                "description": f"{charge.name} ({b.line_type})",
            }
        else:  # billing-only: a manual line naming only the product (no contract in Ordway)
            refs = {
                "subscription_id": "",
                "subscription_line_id": "",
                "customer_id": inv.customer.id,
                "customer_name": inv.customer.name,
                "product_id": charge.product_id,
                "product_name": charge.product.name,
                "plan_id": "",
                "plan_name": "",
                "charge_id": "",
                "charge_name": charge.product.name,
                "charge_type": "one_time",
                "description": charge.name
                if one_time
                else f"{charge.name} {day_str(b.start)} - {day_str(b.end)}",
            }
        tiers: object = ""
        if (
            self.edges.drift
            and charge.pricing_model == "Per unit"
            and b.quantity > 0
            and (int(inv.id.split("-")[1]) + number) % 2 == 0
        ):
            tiers = [
                {
                    "tier": 1,
                    "starting_unit": 0.0,
                    "ending_unit": float(b.quantity),
                    "price": money(b.unit_price),
                    "type": "Per unit",
                }
            ]
        return {
            "line_no": str(number),
            **refs,
            "start_date": day_str(b.start),
            "end_date": "-" if one_time else day_str(b.end),
            "unit_price": money(b.unit_price),
            "list_price": money(b.list_price),
            "list_price_base": "Billing Period",
            "quantity": float(b.quantity),
            "discount": str(float(b.discount)),
            "effective_price": money(b.amount),
            "line_tax": money(item.tax),
            "taxable": item.taxable,
            "tax_lines": [
                {
                    "name": cat.tax_name(inv.customer.currency),
                    "rate": float(rate),
                    "value": money(item.tax),
                }
            ]
            if item.taxable
            else [],
            "applied_tiers": tiers,
            "custom_fields": {},
        }


def invoice_status(inv: Invoice, balance: Decimal) -> str:
    if inv.draft:
        return "Draft"
    if inv.reversed_on is not None:
        return "Reversed"
    if inv.amount > 0:
        if balance == 0:
            return "Paid"
        return "Partially paid" if balance < inv.amount else "Posted"
    return "Paid" if balance == 0 and inv.refunds else "Posted"
