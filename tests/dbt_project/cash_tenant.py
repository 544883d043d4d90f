"""A hand-written raw tenant for cash, credits and receivables (revenue-rules.md §9), as of
2026-06-30. Every figure is typed here from the rules, never computed by the models.

- C-CASH (USD) and C-EUR (EUR): worked example E6 of revenue-rules.md §9, document by document.
- C-GBP (GBP): the traps: a payment applied to two invoices in two months and partly refunded
  a later month, a Pending, a Reversed and two Failed payments (one of them listing an
  application), an application without a date, a payment after the as-of date, a credit issued
  in one month and applied in another, a Reversed credit, a credit applied to a Draft invoice,
  Succeeded refunds of a payment, of a credit and standalone, a Failed refund, a negative
  invoice refunded, an invoice whose balance was written off without an application (the one
  invoice the roll-forward check must report), and debit memos Open, partly paid, Paid, Void,
  reversed and dated after the as-of date.
"""

from __future__ import annotations

from typing import Any

from tests.dbt_project.raw_records import (
    credit,
    customer,
    debit_memo,
    invoice,
    payment_record,
    refund,
)

AS_OF = "2026-06-30"
#: The one invoice whose balance does not follow its applications (written off in Ordway).
WRITTEN_OFF = "INV-WO"


def e6() -> dict[str, list[dict[str, Any]]]:
    """Worked example E6, exactly as revenue-rules.md §9 states it."""
    return {
        "customers": [customer("C-CASH", "Cash USD"), customer("C-EUR", "Cash EUR", "EUR")],
        "invoices": [
            invoice(
                *("INV-A", "C-CASH", "2026-04-01", "2026-05-01"),
                *("1000.00", "80.00", "1080.00", "1080.00", "0.00", "Paid"),
            ),
            invoice(
                *("INV-B", "C-CASH", "2026-05-01", "2026-05-31"),
                *("500.00", "40.00", "540.00", "300.00", "186.00", "Partially paid"),
            ),
            invoice(
                *("INV-D", "C-CASH", "2026-06-20", "2026-07-20"),
                *("999.00", "0.00", "999.00", "0.00", "999.00", "Draft"),
            ),
            invoice(
                *("INV-E", "C-EUR", "2026-06-01", "2026-07-01"),
                *("500.00", "100.00", "600.00", "0.00", "600.00", "Posted"),
                currency="EUR",
                exchange_rate=1.1,
            ),
        ],
        "payments": [
            payment_record("PMT-A1", "C-CASH", "2026-04-20", "1080.00", "Failed"),
            payment_record(
                *("PMT-A2", "C-CASH", "2026-04-27", "1080.00", "Processed"),
                [("INV-A", "1080.00", "2026-04-27")],
            ),
            payment_record(
                *("PMT-C", "C-CASH", "2026-05-05", "200.00", "Refunded"), refunded="200.00"
            ),
            payment_record(
                *("PMT-B", "C-CASH", "2026-06-15", "300.00", "Processed"),
                [("INV-B", "300.00", "2026-06-15")],
            ),
            payment_record("PMT-E1", "C-EUR", "2026-06-05", "600.00", "Failed", currency="EUR"),
            payment_record("PMT-E2", "C-EUR", "2026-06-12", "600.00", "Failed", currency="EUR"),
        ],
        "credits": [
            credit(
                "CR-B",
                "C-CASH",
                "2026-05-10",
                "54.00",
                applications=[("INV-B", "54.00", "2026-06-03")],
            )
        ],
        "refunds": [refund("REF-C", "C-CASH", "2026-06-08", "200.00", payment_id="PMT-C")],
        "debit_memos": [
            debit_memo(
                *("DM-1", "C-CASH", "2026-05-15"),
                *("100.00", "8.00", "108.00", "0.00", "108.00"),
            )
        ],
    }


def gbp_traps() -> dict[str, list[dict[str, Any]]]:
    """C-GBP's documents (see the module docstring)."""
    gbp = {"currency": "GBP"}
    return {
        "customers": [customer("C-GBP", "Traps GBP", "GBP")],
        "invoices": [
            invoice(
                *("INV-G1", "C-GBP", "2026-02-10", "2026-03-12"),
                *("1234.56", "246.91", "1481.47", "745.74", "635.73", "Partially paid"),
                exchange_rate=1.27,
                **gbp,
            ),
            invoice(
                *("INV-G2", "C-GBP", "2026-03-01", "2026-03-31"),
                *("333.33", "66.67", "400.00", "399.99", "0.01", "Partially paid"),
                exchange_rate=1.27,
                **gbp,
            ),
            invoice(
                *("INV-G3", "C-GBP", "2026-05-10", "2026-06-09"),
                *("-200.00", "-40.00", "-240.00", "-240.00", "0.00", "Paid"),
                exchange_rate=1.27,
                **gbp,
            ),
            invoice(
                *(WRITTEN_OFF, "C-GBP", "2026-04-20", "2026-05-20"),
                *("99.99", "0.00", "99.99", "0.00", "0.00", "Paid"),
                exchange_rate=1.27,
                **gbp,
            ),
            invoice(
                *("INV-GD", "C-GBP", "2026-06-01", "2026-07-01"),
                *("500.00", "0.00", "500.00", "0.00", "500.00", "Draft"),
                exchange_rate=1.27,
                **gbp,
            ),
        ],
        "payments": [
            payment_record(
                *("PMT-G1", "C-GBP", "2026-02-20", "1100.00", "Partially refunded"),
                [("INV-G1", "740.74", "2026-02-20"), ("INV-G2", "259.26", "2026-03-03")],
                refunded="100.00",
                **gbp,
            ),
            payment_record("PMT-G2", "C-GBP", "2026-03-15", "50.00", "Pending", **gbp),
            payment_record("PMT-G3", "C-GBP", "2026-04-01", "77.77", "Reversed", **gbp),
            payment_record("PMT-G4", "C-GBP", "2026-04-05", "400.00", "Failed", **gbp),
            payment_record(
                *("PMT-G5", "C-GBP", "2026-04-30", "400.00", "Failed"),
                [("INV-G2", "400.00", "2026-04-30")],
                **gbp,
            ),
            payment_record(
                *("PMT-G6", "C-GBP", "2026-05-01", "140.73", "Processed"),
                [("INV-G2", "140.73", None)],
                **gbp,
            ),
            payment_record(
                *("PMT-G7", "C-GBP", "2026-07-02", "5.00", "Processed"),
                [("INV-G1", "5.00", "2026-07-02")],
                **gbp,
            ),
        ],
        "credits": [
            credit(
                *("CR-G1", "C-GBP", "2026-03-20", "150.00"),
                applications=[("INV-G1", "100.00", "2026-04-02")],
                **gbp,
            ),
            credit(
                *("CR-G2", "C-GBP", "2026-04-10", "20.00", "Reversed"),
                applications=[("INV-G2", "20.00", "2026-04-10")],
                **gbp,
            ),
            credit(
                *("CR-G3", "C-GBP", "2026-05-05", "10.01"),
                applications=[("INV-GD", "10.01", "2026-06-01")],
                **gbp,
            ),
        ],
        "refunds": [
            refund("REF-G1", "C-GBP", "2026-05-02", "100.00", payment_id="PMT-G1", **gbp),
            refund("REF-G2", "C-GBP", "2026-05-20", "25.50", credit_id="CR-G1", **gbp),
            refund("REF-G3", "C-GBP", "2026-06-01", "9.99", "Failed", payment_id="PMT-G1", **gbp),
            refund("REF-G4", "C-GBP", "2026-06-03", "12.34", **gbp),
            refund("REF-G5", "C-GBP", "2026-05-25", "240.00", invoice_id="INV-G3", **gbp),
        ],
        "debit_memos": [
            debit_memo(
                *("DM-G1", "C-GBP", "2026-01-31", "50.00", "10.00", "60.00", "0.00", "60.00"),
                **gbp,
            ),
            debit_memo(
                *("DM-G2", "C-GBP", "2026-03-01", "25.00", "5.00", "30.00", "30.00", "0.00"),
                status="Paid",
                **gbp,
            ),
            debit_memo(
                *("DM-G3", "C-GBP", "2026-03-01", "25.00", "5.00", "30.00", "0.00", "30.00"),
                status="Void",
                **gbp,
            ),
            debit_memo(
                *("DM-G4", "C-GBP", "2026-03-01", "25.00", "5.00", "30.00", "0.00", "30.00"),
                reversed_on="2026-04-01",
                **gbp,
            ),
            debit_memo(
                *("DM-G5", "C-GBP", "2026-06-29", "10.00", "2.00", "12.00", "6.00", "6.00"),
                **gbp,
            ),
            debit_memo(
                *("DM-G6", "C-GBP", "2026-07-05", "10.00", "2.00", "12.00", "0.00", "12.00"),
                **gbp,
            ),
        ],
    }


def build_cash_tenant() -> dict[str, list[dict[str, Any]]]:
    tenant: dict[str, list[dict[str, Any]]] = {}
    for part in (e6(), gbp_traps()):
        for collection, records in part.items():
            tenant.setdefault(collection, []).extend(records)
    return tenant
