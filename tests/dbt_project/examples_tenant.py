"""A hand-written, raw-shaped tenant reproducing revenue-rules.md worked examples E2 and E3
plus billing edge cases. Every figure here is typed from revenue-rules.md, not computed.

- C-00001 (E2): annual $12,000 billed upfront 2026-03-15, service 2026-03-15..2027-03-14,
  Exact Days; revenue schedule lines exactly as E2 lists them.
- C-00002 (E3): monthly plan, list $500, 10% discount, 8% tax, billed on the 1st from
  2026-04-01; the discount ends after June (a plan switch to a new line at list price),
  contract ends 2026-12-31. November is partially paid, December unpaid.
- C-00003: a one-time $300 charge (Recognize on invoicing) invoiced 2026-05-20, reversed on
  2026-06-05 and re-issued that day; plus a Draft invoice that must never count.
- C-00004: a monthly $100 subscription S-00004 that the tests mark deleted upstream
  (``DELETED_SUBSCRIPTION``); it must not reach any mart.
"""

from __future__ import annotations

from typing import Any

AS_OF = "2027-04-30"
DELETED_SUBSCRIPTION = "S-00004"
TS = "2026-01-01T00:00:00.000Z"

E2_REVENUE = [
    ("March 2026", "558.90"),
    ("April 2026", "986.30"),
    ("May 2026", "1019.18"),
    ("June 2026", "986.30"),
    ("July 2026", "1019.18"),
    ("Aug 2026", "1019.18"),
    ("Sep 2026", "986.30"),
    ("October 2026", "1019.18"),
    ("November 2026", "986.30"),
    ("December 2026", "1019.18"),
    ("January 2027", "1019.18"),
    ("February 2027", "920.55"),
    ("March 2027", "460.27"),
]
E3_MONTHS = [
    "2026-04",
    "2026-05",
    "2026-06",
    "2026-07",
    "2026-08",
    "2026-09",
    "2026-10",
    "2026-11",
    "2026-12",
]
MONTH_NAMES = {
    "04": "April",
    "05": "May",
    "06": "June",
    "07": "July",
    "08": "August",
    "09": "September",
    "10": "October",
    "11": "November",
    "12": "December",
}
LAST_DAY = {
    "04": "30",
    "05": "31",
    "06": "30",
    "07": "31",
    "08": "31",
    "09": "30",
    "10": "31",
    "11": "30",
    "12": "31",
}


def _audit() -> dict[str, str]:
    return {"created_date": TS, "updated_date": TS, "created_by": "t@x", "updated_by": "t@x"}


def _customer(cid: str, name: str) -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "status": "Active",
        "currency": "USD",
        "payment_terms": "Net 30",
        "billing_cycle_day": "1st Day Of The Month",
        "billing_contact_id": "",
        "tax_exempt": False,
        "balance": "0.00",
        "cmrr": "0.00",
        "discounted_cmrr": "0.00",
        "custom_fields": {"salesforce_id": "", "segment": "SMB"},
        "contacts": [],
        **_audit(),
    }


def _sub_line(
    line_id: str,
    period: str,
    list_price: str,
    discount: float,
    effective: str,
    start: str,
    end: str,
    rule: str,
    charge_type: str = "Recurring",
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
        "quantity": 1.0,
        "effective_price": effective,
        "charge_start_date": start,
        "charge_end_date": end,
        "billing_schedule_id": "",
        "revenue_schedule_id": "",
        "revenue_rule_id": rule,
    }


def _subscription(sid: str, cid: str, start: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": sid,
        "customer_id": cid,
        "status": "Active",
        "currency": "USD",
        "exchange_rate": 1.0,
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
        **_audit(),
    }


def _bs_line(n: int, start: str, end: str, unit: str, list_price: str, amount: str) -> dict:
    return {
        "id": n,
        "uid": f"u-{n}",
        "line_type": "Regular",
        "charge_ready_date": start,
        "start_date": start,
        "end_date": end,
        "unit_price": unit,
        "list_price": list_price,
        "quantity": 1.0,
        "discount": 0.0,
        "amount": amount,
        "invoiced": "Yes",
    }


def _billing_schedule(
    bid: str,
    cid: str,
    sid: str,
    line_id: str,
    charge_type: str,
    start: str,
    end: str,
    lines: list[dict],
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
        "currency": "USD",
        "key_metrics": {
            "monthly_recurring_revenue": "0.00",
            "annual_contract_revenue": "0.00",
            "total_contract_revenue": "0.00",
            "amount_invoiced": "0.00",
        },
        "schedule_lines": lines,
        **_audit(),
    }


def _revenue_schedule(
    rid: str,
    cid: str,
    sid: str,
    line_id: str,
    total: str,
    start: str,
    end: str,
    lines: list[tuple[str, str]],
) -> dict[str, Any]:
    return {
        "id": rid,
        "customer_id": cid,
        "source_transaction": f"Subscription: {sid}",
        "product_id": "P-00001",
        "plan_id": "PLN-00001",
        "charge_id": line_id,
        "charge_name": "Platform",
        "charge_type": "Recurring",
        "charge_timing": "In Advance",
        "total_revenue": total,
        "recognized_revenue": "0.00",
        "unrecognized_revenue": "0.00",
        "start_date": start,
        "end_date": end,
        "exchange_rate_source": "Subscription/Order",
        "schedule_lines": [
            {
                "uid": f"{rid}-{i}",
                "financial_period": period,
                "posted": "Yes",
                "posting_date": "",
                "period_revenue": amount,
                "amount": amount,
                "revenue_schedule_id": rid,
                "subscription_charge_uid": "",
                "currency": "USD",
                "exchange_rate": 1.0,
                "invoice_id": "",
            }
            for i, (period, amount) in enumerate(lines)
        ],
        **_audit(),
    }


def _invoice(
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
) -> dict[str, Any]:
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
        "currency": "USD",
        "exchange_rate": 1.0,
        "payment_terms": "Net 30",
        "line_items": [
            {
                "line_no": "1",
                "subscription_id": sid,
                "subscription_line_id": line_id,
                "charge_id": "CHG-00001",
                "product_id": "P-00001",
                "plan_id": "PLN-00001",
                "charge_type": "recurring",
                "description": "",
                "start_date": date,
                "end_date": "-",
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
        ],
        "payments": [],
        "credits": [],
        **_audit(),
    }
    if reversed_on:
        record["reversed_on"] = reversed_on
    return record


def build_examples_tenant() -> dict[str, list[dict[str, Any]]]:
    """The tenant dict, shaped like build_tenant's output."""
    rules = [
        {"id": "PR-00001", "name": "Exact Days", "recognition_method": "Exact Days, Prorated"},
        {
            "id": "PR-00002",
            "name": "Straight-line",
            "recognition_method": "Straight-line, Prorated",
        },
        {"id": "PR-00003", "name": "On invoicing", "recognition_method": "Recognize on invoicing"},
    ]
    for rule in rules:
        rule.update(
            {
                "recognition_schedule_period": "Monthly",
                "posting_day": "Invoice Date",
                "posting_method": "Automatic",
                "status": "Active",
                **_audit(),
            }
        )

    # E2
    subs = [
        _subscription(
            "S-00001",
            "C-00001",
            "2026-03-15",
            [
                _sub_line(
                    "SCHG-01",
                    "Annually",
                    "12000.00",
                    0.0,
                    "12000.00",
                    "2026-03-15",
                    "2027-03-14",
                    "PR-00001",
                )
            ],
        )
    ]
    billing = [
        _billing_schedule(
            "BS-00001",
            "C-00001",
            "S-00001",
            "SCHG-01",
            "Recurring",
            "2026-03-15",
            "2027-03-14",
            [_bs_line(1, "2026-03-15", "2027-03-14", "12000.00", "12000.00", "12000.00")],
        )
    ]
    revenue = [
        _revenue_schedule(
            "RS-00001",
            "C-00001",
            "S-00001",
            "SCHG-01",
            "12000.00",
            "2026-03-15",
            "2027-03-14",
            E2_REVENUE,
        )
    ]
    invoices = [
        _invoice(
            "INV-00001",
            "C-00001",
            "2026-03-15",
            "2026-04-14",
            "12000.00",
            "0.00",
            "12000.00",
            "12000.00",
            "0.00",
            "Paid",
            "S-00001",
            "SCHG-01",
        )
    ]

    # E3: discounted line Apr-Jun, list-price line Jul-Dec (the discount ends after June).
    subs.append(
        _subscription(
            "S-00002",
            "C-00002",
            "2026-04-01",
            [
                _sub_line(
                    "SCHG-01",
                    "Monthly",
                    "500.00",
                    10.0,
                    "450.00",
                    "2026-04-01",
                    "2026-06-30",
                    "PR-00002",
                ),
                _sub_line(
                    "SCHG-02",
                    "Monthly",
                    "500.00",
                    0.0,
                    "500.00",
                    "2026-07-01",
                    "2026-12-31",
                    "PR-00002",
                ),
            ],
        )
    )
    for line_id, bs_id, rs_id, months, net, tax, gross in (
        ("SCHG-01", "BS-00002", "RS-00002", E3_MONTHS[:3], "450.00", "36.00", "486.00"),
        ("SCHG-02", "BS-00003", "RS-00003", E3_MONTHS[3:], "500.00", "40.00", "540.00"),
    ):
        first, last = f"{months[0]}-01", f"{months[-1]}-{LAST_DAY[months[-1][5:]]}"
        billing.append(
            _billing_schedule(
                bs_id,
                "C-00002",
                "S-00002",
                line_id,
                "Recurring",
                first,
                last,
                [
                    _bs_line(i + 1, f"{m}-01", f"{m}-{LAST_DAY[m[5:]]}", net, "500.00", net)
                    for i, m in enumerate(months)
                ],
            )
        )
        total = f"{len(months) * float(net):.2f}"
        revenue.append(
            _revenue_schedule(
                rs_id,
                "C-00002",
                "S-00002",
                line_id,
                total,
                first,
                last,
                [(f"{MONTH_NAMES[m[5:]]} {m[:4]}", net) for m in months],
            )
        )
        for m in months:
            number = f"INV-1{m[2:4]}{m[5:]}"
            due = f"{m}-{'31' if LAST_DAY[m[5:]] == '31' else '30'}"
            paid, balance, status = gross, "0.00", "Paid"
            if m == "2026-11":
                paid, balance, status = "440.00", "100.00", "Partially paid"
            if m == "2026-12":
                paid, balance, status = "0.00", gross, "Posted"
            invoices.append(
                _invoice(
                    number,
                    "C-00002",
                    f"{m}-01",
                    due,
                    net,
                    tax,
                    gross,
                    paid,
                    balance,
                    status,
                    "S-00002",
                    line_id,
                )
            )

    # C-00003: reversed and re-issued one-time invoice, and a Draft that never counts.
    subs.append(
        _subscription(
            "S-00003",
            "C-00003",
            "2026-05-20",
            [
                _sub_line(
                    "SCHG-01",
                    "",
                    "300.00",
                    0.0,
                    "300.00",
                    "2026-05-20",
                    "2026-05-20",
                    "PR-00003",
                    charge_type="One time",
                )
            ],
        )
    )
    billing.append(
        _billing_schedule(
            "BS-00004",
            "C-00003",
            "S-00003",
            "SCHG-01",
            "One Time",
            "2026-05-20",
            "2026-05-20",
            [_bs_line(1, "2026-05-20", "2026-05-20", "300.00", "300.00", "300.00")],
        )
    )
    revenue.append(
        _revenue_schedule(
            "RS-00004",
            "C-00003",
            "S-00003",
            "SCHG-01",
            "300.00",
            "2026-05-20",
            "2026-05-20",
            [("Jun 2026", "300.00")],
        )
    )
    invoices += [
        _invoice(
            "INV-20001",
            "C-00003",
            "2026-05-20",
            "2026-06-19",
            "300.00",
            "0.00",
            "300.00",
            "0.00",
            "0.00",
            "Reversed",
            "S-00003",
            "SCHG-01",
            reversed_on="2026-06-05",
        ),
        _invoice(
            "INV-20002",
            "C-00003",
            "2026-06-05",
            "2026-07-05",
            "300.00",
            "0.00",
            "300.00",
            "0.00",
            "300.00",
            "Posted",
            "S-00003",
            "SCHG-01",
        ),
        _invoice(
            "INV-20003",
            "C-00003",
            "2026-06-06",
            "2026-07-06",
            "999.00",
            "0.00",
            "999.00",
            "0.00",
            "999.00",
            "Draft",
            "S-00003",
            "SCHG-01",
        ),
    ]

    # C-00004: marked deleted by the tests through _ordway_deletions.
    subs.append(
        _subscription(
            DELETED_SUBSCRIPTION,
            "C-00004",
            "2026-01-01",
            [
                _sub_line(
                    "SCHG-01",
                    "Monthly",
                    "100.00",
                    0.0,
                    "100.00",
                    "2026-01-01",
                    "2026-12-31",
                    "PR-00002",
                )
            ],
        )
    )
    billing.append(
        _billing_schedule(
            "BS-00005",
            "C-00004",
            DELETED_SUBSCRIPTION,
            "SCHG-01",
            "Recurring",
            "2026-01-01",
            "2026-12-31",
            [_bs_line(1, "2026-01-01", "2026-12-31", "100.00", "100.00", "1200.00")],
        )
    )

    return {
        "revenue_rules": rules,
        "customers": [
            _customer("C-00001", "E2 Annual"),
            _customer("C-00002", "E3 Monthly"),
            _customer("C-00003", "Reversal"),
            _customer("C-00004", "Deleted"),
        ],
        "subscriptions": subs,
        "billing_schedules": billing,
        "revenue_schedules": revenue,
        "invoices": invoices,
        "payments": [
            {
                "id": "PMT-00001",
                "customer_id": "C-00001",
                "payment_date": "2026-03-20",
                "status": "Processed",
                "payment_amount": "12000.00",
                "fee_amount": "0.00",
                "applied_amount": "12000.00",
                "unapplied_amount": "0.00",
                "refunded_amount": "0.00",
                "payment_type": "Electronic",
                "payment_method": "ACH",
                "currency": "USD",
                "invoices": [{"id": "INV-00001", "amount_applied": "12000.00"}],
                "refunds": [],
                **_audit(),
            }
        ],
        "products": [
            {
                "id": "P-00001",
                "name": "Platform",
                "sku": "PLAT",
                "status": "Active",
                "taxable": True,
                "revenue_rule_id": "PR-00001",
                **_audit(),
            }
        ],
    }
