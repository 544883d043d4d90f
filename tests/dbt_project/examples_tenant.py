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

from tests.dbt_project.raw_records import (
    billing_schedule,
    bs_line,
    customer,
    invoice,
    payment,
    product,
    revenue_rules,
    revenue_schedule,
    sub_line,
    subscription,
)

AS_OF = "2027-04-30"
DELETED_SUBSCRIPTION = "S-00004"

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


def build_examples_tenant() -> dict[str, list[dict[str, Any]]]:
    """The tenant dict, shaped like build_tenant's output."""
    rules = revenue_rules(("PR-00001", "PR-00002", "PR-00003"))

    # E2
    subs = [
        subscription(
            "S-00001",
            "C-00001",
            "2026-03-15",
            [
                sub_line(
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
        billing_schedule(
            "BS-00001",
            "C-00001",
            "S-00001",
            "SCHG-01",
            "Recurring",
            "2026-03-15",
            "2027-03-14",
            [bs_line(1, "2026-03-15", "2027-03-14", "12000.00", "12000.00", "12000.00")],
        )
    ]
    revenue = [
        revenue_schedule(
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
        invoice(
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
        subscription(
            "S-00002",
            "C-00002",
            "2026-04-01",
            [
                sub_line(
                    "SCHG-01",
                    "Monthly",
                    "500.00",
                    10.0,
                    "450.00",
                    "2026-04-01",
                    "2026-06-30",
                    "PR-00002",
                ),
                sub_line(
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
            billing_schedule(
                bs_id,
                "C-00002",
                "S-00002",
                line_id,
                "Recurring",
                first,
                last,
                [
                    bs_line(i + 1, f"{m}-01", f"{m}-{LAST_DAY[m[5:]]}", net, "500.00", net)
                    for i, m in enumerate(months)
                ],
            )
        )
        total = f"{len(months) * float(net):.2f}"
        revenue.append(
            revenue_schedule(
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
                invoice(
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
        subscription(
            "S-00003",
            "C-00003",
            "2026-05-20",
            [
                sub_line(
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
        billing_schedule(
            "BS-00004",
            "C-00003",
            "S-00003",
            "SCHG-01",
            "One Time",
            "2026-05-20",
            "2026-05-20",
            [bs_line(1, "2026-05-20", "2026-05-20", "300.00", "300.00", "300.00")],
        )
    )
    revenue.append(
        revenue_schedule(
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
        invoice(
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
        invoice(
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
        invoice(
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
        subscription(
            DELETED_SUBSCRIPTION,
            "C-00004",
            "2026-01-01",
            [
                sub_line(
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
        billing_schedule(
            "BS-00005",
            "C-00004",
            DELETED_SUBSCRIPTION,
            "SCHG-01",
            "Recurring",
            "2026-01-01",
            "2026-12-31",
            [bs_line(1, "2026-01-01", "2026-12-31", "100.00", "100.00", "1200.00")],
        )
    )

    return {
        "revenue_rules": rules,
        "customers": [
            customer("C-00001", "E2 Annual"),
            customer("C-00002", "E3 Monthly"),
            customer("C-00003", "Reversal"),
            customer("C-00004", "Deleted"),
        ],
        "subscriptions": subs,
        "billing_schedules": billing,
        "revenue_schedules": revenue,
        "invoices": invoices,
        "payments": [payment("PMT-00001", "C-00001", "2026-03-20", "12000.00", "INV-00001")],
        "products": [product()],
    }
