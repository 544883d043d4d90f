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

from collections.abc import Callable
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


def one_customer(unposted: frozenset[str] = frozenset()) -> Tenant:
    """C-1: $100 a month, 2025-01-01..2026-12-31, Straight-line revenue of 100.00 a month
    (posted through June 2026, except the months "YYYY-MM" in ``unposted``), invoiced monthly
    and paid through June 2026."""
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
                [
                    (period(m), "100.00", "Yes" if m in billed and m not in unposted else "No")
                    for m in term
                ],
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


# Large amounts (issue #12): 15 integer digits in USD, a three-year contract of about 1e11 IDR
# at a rate of 0.0000612345 USD per IDR, and KWD (rate above 1) with 14 integer digits.
MAX_USD = "999999999999999.99"
IDR_CONTRACT = "123456789012.34"
IDR_RATE = "0.0000612345"
IDR_INVOICE_RATE = "0.0000610001"
KWD_MONTHLY = "99999999999999.99"
KWD_RATE = "3.2571234567"
LARGE_AS_OF = "2026-06-30"


def large_amounts(recognize: Callable[[str, str, str, str], list[tuple[str, str, str]]]) -> Tenant:
    """Three customers with amounts at the limits. ``recognize(method, amount, start, end)``
    gives a schedule's posted lines as (financial_period, amount) (the tests pass the sandbox's
    Decimal engine, ordway_sandbox/recognition.py).

    - C-MAX (USD): two annual lines of 999,999,999,999,999.99 (2025 and 2026), Exact Days,
      each invoiced on January 1st (the 2026 invoice is still open).
    - C-IDR (IDR): one "3 Years" line of 123,456,789,012.34 from 2025-03-15 to 2028-03-14,
      Straight-line, invoiced upfront at the invoice's rate 0.0000610001; the subscription and
      its revenue lines carry 0.0000612345.
    - C-KWD (KWD): a monthly line of 99,999,999,999,999.99 from January to June 2026 at
      3.2571234567 USD per KWD, Straight-line, invoiced monthly.
    """
    max_lines = [("SCHG-01", "2025-01-01", "2025-12-31"), ("SCHG-02", "2026-01-01", "2026-12-31")]
    kwd_months = months("2026-01", 6)
    kwd_total = "599999999999999.94"
    return {
        "revenue_rules": revenue_rules(),
        "customers": [
            customer("C-MAX", "Largest USD"),
            customer("C-IDR", "Rupiah", "IDR"),
            customer("C-KWD", "Dinar", "KWD"),
        ],
        "subscriptions": [
            subscription(
                "S-MAX",
                "C-MAX",
                "2025-01-01",
                [
                    sub_line(line, "Annually", MAX_USD, 0.0, MAX_USD, start, end, "PR-00001")
                    for line, start, end in max_lines
                ],
            ),
            subscription(
                "S-IDR",
                "C-IDR",
                "2025-03-15",
                [
                    sub_line(
                        *("SCHG-01", "3 Years", IDR_CONTRACT, 0.0, IDR_CONTRACT),
                        *("2025-03-15", "2028-03-14", "PR-00002"),
                    )
                ],
                currency="IDR",
                exchange_rate=float(IDR_RATE),
            ),
            subscription(
                "S-KWD",
                "C-KWD",
                "2026-01-01",
                [
                    sub_line(
                        *("SCHG-01", "Monthly", KWD_MONTHLY, 0.0, KWD_MONTHLY),
                        *("2026-01-01", "2026-06-30", "PR-00002"),
                    )
                ],
                currency="KWD",
                exchange_rate=float(KWD_RATE),
            ),
        ],
        "billing_schedules": [
            billing_schedule(
                *(f"BS-MAX-{i}", "C-MAX", "S-MAX", line, "Recurring", start, end),
                [bs_line(1, start, end, MAX_USD, MAX_USD, MAX_USD)],
            )
            for i, (line, start, end) in enumerate(max_lines, start=1)
        ]
        + [
            billing_schedule(
                *("BS-IDR", "C-IDR", "S-IDR", "SCHG-01", "Recurring", "2025-03-15", "2028-03-14"),
                [bs_line(1, "2025-03-15", "2028-03-14", *(IDR_CONTRACT,) * 3)],
                currency="IDR",
            ),
            billing_schedule(
                *("BS-KWD", "C-KWD", "S-KWD", "SCHG-01", "Recurring", "2026-01-01", "2026-06-30"),
                [
                    bs_line(i + 1, f"{m}-01", month_end(m), *(KWD_MONTHLY,) * 3)
                    for i, m in enumerate(kwd_months)
                ],
                currency="KWD",
            ),
        ],
        "revenue_schedules": [
            revenue_schedule(
                *(f"RS-MAX-{i}", "C-MAX", "S-MAX", line, MAX_USD, start, end),
                recognize("Exact Days, Prorated", MAX_USD, start, end),
            )
            for i, (line, start, end) in enumerate(max_lines, start=1)
        ]
        + [
            revenue_schedule(
                *("RS-IDR", "C-IDR", "S-IDR", "SCHG-01", IDR_CONTRACT, "2025-03-15", "2028-03-14"),
                recognize("Straight-line, Prorated", IDR_CONTRACT, "2025-03-15", "2028-03-14"),
                currency="IDR",
                exchange_rate=float(IDR_RATE),
            ),
            revenue_schedule(
                *("RS-KWD", "C-KWD", "S-KWD", "SCHG-01", kwd_total, "2026-01-01", "2026-06-30"),
                recognize("Straight-line, Prorated", kwd_total, "2026-01-01", "2026-06-30"),
                currency="KWD",
                exchange_rate=float(KWD_RATE),
            ),
        ],
        "invoices": [
            invoice(
                *("INV-MAX-1", "C-MAX", "2025-01-01", "2025-01-31", MAX_USD, "0.00", MAX_USD),
                *(MAX_USD, "0.00", "Paid", "S-MAX", "SCHG-01"),
            ),
            invoice(
                *("INV-MAX-2", "C-MAX", "2026-01-01", "2026-01-31", MAX_USD, "0.00", MAX_USD),
                *("0.00", MAX_USD, "Posted", "S-MAX", "SCHG-02"),
            ),
            invoice(
                *("INV-IDR", "C-IDR", "2025-03-15", "2025-04-14", IDR_CONTRACT, "0.00"),
                *(IDR_CONTRACT, IDR_CONTRACT, "0.00", "Paid", "S-IDR", "SCHG-01"),
                currency="IDR",
                exchange_rate=float(IDR_INVOICE_RATE),
            ),
        ]
        + [
            invoice(
                *(f"INV-KWD-{m}", "C-KWD", f"{m}-01", month_end(m), KWD_MONTHLY, "0.00"),
                *(KWD_MONTHLY, KWD_MONTHLY, "0.00", "Paid", "S-KWD", "SCHG-01"),
                currency="KWD",
                exchange_rate=float(KWD_RATE),
            )
            for m in kwd_months
        ],
        "products": [product()],
    }


def long_horizon() -> Tenant:
    """C-L: a 22-year contract, 2026-01-01..2047-12-31, $100 a month (Straight-line revenue of
    100.00 a month, one billing line a month), posted and invoiced through June 2026."""
    term = months("2026-01", 22 * 12)
    billed = term[:6]
    line = sub_line(
        "SCHG-01", "Monthly", "100.00", 0.0, "100.00", "2026-01-01", "2047-12-31", "PR-00002"
    )
    return {
        "revenue_rules": revenue_rules(),
        "customers": [customer("C-L", "Long contract")],
        "subscriptions": [subscription("S-L", "C-L", "2026-01-01", [line])],
        "billing_schedules": [
            billing_schedule(
                *("BS-L", "C-L", "S-L", "SCHG-01", "Recurring", "2026-01-01", "2047-12-31"),
                [
                    bs_line(i + 1, f"{m}-01", month_end(m), "100.00", "100.00", "100.00")
                    for i, m in enumerate(term)
                ],
            )
        ],
        "revenue_schedules": [
            revenue_schedule(
                *("RS-L", "C-L", "S-L", "SCHG-01", "26400.00", "2026-01-01", "2047-12-31"),
                [(period(m), "100.00", "Yes" if m in billed else "No") for m in term],
            )
        ],
        "invoices": [
            invoice(
                *(f"INV-L-{m}", "C-L", f"{m}-01", month_end(m)),
                *("100.00", "0.00", "100.00", "100.00", "0.00", "Paid", "S-L", "SCHG-01"),
            )
            for m in billed
        ],
    }


def multi_currency(
    missing_rate: str | None = None,
    eur_rate: float = 1.1,
    usd_rate: float | None = 1.0,
    extra_customers: tuple[tuple[str, str, float], ...] = (),
) -> Tenant:
    """C-USD bills $100 a month and C-EUR 200 EUR a month (rate ``eur_rate`` on every EUR
    document) from April 2026, with revenue lines and invoices through June 2026.
    ``missing_rate`` ("invoice", "subscription" or "revenue line") leaves the exchange rate off
    that EUR document (the May invoice, the subscription, the May revenue line); ``usd_rate``
    None leaves it off every USD document. ``extra_customers`` adds (customer, currency, rate)
    customers with one June invoice of 50.00 each."""
    term = months("2026-04", 3)
    tenant: Tenant = {
        "revenue_rules": revenue_rules(),
        "customers": [customer("C-USD", "Dollars"), customer("C-EUR", "Euros", "EUR")],
        "subscriptions": [],
        "billing_schedules": [],
        "revenue_schedules": [],
        "invoices": [],
    }
    for cid, currency, amount, rate in (
        ("C-USD", "USD", "100.00", usd_rate),
        ("C-EUR", "EUR", "200.00", eur_rate),
    ):
        sid = f"S-{currency}"
        line = sub_line(
            "SCHG-01", "Monthly", amount, 0.0, amount, "2026-04-01", "2026-06-30", "PR-00002"
        )
        sub_rate = None if missing_rate == "subscription" and currency == "EUR" else rate
        tenant["subscriptions"].append(
            subscription(sid, cid, "2026-04-01", [line], currency, sub_rate)
        )
        tenant["billing_schedules"].append(
            billing_schedule(
                *(f"BS-{currency}", cid, sid, "SCHG-01", "Recurring", "2026-04-01", "2026-06-30"),
                [
                    bs_line(i + 1, f"{m}-01", month_end(m), amount, amount, amount)
                    for i, m in enumerate(term)
                ],
                currency=currency,
            )
        )
        for m in term:
            gap = missing_rate == "revenue line" and currency == "EUR" and m == "2026-05"
            tenant["revenue_schedules"].append(
                revenue_schedule(
                    *(f"RS-{currency}-{m}", cid, sid, "SCHG-01", amount, f"{m}-01", month_end(m)),
                    [(period(m), amount)],
                    currency=currency,
                    exchange_rate=None if gap else rate,
                )
            )
            gap = missing_rate == "invoice" and currency == "EUR" and m == "2026-05"
            tenant["invoices"].append(
                invoice(
                    *(f"INV-{currency}-{m}", cid, f"{m}-01", month_end(m)),
                    *(amount, "0.00", amount, amount, "0.00", "Paid", sid, "SCHG-01"),
                    currency=currency,
                    exchange_rate=None if gap else rate,
                )
            )
    for cid, currency, rate in extra_customers:
        tenant["customers"].append(customer(cid, cid, currency))
        tenant["invoices"].append(
            invoice(
                *(f"INV-{cid}", cid, "2026-06-01", "2026-06-30"),
                *("50.00", "0.00", "50.00", "0.00", "50.00", "Posted"),
                currency=currency,
                exchange_rate=rate,
            )
        )
    return tenant
