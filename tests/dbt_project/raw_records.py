"""Wire-shaped Ordway records for hand-written test tenants (ordway_sandbox/TENANT.md shapes).

Money is given as decimal strings, as the API sends it; quantities and rates as numbers. Every
builder takes the document currency and exchange rate, so a tenant can mix currencies, leave a
rate out (``exchange_rate=None`` omits the field) or post only some revenue lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

TS = "2026-01-01T00:00:00.000Z"
RULES = {
    "PR-00001": ("Exact Days", "Exact Days, Prorated"),
    "PR-00002": ("Straight-line", "Straight-line, Prorated"),
    "PR-00003": ("On invoicing", "Recognize on invoicing"),
    "PR-00004": ("Usage", "Usage"),
}


def audit() -> dict[str, str]:
    return {"created_date": TS, "updated_date": TS, "created_by": "t@x", "updated_by": "t@x"}


def _rate(record: dict[str, Any], exchange_rate: float | str | None) -> dict[str, Any]:
    if exchange_rate is not None:
        record["exchange_rate"] = exchange_rate
    return record


def revenue_rules(ids: Sequence[str] = tuple(RULES)) -> list[dict[str, Any]]:
    return [
        {
            "id": rule_id,
            "name": RULES[rule_id][0],
            "recognition_method": RULES[rule_id][1],
            "recognition_schedule_period": "Monthly",
            "posting_day": "Invoice Date",
            "posting_method": "Automatic",
            "status": "Active",
            **audit(),
        }
        for rule_id in ids
    ]


def customer(cid: str, name: str, currency: str = "USD", **fields: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "status": "Active",
        "currency": currency,
        "payment_terms": "Net 30",
        "billing_cycle_day": "1st Day Of The Month",
        "billing_contact_id": "",
        "tax_exempt": False,
        "balance": "0.00",
        "cmrr": "0.00",
        "discounted_cmrr": "0.00",
        "custom_fields": {"salesforce_id": "", "segment": "SMB"},
        "contacts": [],
        **audit(),
        **fields,
    }


def sub_line(
    line_id: str,
    period: str,
    list_price: str,
    discount: float,
    effective: str,
    start: str,
    end: str,
    rule: str,
    charge_type: str = "Recurring",
    quantity: float = 1.0,
) -> dict[str, Any]:
    return {
        "subscription_line_id": line_id,
        "product_id": "P-00001",
        "plan_id": "PLN-00001",
        "charge_id": "CHG-00001",
        "charge_name": "Platform",
        "charge_type": charge_type,
        "billing_period": period,
        "list_price": list_price,
        "discount": discount,
        "quantity": quantity,
        "effective_price": effective,
        "charge_start_date": start,
        "charge_end_date": end,
        "billing_schedule_id": "",
        "revenue_schedule_id": "",
        "revenue_rule_id": rule,
    }


def subscription(
    sid: str,
    cid: str,
    start: str,
    lines: list[dict[str, Any]],
    currency: str = "USD",
    exchange_rate: float | str | None = 1.0,
    status: str = "Active",
) -> dict[str, Any]:
    return _rate(
        {
            "id": sid,
            "customer_id": cid,
            "status": status,
            "currency": currency,
            "billing_start_date": start,
            "service_start_date": start,
            "contract_effective_date": start,
            "cancellation_date": "-",
            "auto_renew": False,
            "contract_term": "12",
            "renewal_term": "12",
            "version": 1,
            "cmrr": "0.00",
            "discounted_cmrr": "0.00",
            "tcv": "0.00",
            "plans": lines,
            **audit(),
        },
        exchange_rate,
    )


def bs_line(
    n: int,
    start: str,
    end: str,
    unit: str,
    list_price: str,
    amount: str,
    quantity: float = 1.0,
    line_type: str = "Regular",
) -> dict[str, Any]:
    return {
        "id": n,
        "uid": f"u-{n}",
        "line_type": line_type,
        "charge_ready_date": start,
        "start_date": start,
        "end_date": end,
        "unit_price": unit,
        "list_price": list_price,
        "quantity": quantity,
        "discount": 0.0,
        "amount": amount,
        "invoiced": "Yes",
    }


def billing_schedule(
    bid: str,
    cid: str,
    sid: str,
    line_id: str,
    charge_type: str,
    start: str,
    end: str,
    lines: list[dict[str, Any]],
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "id": bid,
        "customer_id": cid,
        "subscription_id": sid,
        "charge_id": line_id,
        "product_id": "P-00001",
        "charge_type": charge_type,
        "charge_timing": "In Advance",
        "start_date": start,
        "end_date": end,
        "currency": currency,
        "key_metrics": {
            "monthly_recurring_revenue": "0.00",
            "annual_contract_revenue": "0.00",
            "total_contract_revenue": "0.00",
            "amount_invoiced": "0.00",
        },
        "schedule_lines": lines,
        **audit(),
    }


def revenue_schedule(
    rid: str,
    cid: str,
    sid: str,
    line_id: str,
    total: str,
    start: str,
    end: str,
    lines: Sequence[tuple[str, str] | tuple[str, str, str]],
    currency: str = "USD",
    exchange_rate: float | str | None = 1.0,
    charge_type: str = "Recurring",
) -> dict[str, Any]:
    """``lines``: (financial_period, amount) posted, or (financial_period, amount, posted)."""
    schedule_lines = []
    for i, line in enumerate(lines):
        period, amount = line[0], line[1]
        posted = line[2] if len(line) > 2 else "Yes"
        schedule_lines.append(
            _rate(
                {
                    "uid": f"{rid}-{i}",
                    "financial_period": period,
                    "posted": posted,
                    "posting_date": "",
                    "period_revenue": amount,
                    "amount": amount,
                    "revenue_schedule_id": rid,
                    "subscription_charge_uid": "",
                    "currency": currency,
                    "invoice_id": "",
                },
                exchange_rate,
            )
        )
    return {
        "id": rid,
        "customer_id": cid,
        "source_transaction": f"Subscription: {sid}",
        "product_id": "P-00001",
        "plan_id": "PLN-00001",
        "charge_id": line_id,
        "charge_name": "Platform",
        "charge_type": charge_type,
        "charge_timing": "In Advance",
        "total_revenue": total,
        "recognized_revenue": "0.00",
        "unrecognized_revenue": "0.00",
        "start_date": start,
        "end_date": end,
        "exchange_rate_source": "Subscription/Order",
        "schedule_lines": schedule_lines,
        **audit(),
    }


def invoice_line(
    line_no: str,
    net: str,
    tax: str,
    start: str,
    sid: str = "",
    line_id: str = "",
    charge_type: str = "recurring",
    end: str = "-",
) -> dict[str, Any]:
    return {
        "line_no": line_no,
        "subscription_id": sid,
        "subscription_line_id": line_id,
        "charge_id": "CHG-00001",
        "product_id": "P-00001",
        "plan_id": "PLN-00001",
        "charge_type": charge_type,
        "description": "",
        "start_date": start,
        "end_date": end,
        "unit_price": net,
        "list_price": net,
        "quantity": 1.0,
        "discount": "0.0",
        "effective_price": net,
        "line_tax": tax,
        "taxable": True,
        "tax_lines": [],
        "applied_tiers": "",
    }


def invoice(
    iid: str,
    cid: str,
    date: str,
    due: str,
    net: str,
    tax: str,
    total: str,
    paid: str,
    balance: str,
    status: str,
    sid: str = "",
    line_id: str = "",
    reversed_on: str | None = None,
    currency: str = "USD",
    exchange_rate: float | str | None = 1.0,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One invoice; by default a single line of ``net`` (+ ``tax``) for ``sid``/``line_id``."""
    record = {
        "id": iid,
        "customer_id": cid,
        "customer_name": cid,
        "invoice_date": date,
        "due_date": due,
        "start_date": date,
        "end_date": date,
        "subtotal": net,
        "invoice_tax": tax,
        "invoice_amount": total,
        "paid_amount": paid,
        "balance": balance,
        "status": status,
        "currency": currency,
        "payment_terms": "Net 30",
        "line_items": lines or [invoice_line("1", net, tax, date, sid, line_id)],
        "payments": [],
        "credits": [],
        **audit(),
    }
    if reversed_on:
        record["reversed_on"] = reversed_on
    return _rate(record, exchange_rate)


def payment(
    pid: str,
    cid: str,
    date: str,
    amount: str,
    applied_to: str,
    currency: str = "USD",
    status: str = "Processed",
) -> dict[str, Any]:
    return {
        "id": pid,
        "customer_id": cid,
        "payment_date": date,
        "status": status,
        "payment_amount": amount,
        "fee_amount": "0.00",
        "applied_amount": amount,
        "unapplied_amount": "0.00",
        "refunded_amount": "0.00",
        "payment_type": "Electronic",
        "payment_method": "ACH",
        "currency": currency,
        "invoices": [{"id": applied_to, "amount_applied": amount}],
        "refunds": [],
        **audit(),
    }


def product(revenue_rule_id: str = "PR-00001") -> dict[str, Any]:
    return {
        "id": "P-00001",
        "name": "Platform",
        "sku": "PLAT",
        "status": "Active",
        "taxable": True,
        "revenue_rule_id": revenue_rule_id,
        **audit(),
    }


Application = tuple[str, str, str | None]
"""(document id, amount_applied, created_date or None) of a payment or credit application."""


def _applications(applications: Sequence[Application]) -> list[dict[str, Any]]:
    out = []
    for document_id, amount, applied_on in applications:
        record: dict[str, Any] = {"id": document_id, "amount_applied": amount}
        if applied_on is not None:  # date only, as on the wire (ordway-api.md §11.11)
            record.update(created_date=applied_on, updated_date=TS)
        out.append(record)
    return out


def payment_record(
    pid: str,
    cid: str,
    date: str,
    amount: str,
    status: str = "Processed",
    applications: Sequence[Application] = (),
    currency: str = "USD",
    refunded: str = "0.00",
) -> dict[str, Any]:
    """A payment of any status with its applications to documents (``invoices[]``);
    applied_amount is their sum, the rest unapplied."""
    applied = sum((Decimal(value) for _, value, _ in applications), Decimal("0.00"))
    return {
        "id": pid,
        "customer_id": cid,
        "payment_date": date,
        "status": status,
        "payment_amount": amount,
        "fee_amount": "0.00",
        "applied_amount": f"{applied:.2f}",
        "unapplied_amount": f"{Decimal(amount) - applied:.2f}",
        "refunded_amount": refunded,
        "payment_type": "Electronic",
        "payment_method": "Credit Card",
        "currency": currency,
        "failed_attempt": 1 if status == "Failed" else 0,
        "retried_attempts": 0,
        "invoices": _applications(applications),
        "refunds": [],
        **audit(),
    }


def credit(
    crid: str,
    cid: str,
    date: str,
    amount: str,
    status: str = "Processed",
    applications: Sequence[Application] = (),
    currency: str = "USD",
) -> dict[str, Any]:
    """A credit with its applications to documents (``invoices[]``) and one credit line."""
    return {
        "id": crid,
        "customer_id": cid,
        "credit_date": date,
        "status": status,
        "credit_type": "COURTESY",
        "credit_amount": amount,
        "applied_amount": amount,
        "unapplied_amount": "0.00",
        "currency": currency,
        "reference_number": "",
        "auto_apply": False,
        "invoices": _applications(applications),
        "credit_line_items": [
            {
                "line_no": "1",
                "product_id": "",
                "description": "Goodwill",
                "unit_price": amount,
                "quantity": 1.0,
                "taxable": False,
                "line_tax": "0.00",
                "effective_price": amount,
            }
        ],
        "refunds": [],
        **audit(),
    }


def refund(
    rid: str,
    cid: str,
    date: str,
    amount: str,
    status: str = "Succeeded",
    payment_id: str = "",
    invoice_id: str = "",
    credit_id: str = "",
    currency: str = "USD",
) -> dict[str, Any]:
    """A refund: of a payment, a credit, a negative invoice, or standalone (no link)."""
    return {
        "id": rid,
        "customer_id": cid,
        "refund_date": date,
        "refund_amount": amount,
        "refund_type": "Electronic",
        "refund_status": status,
        "notes": "",
        "payment_id": payment_id,
        "invoice_id": invoice_id,
        "credit_id": credit_id,
        "currency": currency,
        "conversion_rate": 1.0,
        **audit(),
    }


def debit_memo(
    dmid: str,
    cid: str,
    date: str,
    net: str,
    tax: str,
    total: str,
    paid: str,
    balance: str,
    status: str = "Open",
    reversed_on: str | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    """A debit memo (ordway-api.md §11.14) with one line of ``net`` + ``tax``."""
    record = {
        "id": dmid,
        "customer_id": cid,
        "status": status,
        "debit_date": date,
        "subtotal": net,
        "debit_tax": tax,
        "debit_amount": total,
        "paid_amount": paid,
        "balance": balance,
        "currency": currency,
        "conversion_rate": 1.0,
        "reference_number": "",
        "notes": "",
        "debit_lines": [
            {
                "line_no": "1",
                "product_id": "P-00001",
                "description": "Additional charge",
                "unit_price": net,
                "quantity": 1.0,
                "line_tax": tax,
                "effective_price": net,
            }
        ],
        "payments": [],
        "credits": [],
        **audit(),
    }
    if reversed_on:
        record["reversed_on"] = reversed_on
    return record
