"""Recognized revenue is posted revenue, and the calendar covers every scheduled line, through
`dbt build` on hand-written tenants (tests/dbt_project/shaped_tenants.py).

- With an as-of date after the last posting run, and a line of a past period Ordway has not
  posted, only posted lines of periods up to the as-of month are recognized; every other line
  is backlog (flagged when its period is already reached), and the deferred revenue
  roll-forward equals an oracle computed here from the tenant's documents with Decimal.
- A contract ending 22 years out reconciles to zero in every month: the calendar reaches its
  last month instead of stopping 15 years after the as-of date.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_project import shaped_tenants
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import assert_build_passed, query, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_posting")]

D = Decimal
MONTH_INDEX = {name[:3].lower(): i for i, name in enumerate(shaped_tenants.MONTH_NAMES, 1)}


def _month(financial_period: str) -> date:
    name, year = financial_period.split()
    return date(int(year), MONTH_INDEX[name[:3].lower()], 1)


def _build(workdir: Path, tenant: dict[str, Any], as_of: str) -> Path:
    duckdb_path = workdir / "ordway.duckdb"
    load_tenant(tenant, duckdb_path, workdir / "dlt")
    assert_build_passed(run_dbt("build", duckdb_path, workdir, as_of))
    return duckdb_path


def test_only_posted_lines_up_to_the_as_of_month_are_recognized_the_rest_is_backlog(
    tmp_path: Path,
) -> None:
    as_of_month = date(2026, 9, 1)
    # Ordway posted through June 2026, except April 2026; the as-of date is September 30th.
    tenant = shaped_tenants.one_customer(unposted=frozenset({"2026-04"}))
    duckdb_path = _build(tmp_path, tenant, "2026-09-30")

    recognized: dict[date, Decimal] = defaultdict(Decimal)
    backlog: dict[date, Decimal] = defaultdict(Decimal)
    for schedule in tenant["revenue_schedules"]:
        for line in schedule["schedule_lines"]:
            month = _month(line["financial_period"])
            if line["posted"] == "Yes" and month <= as_of_month:
                recognized[month] += D(line["amount"])
            else:
                backlog[month] += D(line["amount"])
    billings: dict[date, Decimal] = defaultdict(Decimal)
    for document in tenant["invoices"]:
        billings[date.fromisoformat(document["invoice_date"]).replace(day=1)] += D(
            document["subtotal"]
        )

    assert dict(
        query(duckdb_path, "select month, recognized_revenue from marts.fct_revenue_monthly")
    ) == dict(recognized)
    assert date(2026, 4, 1) not in recognized and len(recognized) == 17

    rows = query(
        duckdb_path,
        "select month, is_unposted_past_period, scheduled_revenue from marts.fct_revenue_backlog",
    )
    assert {month: amount for month, _, amount in rows} == dict(backlog)
    assert sorted(month for month, flagged, _ in rows if flagged) == [
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 8, 1),
        date(2026, 9, 1),
    ]

    balance = Decimal(0)
    deferred = query(
        duckdb_path,
        "select month, opening_balance, billings, recognized_revenue, closing_balance "
        "from marts.fct_deferred_revenue order by month",
    )
    assert deferred[0][0] == date(2025, 1, 1) and deferred[-1][0] == as_of_month
    for month, opening, billed, revenue, closing in deferred:
        assert opening == balance
        assert (billed, revenue) == (billings.get(month, 0), recognized.get(month, 0)), month
        balance += billings.get(month, 0) - recognized.get(month, 0)
        assert closing == balance, month
    assert balance == D("100.00")  # April's unposted line is still deferred

    assert query(
        duckdb_path, "select posted_lines_revenue from marts.rpt_revenue_schedule_tieout"
    ) == [(sum(recognized.values()),)]


def test_a_contract_ending_22_years_out_reconciles_to_zero_in_every_month(tmp_path: Path) -> None:
    duckdb_path = _build(tmp_path, shaped_tenants.long_horizon(), shaped_tenants.AS_OF)
    assert query(duckdb_path, "select max(month) from intermediate.int_months") == [
        (date(2047, 12, 1),)
    ]
    assert query(
        duckdb_path,
        "select count(*), bool_and(is_recomputed), sum(abs(difference)), max(month) "
        "from marts.fct_revenue_reconciliation",
    ) == [(264, True, D("0"), date(2047, 12, 1))]
    assert query(
        duckdb_path,
        "select count(*), sum(scheduled_revenue), min(month), max(month) "
        "from marts.fct_revenue_backlog",
    ) == [(258, D("25800.00"), date(2026, 7, 1), date(2047, 12, 1))]
