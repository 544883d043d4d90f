"""Cash, credits and receivables (revenue-rules.md §9) through `dbt build` on a hand-written raw
tenant (tests/dbt_project/cash_tenant.py): worked example E6 comes out exactly as the page
states it, and every row of fct_cash_monthly and fct_ar_aging equals an oracle written with
Decimal from the rules and the tenant's documents (tests/support/oracles.py), never from the
SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from tests.dbt_project import cash_tenant
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import BuiltTenant, run_dbt
from tests.support.oracles import (
    CASH_FIGURES,
    cash_monthly,
    invoices_off_their_applications,
    open_ar,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_cash")]

D = Decimal
AS_OF = date.fromisoformat(cash_tenant.AS_OF)
FIGURE_LIST = ", ".join(CASH_FIGURES)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltTenant]:
    workdir = tmp_path_factory.mktemp("dbt_cash")
    tenant = cash_tenant.build_cash_tenant()
    load_tenant(tenant, workdir / "ordway.duckdb", workdir / "dlt")
    run = run_dbt("build", workdir / "ordway.duckdb", workdir, AS_OF.isoformat())
    yield BuiltTenant(workdir / "ordway.duckdb", tenant, run)


def test_dbt_build_passes_and_the_roll_forward_check_warns_about_the_written_off_invoice(
    built: BuiltTenant,
) -> None:
    assert built.run.failures() == [], built.run.output[-4000:]
    statuses = built.run.statuses("test.ordway_revenue.assert_")
    assert statuses["test.ordway_revenue.assert_no_draft_invoice_counts_in_a_mart"] == "pass"
    check = "test.ordway_revenue.assert_invoice_balances_follow_their_applications"
    assert statuses[check] == "warn"
    (result,) = [r for r in built.run.results if r["unique_id"] == check]
    assert result["failures"] == 1
    assert invoices_off_their_applications(built.tenant) == {cash_tenant.WRITTEN_OFF}


def test_e6_cash_by_month_comes_out_as_revenue_rules_states_it(built: BuiltTenant) -> None:
    rows = built.rows(
        f"select month, customer_id, currency, {FIGURE_LIST} from marts.fct_cash_monthly "
        "where customer_id in ('C-CASH', 'C-EUR') order by customer_id, month"
    )
    zero = D("0")
    assert rows == [
        (
            *(date(2026, 4, 1), "C-CASH", "USD", D("1080.00"), zero, D("1080.00")),
            *(D("1080.00"), zero, zero, 1, D("1080.00")),
        ),
        (
            *(date(2026, 5, 1), "C-CASH", "USD", D("200.00"), zero, D("200.00")),
            *(zero, D("54.00"), zero, 0, zero),
        ),
        (
            *(date(2026, 6, 1), "C-CASH", "USD", D("300.00"), D("200.00"), D("100.00")),
            *(D("300.00"), zero, D("54.00"), 0, zero),
        ),
        (date(2026, 6, 1), "C-EUR", "EUR", zero, zero, zero, zero, zero, zero, 2, D("1200.00")),
    ]


def test_e6_open_ar_holds_the_debit_memo_and_never_the_draft_or_paid_invoice(
    built: BuiltTenant,
) -> None:
    rows = built.rows(
        "select invoice_id, document_type, currency, balance, due_date, days_past_due, "
        "aging_bucket from marts.fct_ar_aging where customer_id in ('C-CASH', 'C-EUR') "
        "order by invoice_id"
    )
    assert rows == [
        ("DM-1", "debit_memo", "USD", D("108.00"), date(2026, 5, 15), 46, "31-60"),
        ("INV-B", "invoice", "USD", D("186.00"), date(2026, 5, 31), 30, "1-30"),
        ("INV-E", "invoice", "EUR", D("600.00"), date(2026, 7, 1), -1, "current"),
    ]
    assert built.rows(
        "select currency, sum(balance) from marts.fct_ar_aging "
        "where customer_id in ('C-CASH', 'C-EUR') group by 1 order by 1"
    ) == [("EUR", D("600.00")), ("USD", D("294.00"))]
    assert built.rows(
        "select customer_id, month, billings from marts.fct_deferred_revenue "
        "where customer_id in ('C-CASH', 'C-EUR') order by 1, 2"
    ) == [
        ("C-CASH", date(2026, 4, 1), D("1000.00")),
        ("C-CASH", date(2026, 5, 1), D("500.00")),
        ("C-CASH", date(2026, 6, 1), D("0")),
        ("C-EUR", date(2026, 6, 1), D("500.00")),
    ]


def test_e6_invoices_roll_forward_from_invoiced_to_their_balances(built: BuiltTenant) -> None:
    ((applied, credited, refunded),) = built.rows(
        "select sum(payments_applied), sum(credits_applied), sum(payments_refunded) "
        "from marts.fct_cash_monthly where customer_id = 'C-CASH'"
    )
    invoiced = D("1080.00") + D("540.00")
    assert (applied, credited) == (D("1380.00"), D("54.00"))
    assert refunded == D("200.00")  # of PMT-C: never applied, never AR
    (open_invoices,) = built.rows(
        "select sum(balance) from marts.fct_ar_aging "
        "where customer_id = 'C-CASH' and document_type = 'invoice'"
    )[0]
    assert invoiced - applied - credited == open_invoices == D("186.00")


def test_every_cash_row_equals_the_decimal_oracle(built: BuiltTenant) -> None:
    expected = cash_monthly(built.tenant, AS_OF)
    actual = {
        (month, customer, currency): dict(zip(CASH_FIGURES, values, strict=True))
        for month, customer, currency, *values in built.rows(
            f"select month, customer_id, currency, {FIGURE_LIST} from marts.fct_cash_monthly"
        )
    }
    assert actual == expected
    # the traps, typed from the rules: PMT-G1 applied in February and March, refunded in May
    gbp = {key[0]: row for key, row in actual.items() if key[1] == "C-GBP"}
    assert gbp[date(2026, 2, 1)]["payments_applied"] == D("740.74")
    assert gbp[date(2026, 3, 1)]["payments_applied"] == D("259.26")
    assert gbp[date(2026, 3, 1)]["credits_issued"] == D("150.00")
    assert gbp[date(2026, 4, 1)]["credits_applied"] == D("100.00")  # CR-G2 Reversed: not
    assert gbp[date(2026, 4, 1)]["failed_payment_attempts"] == 2
    assert gbp[date(2026, 4, 1)]["failed_payment_amount"] == D("800.00")
    assert gbp[date(2026, 4, 1)]["payments_received"] == D("0")  # Pending, Reversed, Failed
    assert gbp[date(2026, 5, 1)]["payments_applied"] == D("140.73")  # undated: its payment's
    assert gbp[date(2026, 5, 1)]["payments_refunded"] == D("100.00") + D("25.50") + D("240.00")
    assert gbp[date(2026, 5, 1)]["credits_applied"] == D("0")  # CR-G3 went to a Draft
    assert gbp[date(2026, 6, 1)]["payments_refunded"] == D("12.34")  # REF-G3 Failed: not
    assert date(2026, 7, 1) not in gbp  # PMT-G7: after the as-of date


def test_cash_received_equals_the_cash_collected_of_fct_payments(built: BuiltTenant) -> None:
    assert built.rows(
        "select currency, sum(payments_received) from marts.fct_cash_monthly group by 1 "
        "having sum(payments_received) <> 0 order by 1"
    ) == built.rows(
        "select currency, sum(payment_amount) from marts.fct_payments "
        f"where is_collected and payment_date <= '{AS_OF}' group by 1 order by 1"
    )


def test_every_open_invoice_and_debit_memo_equals_the_decimal_oracle(built: BuiltTenant) -> None:
    actual = set(
        built.rows(
            "select invoice_id, document_type, customer_id, currency, balance, due_date, "
            "days_past_due, aging_bucket from marts.fct_ar_aging"
        )
    )
    assert actual == open_ar(built.tenant, AS_OF)
    gbp = {row[0]: row for row in actual if row[2] == "C-GBP"}
    assert set(gbp) == {"INV-G1", "INV-G2", "DM-G1", "DM-G5"}
    assert gbp["DM-G1"][5:] == (date(2026, 1, 31), 150, "90+")
    assert gbp["DM-G5"][4:] == (D("6.00"), date(2026, 6, 29), 1, "1-30")
    assert gbp["INV-G2"][4] == D("0.01")


def test_the_presentation_tables_hold_the_new_rows_at_cents(built: BuiltTenant) -> None:
    assert built.rows(
        "select invoice_id, document_type, balance from marts.bi_ar_aging "
        "where customer_id = 'C-GBP' order by 1"
    ) == [
        ("DM-G1", "debit_memo", D("60.00")),
        ("DM-G5", "debit_memo", D("6.00")),
        ("INV-G1", "invoice", D("635.73")),
        ("INV-G2", "invoice", D("0.01")),
    ]
    exact = built.rows("select * from marts.fct_cash_monthly order by 1, 2, 3")
    cents = [
        tuple(v.quantize(D("0.01")) if isinstance(v, Decimal) else v for v in row) for row in exact
    ]
    assert built.rows("select * from marts.bi_cash_monthly order by 1, 2, 3") == cents
