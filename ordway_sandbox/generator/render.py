"""Render the simulated records (ids assigned) as Ordway wire JSON (ordway-api.md §6).

Snapshot-dependent fields (revenue lines ``posted``, ``recognized_revenue``, ``cmrr``) are
computed for the end of ``as_of``; the matching derived touches (the monthly posting run, the
nightly job on days where a customer's or subscription's MRR changes) are folded into
``updated_date`` so that a record's bytes change only on a day it carries a stamp of.

``Renderer`` renders the catalogue (revenue rules, chart of accounts, products, plans) and the
customers, and holds what every part shares (edge cases such as missing exchange rates); the
business concerns are rendered by its parts (parts.py): ``contracts``, ``billing``,
``collections``, ``usage``, ``revenue``. ``render(collection)`` dispatches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ordway_sandbox.generator import catalogue as cat
from ordway_sandbox.generator.billing import BillingRenderer
from ordway_sandbox.generator.collections import CollectionsRenderer
from ordway_sandbox.generator.contracts import ContractsRenderer
from ordway_sandbox.generator.formats import (
    ABSENT,
    FINANCE_USER,
    audit,
    later,
    money,
    ts,
)
from ordway_sandbox.generator.model import MS_PER_DAY, Invoice, Subscription
from ordway_sandbox.generator.profiles import MISSING_RATE_SHARE
from ordway_sandbox.generator.revenue import RevenueRenderer
from ordway_sandbox.generator.simulation import World
from ordway_sandbox.generator.usage import UsageRenderer


class Renderer:
    """The snapshot at the end of ``as_of``: renders each collection of the tenant."""

    def __init__(self, world: World, start: date) -> None:
        self.world = world
        self.spec = world.spec
        self.profile = world.spec.profile
        self.edges = world.spec.edges
        self.base = world.spec.base
        self.as_of = world.as_of
        self.missing = self._missing_rates()
        self.catalogue_stamp = start.toordinal() * MS_PER_DAY - 30 * MS_PER_DAY + 9 * 3_600_000
        self.contracts = ContractsRenderer(self)
        self.billing = BillingRenderer(self)
        self.collections = CollectionsRenderer(self)
        self.usage = UsageRenderer(self)
        self.revenue = RevenueRenderer(self)
        # Who renders each collection of profiles.COLLECTIONS (a new collection gets a line).
        self.collection_renderers: dict[str, Callable[[], list[dict]]] = {
            "revenue_rules": self.revenue_rules,
            "chart_of_accounts": self.chart_of_accounts,
            "products": self.products,
            "plans": self.plans,
            "coupons": self.contracts.coupons,
            "webhooks": self.webhooks,
            "customers": self.customers,
            "customer_notes": self.customer_notes,
            "payment_methods": self.collections.payment_methods,
            "subscriptions": self.contracts.subscriptions,
            "orders": self.contracts.orders,
            "billing_schedules": self.billing.billing_schedules,
            "revenue_schedules": self.revenue.revenue_schedules,
            "billing_runs": self.billing.billing_runs,
            "invoices": self.billing.invoices,
            "debit_memos": self.collections.debit_memos,
            "payment_runs": self.collections.payment_runs,
            "payments": self.collections.payments,
            "credits": self.collections.credits,
            "refunds": self.collections.refunds,
            "usages": self.usage.usages,
            "statements": self.collections.statements,
            "journal_entries": self.collections.journal_entries,
        }

    def render(self, collection: str) -> list[dict]:
        """The records of ``collection`` exactly as ``GET /api/v1/<collection>`` returns them."""
        return self.collection_renderers[collection]()

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
                # an object, as the tap's schema has it (ordway-api.md §11.18; never recorded)
                "revenue_rule_entries": {"period_offset": "", "percent_to_recognize": ""},
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
                price_base: object = ""  # as recorded (§11.7); the tap types it a number
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

    def webhooks(self) -> list[dict]:
        """The account's webhook configurations (ordway-api.md §11.25, keyed by ``name``; no
        id, no audit fields). ``remove: ""`` as recorded."""
        headers = [{"key": "Content-Type", "value": "application/json"}]
        events = {
            "create": True,
            "edit": True,
            "remove": "",
        }
        return [
            {
                "name": "Finance data warehouse",
                "url": "https://hooks.sandbox.invalid/ordway/finance",
                "status": "active",
                "events": {kind: dict(events) for kind in ("Invoice", "Payment", "Customer")},
                "headers": [*headers, {"key": "X-Company-Token", "value": "sandbox-token"}],
            },
            {
                "name": "CRM sync",
                "url": "https://crm.sandbox.invalid/webhooks/ordway?token=sandbox",
                "status": "inactive",
                "events": {"Customer": dict(events), "Contact": {**events, "remove": True}},
                "headers": headers,
            },
        ]

    # -- customers -------------------------------------------------------------------------
    def customer_notes(self) -> list[dict]:
        """Notes on customers (§11.4): a raw Rails model (``created_at``/``updated_at``,
        integer ``user_id`` and ``customer_id`` = the customer's internal number), as the
        tap's schema shows; no client samples one."""
        out = []
        for note in self.world.customer_notes:
            stamp = ts(note.created)
            out.append(
                {
                    "id": note.id,
                    "title": note.title,
                    "description": note.description,
                    "file_upload_file_name": "notes.pdf" if note.file else None,
                    "file_upload_content_type": "application/pdf" if note.file else None,
                    "file_upload_file_size": 18_432 if note.file else None,
                    "file_upload_updated_at": stamp if note.file else None,
                    "has_versions": "false",
                    "user_id": 4021,
                    "customer_id": note.customer.idx,
                    "created_at": stamp,
                    "updated_at": ts(note.t[2]),
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
                gross, net, tick = self.contracts.mrr(cust.subs)
            else:  # billing-only: no contracts in Ordway, so no MRR
                gross, net, tick = Decimal("0.00"), Decimal("0.00"), None
            last = later(tick, cust.t) if tick else cust.t
            balance = sum((inv.balance for inv in cust.invoices), Decimal("0.00")) + sum(
                (dm.balance for dm in cust.debit_memos), Decimal("0.00")
            )
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


def ordinal_day(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix} Day Of The Month"
