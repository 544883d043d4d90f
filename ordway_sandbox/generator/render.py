"""Assign ids and render the simulated records as Ordway wire JSON (ordway-api.md §6).

Snapshot-dependent fields (revenue lines ``posted``, ``recognized_revenue``, ``cmrr``) are
computed for the end of ``as_of``; the matching derived touches (the monthly posting run, the
nightly job on days where a customer's or subscription's MRR changes) are folded into
``updated_date`` so that a record's bytes change only on a day it carries a stamp of.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.catalogue import q2
from ordway_sandbox.generator.model import (
    MS_PER_DAY,
    BLine,
    Invoice,
    Payment,
    Record,
    SubLine,
    Subscription,
    Touch,
)
from ordway_sandbox.generator.profiles import MISSING_RATE_SHARE, UNPOSTED_MONTHS
from ordway_sandbox.generator.simulation import World
from ordway_sandbox.generator.timeline import T_NIGHTLY, T_POSTING, batch_stamp
from ordway_sandbox.recognition import add_months, days_in_month

SYSTEM_USER = "system@ordwaylabs.com"
FINANCE_USER = "finance@demo-saas.example"
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
CHARGE_TYPE = {"Recurring": "Recurring", "One time": "One Time", "Usage based": "Usage Based"}
LINE_CHARGE_TYPE = {"Recurring": "recurring", "One time": "one_time", "Usage based": "usage_based"}
TIMING = {"Recurring": "In Advance", "One time": "In Advance", "Usage based": "In Arrears"}

ABSENT = object()
"""An ``exchange_rate`` value meaning "leave the key out" (missing_rates)."""

_day_str: dict[int, str] = {}


def day_str(ordinal: int) -> str:
    text = _day_str.get(ordinal)
    if text is None:
        text = _day_str[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


def ts(stamp: int) -> str:
    day, ms = divmod(stamp, MS_PER_DAY)
    seconds, ms = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{day_str(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}Z"


def money(value: Decimal) -> str:
    return "0.00" if value == 0 else f"{value:.2f}"


def later(a: Touch, b: Touch | None) -> Touch:
    return a if b is None or a[:2] >= b[:2] else b


def audit(rec: Record, touch: Touch | None = None, user: str = SYSTEM_USER) -> dict:
    last = touch or rec.t
    return {
        "created_by": user,
        "updated_by": user,
        "created_date": ts(rec.created),
        "updated_date": ts(last[2]),
    }


def assign_ids(records: Iterable[Record], prefix: str) -> None:
    for number, rec in enumerate(sorted(records, key=lambda r: r.key), start=1):
        rec.id = f"{prefix}-{number:05d}"


def nightly(day: int) -> Touch:
    return (day, T_NIGHTLY, batch_stamp(day, T_NIGHTLY))


class Renderer:
    def __init__(self, world: World, start: date) -> None:
        self.world = world
        self.spec = world.spec
        self.profile = world.spec.profile
        self.edges = world.spec.edges
        self.base = world.spec.base
        self.as_of = world.as_of
        self.as_of_month = date.fromordinal(world.as_of).replace(day=1).toordinal()
        # unposted: the posting run is UNPOSTED_MONTHS behind, so a month's lines are posted on
        # the 1st of the month that many months later (0 = on the 1st of their own month).
        self.posting_lag = UNPOSTED_MONTHS if self.edges.unposted else 0
        self.posted_through = add_months(
            date.fromordinal(self.as_of_month), -self.posting_lag
        ).toordinal()
        self.missing = self._missing_rates()
        self._payments: dict[int, dict] = {}
        self.catalogue_stamp = start.toordinal() * MS_PER_DAY - 30 * MS_PER_DAY + 9 * 3_600_000

    # -- MRR -------------------------------------------------------------------------------
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
        return cat_round(Decimal(gross) / 7200), cat_round(Decimal(net) / 7200), tick

    # -- edge cases ------------------------------------------------------------------------
    def _missing_rates(self) -> dict[int, object]:
        """id(subscription or invoice) -> its rendered ``exchange_rate`` (None or ABSENT).

        Only documents in a currency other than the base lose their rate: the first served
        subscription (null), the first invoice (key absent) and the second invoice (null) of the
        earliest such customer, and about 5% of the others (by a hash of seed and id; null or
        absent by id parity).
        """
        if not self.edges.missing_rates:
            return {}
        missing: dict[int, object] = {}
        foreign = [c for c in self.world.customers if c.currency != self.base]
        if foreign:
            first = min(foreign, key=lambda c: c.idx)
            subs = [s for s in first.subs if not s.deleted]
            if subs and self.profile.subscriptions:
                missing[id(subs[0])] = None
            for invoice, rate in zip(first.invoices, (ABSENT, None), strict=False):
                missing[id(invoice)] = rate
        documents = [s for s in self.world.subscriptions if not s.deleted] + list(
            self.world.invoices
        )
        for doc in documents:
            if doc.customer.currency == self.base or id(doc) in missing:
                continue
            if self.spec.chance("missing-rate", doc.id) < MISSING_RATE_SHARE:
                missing[id(doc)] = None if int(doc.id.split("-")[1]) % 2 == 0 else ABSENT
        return missing

    def rate_of(self, doc: Subscription | Invoice) -> object:
        """The document's wire ``exchange_rate``: its rate, or None/ABSENT (missing_rates)."""
        return self.missing.get(id(doc), doc.rate_f)

    def drifting(self, blank: bool, value: object) -> object:
        """``value``, or ``""`` where ``blank`` (type drift: a typed field arriving as "")."""
        return "" if blank else value

    # -- catalogue -------------------------------------------------------------------------
    def catalogue_audit(self) -> dict:
        stamp = ts(self.catalogue_stamp)
        return {
            "created_by": FINANCE_USER,
            "updated_by": FINANCE_USER,
            "created_date": stamp,
            "updated_date": stamp,
        }

    def revenue_rules(self) -> list[dict]:
        return [
            {
                "id": rule.id,
                "name": rule.name,
                "recognition_method": rule.method,
                "recognition_schedule_period": "Monthly",
                "posting_day": rule.posting_day,
                "posting_method": "Automatic",
                "status": "Active",
                "recognition_term": "",
                "revenue_rule_entries": [],
                **self.catalogue_audit(),
            }
            for rule in cat.REVENUE_RULES
        ]

    def chart_of_accounts(self) -> list[dict]:
        return [
            {
                "code": code,
                "name": name,
                "account_type": account_type,
                "sub_type": sub_type,
                "parent_account": parent,
                "status": "Active",
                "description": "",
                "custom_fields": {"netsuite_id": f"NS-{code}"},
                "netsuite_id": f"NS-{code}",
                **self.catalogue_audit(),
            }
            for code, name, account_type, sub_type, parent in cat.ACCOUNTS
        ]

    def products(self) -> list[dict]:
        out = []
        revenue, ledger = self.profile.revenue, self.profile.ledger
        for product in cat.PRODUCTS:
            deferred = revenue and product.rule_id in ("PR-00001", "PR-00002")
            start_rule = ("Charge Start Date" if deferred else "Invoice Date") if revenue else ""
            postings = [
                {
                    "transaction_type": "Invoice Posting",
                    "debit_account": "1200",
                    "credit_account": "2400" if deferred else product.revenue_account,
                }
            ]
            if revenue:
                postings.append(
                    {
                        "transaction_type": "Revenue Schedule",
                        "debit_account": "2400",
                        "credit_account": product.revenue_account,
                    }
                )
            out.append(
                {
                    "id": product.id,
                    "name": product.name,
                    "sku": product.sku,
                    "status": "Active",
                    "taxable": product.taxable,
                    "description": product.description,
                    "price": "0.00",
                    "currency": self.base,
                    "revenue_rule_id": product.rule_id if revenue else "",
                    "recognition_start_date": start_rule,
                    "deferred_revenue_enabled": deferred,
                    "transaction_posting_entries": postings if ledger else [],
                    "custom_fields": {"product_family": product.sku},
                    "product_family": product.sku,
                    **self.catalogue_audit(),
                }
            )
        return out

    def plans(self) -> list[dict]:
        out = []
        for plan in cat.PLANS:
            charges = []
            for charge in plan.charges:
                recurring = charge.type == "Recurring"
                price_base: object = "Billing Period" if recurring else ""
                if self.edges.drift:  # a number on odd recurring charges, "" on the others
                    odd = int(charge.id[-5:]) % 2 == 1
                    price_base = charge.months if recurring and odd else ""
                charges.append(
                    {
                        "id": charge.id,
                        "product_id": charge.product_id,
                        "name": charge.name,
                        "description": "",
                        "type": charge.type,
                        "timing": "In_advance" if charge.type != "Usage based" else "In_arrears",
                        "charge_timing": "In advance"
                        if charge.type != "Usage based"
                        else "In arrears",
                        "billing_period": charge.billing_period,
                        "pricing_model": charge.pricing_model,
                        "list_price": money(charge.list_price),
                        "list_price_base": price_base,
                        "unit_of_measure": charge.unit_of_measure,
                        "revenue_rule_id": charge.product.rule_id if self.profile.revenue else "",
                        "prorate_partial_periods": recurring,
                        "backcharge_current_period": False,
                        "prepayment_periods": 0,
                        "billing_day": "Charge Start Date",
                        "effective_date": "",
                        "custom_fields": {"salesforce_id": f"01t{charge.id[-5:]}AAA"},
                        "salesforce_id": f"01t{charge.id[-5:]}AAA",
                    }
                )
            out.append(
                {
                    "id": plan.id,
                    "name": plan.name,
                    "description": "",
                    "status": plan.status,
                    "plan_type": plan.plan_type,
                    "public_url": "",
                    "charges": charges,
                    "custom_fields": {"Type": plan.plan_type},
                    "Type": plan.plan_type,
                    **self.catalogue_audit(),
                }
            )
        return out

    # -- customers -------------------------------------------------------------------------
    def contact(self, contact) -> dict:
        city, state = contact.city
        return {
            "display_name": f"{contact.first} {contact.last}",
            "first_name": contact.first,
            "last_name": contact.last,
            "email": contact.email,
            "phone": "",
            "mobile": "",
            "job_title": contact.title,
            "department": "Finance",
            "notes": "",
            "address1": f"{100 + contact.customer.idx % 800} Market Street",
            "address2": "",
            "city": city,
            "county": "",
            "state": state,
            "zip": "",
            "country": contact.country,
        }

    def customers(self) -> list[dict]:
        out = []
        drift = self.edges.drift
        for cust in self.world.customers:
            if self.profile.subscriptions:
                gross, net, tick = self.mrr(cust.subs)
            else:  # billing-only: no contracts in Ordway, so no MRR
                gross, net, tick = Decimal("0.00"), Decimal("0.00"), None
            last = later(tick, cust.t) if tick else cust.t
            balance = sum((inv.balance for inv in cust.invoices), Decimal("0.00"))
            billing = cust.contacts[0]
            sf_id = f"001{cust.idx:09d}AAA"
            custom: dict = {"salesforce_id": sf_id, "segment": cust.segment}
            affirm: object = ""
            ach_credit: object = ""
            if drift:  # odd and even customers drift in opposite fields
                odd = cust.idx % 2 == 1
                affirm = self.drifting(odd, self.spec.chance("affirm", cust.id) < 0.3)
                ach_credit = self.drifting(not odd, self.spec.chance("ach", cust.id) < 0.5)
                employees = 10 + int(self.spec.chance("employees", cust.id) * 5000)
                custom["employee_count"] = self.drifting(not odd, employees)
                custom["is_partner"] = self.drifting(
                    odd, self.spec.chance("partner", cust.id) < 0.2
                )
            contacts = []
            for contact in cust.contacts:
                contacts.append(
                    {
                        "id": contact.id,
                        "customer_id": cust.id,
                        **self.contact(contact),
                        **audit(contact),
                        "custom_fields": {},
                    }
                )
            out.append(
                {
                    "id": cust.id,
                    "name": cust.name,
                    "description": "",
                    "customer_type": "business",
                    "parent_customer": "",
                    "website": "",
                    "payment_terms": cust.terms,
                    "billing_cycle_day": ordinal_day(date.fromordinal(cust.arrival).day),
                    "billing_contact_id": billing.id,
                    "shipping_contact_id": billing.id,
                    "status": "Active",
                    "billing_batch": "Default",
                    "tax_exempt": cust.tax_exempt,
                    "balance": money(balance),
                    "auto_pay": cust.draw > 0.5,
                    "currency": cust.currency,
                    "price_book_id": "",
                    "cmrr": money(gross),
                    "discounted_cmrr": money(net),
                    "delivery_preferences": {"print": False, "email": True},
                    "payment_options": {
                        "ach_enabled": True,
                        "credit_enabled": True,
                        "affirm_enabled": affirm,
                        "ach_credit_enabled": ach_credit,
                        "processing_fee_enabled": False,
                        "ca_pad_enabled": False,
                    },
                    "contacts": contacts,
                    **audit(cust, last),
                    "custom_fields": custom,
                    **custom,
                }
            )
        return out

    # -- subscriptions and schedules -------------------------------------------------------
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
                mrr = cat_round(line.unit_price * line.quantity / charge.months)
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

    def posting_day(self, month: int) -> int:
        """The day the posting run posts the lines of ``month`` (its 1st, or later: unposted)."""
        if not self.posting_lag:
            return month
        return add_months(date.fromordinal(month), self.posting_lag).toordinal()

    def revenue_schedules(self) -> list[dict]:
        out = []
        for rs in self.world.revenue_schedules:
            line = rs.line
            sub = line.sub
            charge = line.charge
            created_day = rs.key[0]
            posting = [
                m
                for m in rs.lines
                if m <= self.posted_through and created_day < self.posting_day(m)
            ]
            last = rs.t
            if posting:
                day = self.posting_day(max(posting))
                last = later((day, T_POSTING, batch_stamp(day, T_POSTING)), rs.t)
            rate = None if self.rate_of(sub) is ABSENT else self.rate_of(sub)
            recognized = Decimal("0.00")
            schedule_lines = []
            for month in sorted(rs.lines):
                value = rs.lines[month]
                posted = month <= self.posted_through
                if posted:
                    recognized += value
                first = date.fromordinal(month)
                invoice = rs.invoice_of.get(month)
                schedule_lines.append(
                    {
                        "uid": f"{rs.id}-{first.year}{first.month:02d}",
                        "financial_period": f"{MONTH_NAMES[first.month - 1]} {first.year}",
                        "posted": "Yes" if posted else "No",
                        "posting_date": day_str(month_end(month)),
                        "period_revenue": money(value),
                        "amount": money(value),
                        "revenue_schedule_id": rs.id,
                        "subscription_charge_uid": f"{sub.id}-{line.line_id}",
                        "currency": sub.currency,
                        "exchange_rate": rate,
                        "invoice_id": invoice.current().id if invoice else "",
                        "custom_fields": {},
                    }
                )
            one_time = charge.type == "One time"
            out.append(
                {
                    "id": rs.id,
                    "customer_id": sub.customer.id,
                    "source_transaction": f"Subscription: {sub.id}",
                    "product_id": charge.product_id,
                    "product_name": charge.product.name,
                    "plan_id": charge.plan_id,
                    "plan_name": charge.plan_name,
                    "charge_id": line.line_id,
                    "charge_name": charge.name,
                    "charge_type": CHARGE_TYPE[charge.type],
                    "charge_timing": TIMING[charge.type],
                    "revenue_rule_id": charge.product.rule_id,
                    "total_revenue": money(rs.total),
                    "recognized_revenue": money(recognized),
                    "unrecognized_revenue": money(rs.total - recognized),
                    "start_date": day_str(line.start),
                    "end_date": day_str(line.start if one_time else line.end),
                    "exchange_rate_source": "Subscription/Order",
                    "schedule_lines": schedule_lines,
                    **audit(rs, last),
                }
            )
        return out

    # -- billing documents -----------------------------------------------------------------
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

    def invoices(self) -> list[dict]:
        out = []
        contacts: dict[int, dict] = {}
        for inv in self.world.invoices:
            cust = inv.customer
            balance = inv.balance
            paid = sum((a for _, a, _ in inv.payments), Decimal("0.00")) - sum(
                (r.amount for r in inv.refunds), Decimal("0.00")
            )
            contact = contacts.get(cust.idx)
            if contact is None:  # one shared (read-only) object per customer saves memory
                contact = contacts[cust.idx] = self.contact(cust.contacts[0])
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
                "start_date": day_str(min(i.bline.start for i in inv.items)),
                "end_date": day_str(max(i.bline.end for i in inv.items)),
                "billing_run_id": "",
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
                    self.invoice_line(inv, n, item) for n, item in enumerate(inv.items, start=1)
                ],
                "subtotals": [],
                "payments": [self.embedded_payment(p) for p, _, _ in inv.payments],
                "credits": [self.credit_object(c, False) for c, _ in inv.credits],
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


def invoice_status(inv: Invoice, balance: Decimal) -> str:
    if inv.reversed_on is not None:
        return "Reversed"
    if inv.amount > 0:
        if balance == 0:
            return "Paid"
        return "Partially paid" if balance < inv.amount else "Posted"
    return "Paid" if balance == 0 and inv.refunds else "Posted"


def cat_round(value: Decimal) -> Decimal:
    return q2(value)


def month_end(month_first: int) -> int:
    return month_first + days_in_month(date.fromordinal(month_first)) - 1


def ordinal_day(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix} Day Of The Month"
