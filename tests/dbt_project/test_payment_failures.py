"""fct_payment_failures (revenue-rules §10) through `dbt build` on generated tenants loaded as
the source loads them: every failed attempt, its outcome and the payment or credit that
resolved it equal an oracle written with Decimal from the rules and the tenant's payments,
credits and invoices (tests/support/oracles.py), never from the SQL; a tenant without failed
payments builds an empty mart, and a tenant with type drift builds the same rows as its
oracle.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ordway_sandbox.tenant import build_tenant
from tests.dbt_project.raw_loader import load_tenant
from tests.support.dbt import query, run_dbt
from tests.support.oracles import payment_failures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_payment_failures")]

CUSTOMERS = 120
SEED = 7
AS_OF = date(2026, 6, 12)  # a payment run's retry is still due after it (one `retrying` row)
COLUMNS = (
    "customer_id, currency, payment_date, payment_amount, payment_method, failure_reason, "
    "payment_run_id, failed_attempt, retried_attempts, outcome, recovered_by_payment_id, "
    "written_off_by_credit_id, resolved_date, days_to_resolution"
)
SELECT = ("--select", "+fct_payment_failures+", "fct_payments", "--indirect-selection", "cautious")


def build(tenant: dict[str, Any], workdir: Path) -> dict[str, dict[str, Any]]:
    """Load ``tenant`` as raw tables, `dbt build` the mart with what it reads and its tests,
    and return the mart's rows by payment id."""
    duckdb_path = workdir / "ordway.duckdb"
    load_tenant(tenant, duckdb_path, workdir / "dlt")
    run = run_dbt("build", duckdb_path, workdir, AS_OF.isoformat(), *SELECT)
    assert run.returncode == 0, run.output[-4000:]
    assert run.failures() == []
    consistency = "test.ordway_revenue.assert_payment_failures_are_resolved_consistently"
    assert run.statuses(consistency) == {consistency: "pass"}
    names = COLUMNS.split(", ")
    rows = query(
        duckdb_path,
        f"select payment_id, as_of_date, {COLUMNS} from marts.fct_payment_failures",
    )
    for row in rows:
        assert row[1] == AS_OF
    bi = query(
        duckdb_path,
        "select payment_id, payment_amount, outcome from marts.bi_payment_failures",
    )
    cents = {
        r[0]: (r[names.index("payment_amount") + 2], r[names.index("outcome") + 2]) for r in rows
    }
    assert {r[0]: (r[1], r[2]) for r in bi} == {
        key: (amount.quantize(Decimal("0.01")), outcome) for key, (amount, outcome) in cents.items()
    }
    return {row[0]: dict(zip(names, row[2:], strict=True)) for row in rows}


@pytest.fixture(scope="module")
def tenant() -> dict[str, Any]:
    return build_tenant(CUSTOMERS, SEED, as_of=AS_OF)


def test_every_failed_attempt_has_the_outcome_and_resolution_the_rules_give(
    tenant: dict[str, Any], tmp_path: Path
) -> None:
    expected = payment_failures(tenant, AS_OF)
    outcomes = Counter(row["outcome"] for row in expected.values())
    # the comparison is not vacuous: manual and payment-run failures, recovered by a payment,
    # still retrying, and given up after the last attempt
    assert outcomes["recovered"] > 0 and outcomes["failed"] > 0 and outcomes["retrying"] > 0
    assert {row["payment_run_id"] is None for row in expected.values()} == {True, False}
    assert {row["failed_attempt"] for row in expected.values()} == {1, 2, 3}
    failed_payments = {p["id"] for p in tenant["payments"] if p["status"] == "Failed"}
    assert set(expected) == failed_payments
    assert build(tenant, tmp_path) == expected


def test_a_tenant_without_failed_payments_builds_an_empty_mart(
    tenant: dict[str, Any], tmp_path: Path
) -> None:
    without = dict(tenant)
    without["payments"] = [p for p in tenant["payments"] if p["status"] != "Failed"]
    # nothing fails, so failure_reason is blank everywhere (no raw column at all)
    assert not any(p["failure_reason"] for p in without["payments"])
    assert build(without, tmp_path) == {}


def test_a_tenant_with_type_drift_builds_the_rows_of_its_oracle(tmp_path: Path) -> None:
    drifting = build_tenant(CUSTOMERS, SEED, as_of=AS_OF, drift=True)
    expected = payment_failures(drifting, AS_OF)
    assert len(expected) > 0
    assert build(drifting, tmp_path) == expected
