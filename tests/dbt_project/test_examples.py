"""dbt build on a hand-written raw tenant (tests/dbt_project/examples_tenant.py): the worked
examples of revenue-rules.md come out of the marts exactly, through staging (text dates,
`financial_period` names, missing all-null columns), deletions and incomplete loads.

Every expected figure is typed from revenue-rules.md or from the fixture's own documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.dbt_project.examples_tenant import (
    AS_OF,
    DELETED_SUBSCRIPTION,
    E2_REVENUE,
    build_examples_tenant,
)
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import DbtRun, query, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_examples")]

D = Decimal


class Built:
    """A warehouse built from the examples tenant."""

    def __init__(self, duckdb_path: Path, run: DbtRun) -> None:
        self.duckdb_path = duckdb_path
        self.run = run

    def rows(self, sql: str, *params: object) -> list[tuple]:
        return query(self.duckdb_path, sql, list(params))


def _add_row_of_an_incomplete_load(duckdb_path: Path) -> None:
    """A copy of INV-00001 as INV-PENDING, loaded by a load that never completed (status 1)."""
    with duckdb.connect(str(duckdb_path)) as connection:
        connection.execute(
            "insert into ordway_raw._dlt_loads (load_id, schema_name, status, inserted_at) "
            "values ('9999999999.1', 'dbt_fixture', 1, now())"
        )
        connection.execute(
            "insert into ordway_raw.invoices by name select * replace ("
            "'INV-PENDING' as id, '9999999999.1' as _dlt_load_id, 'pending-row' as _dlt_id) "
            "from ordway_raw.invoices where id = 'INV-00001'"
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    workdir = tmp_path_factory.mktemp("dbt_examples")
    duckdb_path = workdir / "ordway.duckdb"
    load_tenant(
        build_examples_tenant(),
        duckdb_path,
        workdir / "dlt",
        deletions=[
            {
                "collection": "subscriptions",
                "id": DELETED_SUBSCRIPTION,
                "deleted_at": "2026-02-01T00:00:00Z",
            }
        ],
    )
    _add_row_of_an_incomplete_load(duckdb_path)
    run = run_dbt("build", duckdb_path, workdir, AS_OF)
    assert run.returncode == 0, run.output[-4000:]
    yield Built(duckdb_path, run)


def test_dbt_build_passes_every_model_data_test_and_unit_test(built: Built) -> None:
    assert built.run.failures() == []
    unit_tests = built.run.statuses("unit_test.")
    assert len(unit_tests) >= 10
    assert set(unit_tests.values()) == {"pass"}
    identity_tests = [name for name in built.run.statuses("test.") if ".assert_" in name]
    assert len(identity_tests) >= 6


def test_e2_recognized_revenue_equals_the_posted_schedule_by_month(built: Built) -> None:
    rows = built.rows(
        "select month, recognized_revenue, recognized_revenue_reporting "
        "from marts.fct_revenue_monthly where customer_id = 'C-00001' order by month"
    )
    expected_amounts = [D(amount) for _, amount in E2_REVENUE]
    assert [row[1] for row in rows] == expected_amounts
    assert [row[2] for row in rows] == expected_amounts  # USD at rate 1
    assert rows[0][0] == date(2026, 3, 1)
    assert rows[7][0] == date(2026, 10, 1)  # "Sep 2026" parsed as September, October follows
    assert rows[-1][0] == date(2027, 3, 1)


def test_e2_closing_deferred_matches_revenue_rules(built: Built) -> None:
    closing = dict(
        built.rows(
            "select month, closing_deferred from marts.fct_deferred_revenue "
            "where customer_id = 'C-00001'"
        )
    )
    assert closing[date(2026, 3, 1)] == D("11441.10")
    assert closing[date(2026, 4, 1)] == D("10454.80")
    assert closing[date(2026, 12, 1)] == D("2400.00")
    assert closing[date(2027, 2, 1)] == D("460.27")
    assert closing[date(2027, 3, 1)] == D("0.00")
    assert closing[date(2027, 4, 1)] == D("0.00")  # spine continues to the as-of month


def test_e2_mrr_is_new_in_march_and_churns_when_not_renewed(built: Built) -> None:
    rows = built.rows(
        "select month, mrr, movement, mrr_change from marts.fct_mrr "
        "where customer_id = 'C-00001' order by month"
    )
    assert [row[0] for row in rows] == [date(2026 + (m // 12), m % 12 + 1, 1) for m in range(2, 15)]
    assert rows[0][1:] == (D("1000"), "new", D("1000"))
    assert all(row[1] == D("1000") and row[2] == "unchanged" for row in rows[1:12])
    assert rows[12] == (date(2027, 3, 1), D("0"), "churn", D("-1000"))


def test_e3_billings_and_revenue_are_450_with_tax_outside_and_nothing_deferred(
    built: Built,
) -> None:
    rows = built.rows(
        "select month, billings, recognized_revenue, closing_deferred, closing_unbilled "
        "from marts.fct_deferred_revenue where customer_id = 'C-00002' and month <= '2026-06-01' "
        "order by month"
    )
    assert rows == [
        (date(2026, month, 1), D("450.00"), D("450.00"), D("0"), D("0")) for month in (4, 5, 6)
    ]
    april = built.rows(
        "select billed_amount, tax_amount from marts.fct_invoice_lines "
        "where customer_id = 'C-00002' and invoice_date = '2026-04-01'"
    )
    assert april == [(D("450.00"), D("36.00"))]


def test_e3_mrr_is_net_of_discount_and_expands_when_the_discount_ends(built: Built) -> None:
    rows = built.rows(
        "select month, mrr, gross_mrr, discount_mrr, movement, mrr_change from marts.fct_mrr "
        "where customer_id = 'C-00002' and month between '2026-04-01' and '2026-08-01' "
        "order by month"
    )
    assert rows[0] == (date(2026, 4, 1), D("450"), D("500"), D("50"), "new", D("450"))
    assert rows[2] == (date(2026, 6, 1), D("450"), D("500"), D("50"), "unchanged", D("0"))
    assert rows[3] == (date(2026, 7, 1), D("500"), D("500"), D("0"), "expansion", D("50"))
    assert rows[4][4] == "unchanged"


def test_reversed_invoice_counts_in_both_months_and_draft_never(built: Built) -> None:
    rows = built.rows(
        "select month, billings, recognized_revenue, closing_balance "
        "from marts.fct_deferred_revenue where customer_id = 'C-00003' "
        "and month <= '2026-07-01' order by month"
    )
    assert rows == [
        (date(2026, 5, 1), D("300.00"), D("0"), D("300.00")),
        (date(2026, 6, 1), D("0.00"), D("300.00"), D("0.00")),  # -300 reversal + 300 re-issue
        (date(2026, 7, 1), D("0"), D("0"), D("0.00")),
    ]


def test_ar_aging_lists_open_invoices_with_days_past_due(built: Built) -> None:
    rows = built.rows(
        "select invoice_id, balance, due_date, days_past_due, aging_bucket "
        "from marts.fct_ar_aging order by invoice_id"
    )
    assert rows == [
        ("INV-12611", D("100.00"), date(2026, 11, 30), 151, "90+"),
        ("INV-12612", D("540.00"), date(2026, 12, 31), 120, "90+"),
        ("INV-20002", D("300.00"), date(2026, 7, 5), 299, "90+"),
    ]


def test_unchanged_schedules_reconcile_to_zero_and_event_schedules_are_not_recomputed(
    built: Built,
) -> None:
    rows = built.rows(
        "select revenue_schedule_id, bool_and(is_recomputed), sum(abs(coalesce(difference, 0))), "
        "count(*) from marts.fct_revenue_reconciliation group by 1 order by 1"
    )
    assert rows == [
        ("RS-00001", True, D("0"), 13),
        ("RS-00002", True, D("0"), 3),
        ("RS-00003", True, D("0"), 6),
        ("RS-00004", False, D("0"), 1),
    ]


def test_deleted_subscription_and_rows_of_incomplete_loads_reach_no_model(built: Built) -> None:
    assert (
        built.rows(
            "select subscription_id from marts.dim_subscriptions where subscription_id = ?",
            DELETED_SUBSCRIPTION,
        )
        == []
    )
    assert built.rows("select * from marts.fct_mrr where customer_id = 'C-00004'") == []
    assert (
        built.rows("select * from staging.stg_ordway__invoices where invoice_id = 'INV-PENDING'")
        == []
    )
    assert built.rows(
        "select count(*) from staging.stg_ordway__invoice_lines where invoice_id = 'INV-PENDING'"
    ) == [(0,)]
    # the raw rows are still there: staging filtered them
    assert built.rows("select count(*) from ordway_raw.invoices where id = 'INV-PENDING'") == [(1,)]
