"""Hand-written raw tenants shaped like real accounts that do not use every Ordway module.

Each builder returns a tenant dict for ``raw_loader.load_tenant``: a collection that is absent
from the dict gets no raw table at all, as when the dlt source never saw a record of it. The
figures are typed by hand; the tests state what every mart must hold for them.

- ``billing_only``: customers, invoices with lines, payments (no subscriptions, schedules or
  revenue).
- ``no_revenue_module``: subscriptions, billing schedules, invoices, payments; no revenue
  schedules and no revenue rules.
- ``usage_only``: one usage charge, rated monthly in arrears (usage billing schedule lines,
  ``Usage`` revenue lines, invoices the month after), plus the ``usages`` collection.
- ``one_customer``: one customer with one monthly subscription, fully billed and recognized.
"""

from __future__ import annotations

from typing import Any

from tests.dbt_project.raw_records import (
    billing_schedule,
    bs_line,
    customer,
    invoice,
    invoice_line,
    payment,
    product,
    revenue_rules,
    revenue_schedule,
    sub_line,
    subscription,
)

AS_OF = "2026-06-30"
MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
Tenant = dict[str, list[dict[str, Any]]]


def months(first: str, count: int) -> list[str]:
    """``count`` months "YYYY-MM" from ``first``."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_end(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    days = [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return f"{month}-{days[number - 1]:02d}"


def period(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def billing_only() -> Tenant:
    return {
        "customers": [customer("C-B1", "Billing USD"), customer("C-B2", "Billing EUR", "EUR")],
        "invoices": [
            invoice(
                *("INV-B1", "C-B1", "2026-04-01", "2026-05-01"),
                *("1000.00", "80.00", "1080.00", "1080.00", "0.00", "Paid"),
            ),
            invoice(
                *("INV-B2", "C-B1", "2026-05-01", "2026-05-31"),
                *("1000.00", "80.00", "1080.00", "0.00", "1080.00", "Posted"),
            ),
            invoice(
                *("INV-B3", "C-B2", "2026-06-10", "2026-07-10"),
                *("500.00", "100.00", "600.00", "0.00", "600.00", "Posted"),
                currency="EUR",
                exchange_rate=1.1,
            ),
            invoice(
                *("INV-B4", "C-B2", "2026-06-15", "2026-07-15"),
                *("999.00", "0.00", "999.00", "0.00", "999.00", "Draft"),
                currency="EUR",
                exchange_rate=1.1,
            ),
        ],
        "payments": [payment("PMT-B1", "C-B1", "2026-04-05", "1080.00", "INV-B1")],
    }


def no_revenue_module() -> Tenant:
    """C-N1: $200 a month from May 2025 (14 month-ends to June 2026). C-N2: 300 EUR a quarter
    from January 2026 at the subscription's rate 1.1 (MRR 110 USD)."""
    n1 = months("2025-05", 20)
    n1_billed = n1[:14]
    n2 = ["2026-01", "2026-04", "2026-07", "2026-10"]
    quarter_end = {"2026-01": "2026-03-31", "2026-04": "2026-06-30"}
    quarter_end.update({"2026-07": "2026-09-30", "2026-10": "2026-12-31"})
    line_n1 = sub_line(
        "SCHG-01", "Monthly", "200.00", 0.0, "200.00", "2025-05-01", "2026-12-31", "PR-00002"
    )
    line_n2 = sub_line(
        "SCHG-01", "Quarterly", "300.00", 0.0, "300.00", "2026-01-01", "2026-12-31", "PR-00002"
    )
    return {
        "customers": [customer("C-N1", "Monthly USD"), customer("C-N2", "Quarterly EUR", "EUR")],
        "subscriptions": [
            subscription("S-N1", "C-N1", "2025-05-01", [line_n1]),
            subscription(
                "S-N2", "C-N2", "2026-01-01", [line_n2], currency="EUR", exchange_rate=1.1
            ),
        ],
        "billing_schedules": [
            billing_schedule(
                *("BS-N1", "C-N1", "S-N1", "SCHG-01", "Recurring", "2025-05-01", "2026-12-31"),
                [
                    bs_line(i + 1, f"{m}-01", month_end(m), "200.00", "200.00", "200.00")
                    for i, m in enumerate(n1)
                ],
            ),
            billing_schedule(
                *("BS-N2", "C-N2", "S-N2", "SCHG-01", "Recurring", "2026-01-01", "2026-12-31"),
                [
                    bs_line(i + 1, f"{m}-01", quarter_end[m], "300.00", "300.00", "300.00")
                    for i, m in enumerate(n2)
                ],
                currency="EUR",
            ),
        ],
        "invoices": [
            invoice(
                *(f"INV-N1-{m}", "C-N1", f"{m}-01", month_end(m)),
                *("200.00", "0.00", "200.00", "200.00", "0.00", "Paid", "S-N1", "SCHG-01"),
            )
            for m in n1_billed
        ]
        + [
            invoice(
                *(f"INV-N2-{m}", "C-N2", f"{m}-01", month_end(m)),
                *("300.00", "0.00", "300.00", "300.00", "0.00", "Paid", "S-N2", "SCHG-01"),
                currency="EUR",
                exchange_rate=1.1,
            )
            for m in n2[:2]
        ],
        "payments": [payment("PMT-N1", "C-N1", "2025-05-02", "200.00", "INV-N1-2025-05")],
        "products": [product("PR-00002")],
    }


def usage_only() -> Tenant:
    """API calls at 0.10 each, rated monthly in arrears: March 1,200 calls (120.00), April
    1,500 (150.00), May 900 (90.00), each invoiced on the 1st of the next month."""
    rated = [
        ("2026-03", 1200.0, "120.00"),
        ("2026-04", 1500.0, "150.00"),
        ("2026-05", 900.0, "90.00"),
    ]
    invoiced = {
        "2026-03": ("INV-U1", "2026-04-01", "Paid"),
        "2026-04": ("INV-U2", "2026-05-01", "Paid"),
    }
    invoiced["2026-05"] = ("INV-U3", "2026-06-01", "Posted")
    line = sub_line(
        *("SCHG-01", "Monthly", "0.10", 0.0, "0.00", "2026-03-01", "2026-12-31", "PR-00004"),
        charge_type="Usage based",
        quantity=0.0,
    )
    invoices = []
    for month, _, amount in rated:
        number, day, status = invoiced[month]
        paid, balance = (amount, "0.00") if status == "Paid" else ("0.00", amount)
        usage_line = invoice_line(
            "1", amount, "0.00", f"{month}-01", "S-U1", "SCHG-01", "usage_based", month_end(month)
        )
        invoices.append(
            invoice(
                *(number, "C-U1", day, f"{day[:8]}28"),
                *(amount, "0.00", amount, paid, balance, status),
                lines=[usage_line],
            )
        )
    return {
        "revenue_rules": revenue_rules(["PR-00004"]),
        "customers": [customer("C-U1", "Usage only")],
        "subscriptions": [subscription("S-U1", "C-U1", "2026-03-01", [line])],
        "billing_schedules": [
            billing_schedule(
                *("BS-U1", "C-U1", "S-U1", "SCHG-01", "Usage Based", "2026-03-01", "2026-12-31"),
                [
                    bs_line(i + 1, f"{m}-01", month_end(m), "0.10", "0.10", amount, quantity)
                    for i, (m, quantity, amount) in enumerate(rated)
                ],
            )
        ],
        "revenue_schedules": [
            revenue_schedule(
                *("RS-U1", "C-U1", "S-U1", "SCHG-01", "360.00", "2026-03-01", "2026-05-31"),
                [(period(m), amount) for m, _, amount in rated],
                charge_type="Usage Based",
            )
        ],
        "invoices": invoices,
        "usages": [
            {
                "id": f"U-{i:05d}",
                "customer_id": "C-U1",
                "subscription_id": "S-U1",
                "subscription_line_id": "SCHG-01",
                "charge_id": "CHG-00001",
                "quantity": quantity,
                "date": f"{m}-15",
                "unit_of_measure": "API calls",
                "invoiced": True,
            }
            for i, (m, quantity, _) in enumerate(rated, start=1)
        ],
        "products": [product("PR-00004")],
    }


def one_customer() -> Tenant:
    """C-1: $100 a month, 2025-01-01..2026-12-31, Straight-line revenue of 100.00 a month
    (posted through June 2026), invoiced monthly and paid through June 2026."""
    term = months("2025-01", 24)
    billed = term[:18]
    line = sub_line(
        "SCHG-01", "Monthly", "100.00", 0.0, "100.00", "2025-01-01", "2026-12-31", "PR-00002"
    )
    return {
        "revenue_rules": revenue_rules(),
        "customers": [customer("C-1", "The only customer")],
        "subscriptions": [subscription("S-1", "C-1", "2025-01-01", [line])],
        "billing_schedules": [
            billing_schedule(
                *("BS-1", "C-1", "S-1", "SCHG-01", "Recurring", "2025-01-01", "2026-12-31"),
                [
                    bs_line(i + 1, f"{m}-01", month_end(m), "100.00", "100.00", "100.00")
                    for i, m in enumerate(term)
                ],
            )
        ],
        "revenue_schedules": [
            revenue_schedule(
                *("RS-1", "C-1", "S-1", "SCHG-01", "2400.00", "2025-01-01", "2026-12-31"),
                [(period(m), "100.00", "Yes" if m in billed else "No") for m in term],
            )
        ],
        "invoices": [
            invoice(
                *(f"INV-{m}", "C-1", f"{m}-01", month_end(m)),
                *("100.00", "0.00", "100.00", "100.00", "0.00", "Paid", "S-1", "SCHG-01"),
            )
            for m in billed
        ],
        "payments": [payment("PMT-1", "C-1", "2025-01-02", "100.00", "INV-2025-01")],
        "products": [product("PR-00002")],
    }
