"""`dbt build` on tenants that do not use every Ordway module (tests/dbt_project/
shaped_tenants.py): a raw table that was never created reads as empty, every model builds,
every data, unit and identity test passes, and each mart holds exactly the rows its documented
grain implies (an unused module gives an empty mart).

Every expected figure is typed from the tenant's documents and revenue-rules.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.dbt_project import shaped_tenants
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import DbtRun, assert_build_passed, query, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_shapes")]

D = Decimal
AS_OF = shaped_tenants.AS_OF
MARTS = (
    "fct_revenue_monthly",
    "fct_revenue_backlog",
    "fct_deferred_revenue",
    "fct_mrr",
    "fct_arr_movements",
    "fct_retention",
    "fct_ar_aging",
    "dim_customers",
    "dim_subscriptions",
    "fct_invoice_lines",
    "fct_payments",
    "fct_cash_monthly",
    "fct_revenue_reconciliation",
    "rpt_customer_mrr_tieout",
    "rpt_revenue_schedule_tieout",
)
NO_ROWS = dict.fromkeys(MARTS, 0)


class Built:
    def __init__(self, duckdb_path: Path, run: DbtRun) -> None:
        self.duckdb_path = duckdb_path
        self.run = run

    def rows(self, sql: str) -> list[tuple]:
        return query(self.duckdb_path, sql)

    def counts(self) -> dict[str, int]:
        return {mart: self.rows(f"select count(*) from marts.{mart}")[0][0] for mart in MARTS}


def build(
    workdir: Path,
    tenant: dict | None,
    prepare: Callable[[Path], None] | None = None,
) -> Built:
    """Load `tenant` (None: no raw schema at all), apply `prepare` to the file, `dbt build`."""
    duckdb_path = workdir / "ordway.duckdb"
    if tenant is not None:
        load_tenant(tenant, duckdb_path, workdir / "dlt")
    if prepare is not None:
        prepare(duckdb_path)
    run = run_dbt("build", duckdb_path, workdir, AS_OF)
    assert_build_passed(run)
    return Built(duckdb_path, run)


def _raw_tables(duckdb_path: Path) -> set[str]:
    with duckdb.connect(str(duckdb_path)) as connection:
        return {
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'ordway_raw'"
            ).fetchall()
        }


def _spine_covers_the_default_horizon(built: Built) -> None:
    first, last = built.rows("select min(month), max(month) from intermediate.int_months")[0]
    assert (first, last) == (date(2000, 1, 1), date(2041, 6, 1))


def test_a_warehouse_without_any_raw_table_builds_every_mart_empty(tmp_path: Path) -> None:
    built = build(tmp_path, None)
    assert built.counts() == NO_ROWS
    _spine_covers_the_default_horizon(built)


def test_a_raw_schema_with_only_dlts_own_tables_builds_every_mart_empty(tmp_path: Path) -> None:
    built = build(tmp_path, {"customers": []})
    assert _raw_tables(built.duckdb_path) == {"_dlt_loads", "_dlt_pipeline_state", "_dlt_version"}
    assert built.counts() == NO_ROWS
    _spine_covers_the_default_horizon(built)


def _empty_subscriptions(duckdb_path: Path) -> None:
    """A subscriptions table that exists with zero rows (and a child table without rows)."""
    with duckdb.connect(str(duckdb_path)) as connection:
        connection.execute(
            "create table ordway_raw.subscriptions as select 'S-0' as id, 'C-B1' as customer_id, "
            "'x' as _dlt_load_id, 'x' as _dlt_id limit 0"
        )
        connection.execute(
            "create table ordway_raw.subscriptions__plans as select 'SCHG-01' as "
            "subscription_line_id, 'x' as _dlt_parent_id, 'x' as _dlt_id, "
            "0::bigint as _dlt_list_idx limit 0"
        )


def test_billing_only_gives_invoices_billings_and_ar_and_empty_subscription_marts(
    tmp_path: Path,
) -> None:
    built = build(tmp_path, shaped_tenants.billing_only(), _empty_subscriptions)
    assert built.counts() == {
        **NO_ROWS,
        "fct_deferred_revenue": 4,
        "fct_ar_aging": 2,
        "dim_customers": 2,
        "fct_invoice_lines": 4,
        "fct_payments": 1,
        "fct_cash_monthly": 1,
        "rpt_customer_mrr_tieout": 2,
    }
    assert built.rows(
        "select invoice_id, invoice_status, billed_amount, billed_amount_reporting "
        "from marts.fct_invoice_lines order by invoice_id"
    ) == [
        ("INV-B1", "Paid", D("1000.00"), D("1000.00")),
        ("INV-B2", "Posted", D("1000.00"), D("1000.00")),
        ("INV-B3", "Posted", D("500.00"), D("550.00")),
        ("INV-B4", "Draft", D("999.00"), D("1098.90")),
    ]
    assert built.rows(
        "select customer_id, currency, month, billings, recognized_revenue, closing_deferred "
        "from marts.fct_deferred_revenue order by customer_id, month"
    ) == [
        ("C-B1", "USD", date(2026, 4, 1), D("1000.00"), D("0"), D("1000.00")),
        ("C-B1", "USD", date(2026, 5, 1), D("1000.00"), D("0"), D("2000.00")),
        ("C-B1", "USD", date(2026, 6, 1), D("0"), D("0"), D("2000.00")),
        ("C-B2", "EUR", date(2026, 6, 1), D("500.00"), D("0"), D("500.00")),
    ]
    assert built.rows(
        "select invoice_id, document_type, balance, days_past_due, aging_bucket "
        "from marts.fct_ar_aging order by invoice_id"
    ) == [
        ("INV-B2", "invoice", D("1080.00"), 30, "1-30"),
        ("INV-B3", "invoice", D("600.00"), -10, "current"),
    ]
    assert built.rows(
        "select month, customer_id, currency, payments_received, payments_applied, "
        "payments_refunded, credits_issued, failed_payment_attempts from marts.fct_cash_monthly"
    ) == [(date(2026, 4, 1), "C-B1", "USD", D("1080.00"), D("1080.00"), D("0"), D("0"), 0)]
    assert built.rows(
        "select customer_id, first_mrr_month, current_mrr from marts.dim_customers order by 1"
    ) == [("C-B1", None, D("0")), ("C-B2", None, D("0"))]
    assert built.rows("select sum(abs(difference)) from marts.rpt_customer_mrr_tieout") == [
        (D("0"),)
    ]


def test_a_tenant_without_the_revenue_module_gives_mrr_arr_retention_and_billings(
    tmp_path: Path,
) -> None:
    built = build(tmp_path, shaped_tenants.no_revenue_module())
    assert built.counts() == {
        **NO_ROWS,
        "fct_deferred_revenue": 14 + 6,
        "fct_mrr": 14 + 6,
        "fct_arr_movements": 14,
        "fct_retention": 14,
        "dim_customers": 2,
        "dim_subscriptions": 2,
        "fct_invoice_lines": 16,
        "fct_payments": 1,
        "fct_cash_monthly": 1,
        "rpt_customer_mrr_tieout": 2,
    }
    mrr = built.rows(
        "select customer_id, count(*), min(month), max(month), min(mrr), max(mrr), "
        "count(*) filter (where movement = 'new'), count(*) filter (where movement = 'unchanged') "
        "from marts.fct_mrr group by 1 order by 1"
    )
    assert mrr == [
        ("C-N1", 14, date(2025, 5, 1), date(2026, 6, 1), D("200"), D("200"), 1, 13),
        ("C-N2", 6, date(2026, 1, 1), date(2026, 6, 1), D("110"), D("110"), 1, 5),
    ]
    arr = built.rows(
        "select month, opening_arr, new_arr, closing_arr, active_customers "
        "from marts.fct_arr_movements where month in ('2025-05-01', '2026-01-01', '2026-06-01') "
        "order by month"
    )
    assert arr == [
        (date(2025, 5, 1), D("0"), D("2400"), D("2400"), 1),
        (date(2026, 1, 1), D("2400"), D("1320"), D("3720"), 2),
        (date(2026, 6, 1), D("3720"), D("0"), D("3720"), 2),
    ]
    retention = built.rows(
        "select month, cohort_arr, nrr, grr from marts.fct_retention "
        "where cohort_arr <> 0 or nrr is not null order by month"
    )
    assert retention == [
        (date(2026, 5, 1), D("2400"), D("1.0000000000"), D("1.0000000000")),
        (date(2026, 6, 1), D("2400"), D("1.0000000000"), D("1.0000000000")),
    ]
    deferred = built.rows(
        "select customer_id, sum(billings), sum(recognized_revenue), "
        "max(closing_deferred) filter (where month = '2026-06-01') "
        "from marts.fct_deferred_revenue group by 1 order by 1"
    )
    assert deferred == [
        ("C-N1", D("2800.00"), D("0"), D("2800.00")),
        ("C-N2", D("600.00"), D("0"), D("600.00")),
    ]
    assert built.rows("select customer_id, current_mrr from marts.dim_customers order by 1") == [
        ("C-N1", D("200")),
        ("C-N2", D("110")),
    ]


def test_usage_only_recognizes_usage_lines_bills_them_in_arrears_and_has_no_mrr(
    tmp_path: Path,
) -> None:
    built = build(tmp_path, shaped_tenants.usage_only())
    assert "usages" in _raw_tables(built.duckdb_path)
    assert built.counts() == {
        **NO_ROWS,
        "fct_revenue_monthly": 3,
        "fct_deferred_revenue": 4,
        "fct_ar_aging": 1,
        "dim_customers": 1,
        "dim_subscriptions": 1,
        "fct_invoice_lines": 3,
        "fct_revenue_reconciliation": 3,
        "rpt_customer_mrr_tieout": 1,
        "rpt_revenue_schedule_tieout": 1,
    }
    assert built.rows(
        "select month, recognized_revenue from marts.fct_revenue_monthly order by month"
    ) == [
        (date(2026, 3, 1), D("120.00")),
        (date(2026, 4, 1), D("150.00")),
        (date(2026, 5, 1), D("90.00")),
    ]
    assert built.rows(
        "select month, billings, recognized_revenue, closing_balance, closing_unbilled "
        "from marts.fct_deferred_revenue order by month"
    ) == [
        (date(2026, 3, 1), D("0"), D("120.00"), D("-120.00"), D("120.00")),
        (date(2026, 4, 1), D("120.00"), D("150.00"), D("-150.00"), D("150.00")),
        (date(2026, 5, 1), D("150.00"), D("90.00"), D("-90.00"), D("90.00")),
        (date(2026, 6, 1), D("90.00"), D("0"), D("0.00"), D("0")),
    ]
    assert built.rows(
        "select bool_or(is_recomputed), sum(posted_revenue) from marts.fct_revenue_reconciliation"
    ) == [(False, D("360.00"))]
    assert built.rows(
        "select invoice_id, balance, days_past_due, aging_bucket from marts.fct_ar_aging"
    ) == [("INV-U3", D("90.00"), 2, "1-30")]


def test_one_customer_builds_every_mart_with_its_single_contract(tmp_path: Path) -> None:
    built = build(tmp_path, shaped_tenants.one_customer())
    assert built.counts() == {
        "fct_revenue_monthly": 18,
        "fct_revenue_backlog": 6,
        "fct_deferred_revenue": 18,
        "fct_mrr": 18,
        "fct_arr_movements": 18,
        "fct_retention": 18,
        "fct_ar_aging": 0,
        "dim_customers": 1,
        "dim_subscriptions": 1,
        "fct_invoice_lines": 18,
        "fct_payments": 1,
        "fct_cash_monthly": 1,
        "fct_revenue_reconciliation": 24,
        "rpt_customer_mrr_tieout": 1,
        "rpt_revenue_schedule_tieout": 1,
    }
    assert built.rows(
        "select count(*), sum(recognized_revenue), sum(billings), max(abs(closing_balance)) "
        "from marts.fct_deferred_revenue"
    ) == [(18, D("1800.00"), D("1800.00"), D("0.00"))]
    assert built.rows(
        "select min(month), max(month), sum(scheduled_revenue) from marts.fct_revenue_backlog"
    ) == [(date(2026, 7, 1), date(2026, 12, 1), D("600.00"))]
    assert built.rows(
        "select month, cohort_arr, nrr, grr from marts.fct_retention where nrr is not null "
        "order by month"
    ) == [(date(2026, m, 1), D("1200"), D("1.0000000000"), D("1.0000000000")) for m in range(1, 7)]
    assert built.rows(
        "select count(*), sum(abs(difference)) from marts.fct_revenue_reconciliation "
        "where is_recomputed"
    ) == [(24, D("0"))]
    assert built.rows("select posted_lines_revenue from marts.rpt_revenue_schedule_tieout") == [
        (D("1800.00"),)
    ]
