"""The nightly job end to end (real sandbox over loopback, the real ``ordway_nightly`` Dagster
job, real DuckDB, real ``dbt build`` and publication) on tenants shaped like real Ordway accounts:
every profile of the sandbox's generator, from a full company to a brand-new empty account.

Each night must succeed, every record the sandbox served must land in the raw tables (rows and
Decimal money sums per table), and the published marts must hold their identities (the ARR
bridge, the deferred revenue roll-forward) and equal Decimal oracles computed from the served
tenant with the written rules (billings, recognized revenue)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance, instance_for_test

from ordway_sandbox.process import SandboxProcess
from tests.support import oracles
from tests.support.nightly import Night, night_env, run_night

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

AS_OF = "2026-04-30"
PARTITION = "2026-04-29"
THROUGH = date(2026, 4, 1)
PROFILES = ("full", "billing-only", "no-revenue-module", "usage-only", "one-customer", "empty")


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as temporary:
        yield temporary


def tenant_args(*extra: str) -> list[str]:
    return ["--customers", "8", "--seed", "5", "--as-of", AS_OF, *extra]


def assert_every_served_record_landed(night: Night, collections: set[str] | None = None) -> None:
    assert night.raw_summary() == night.served_summary(collections)


def assert_published_marts_tie_out(night: Night) -> None:
    """Identities on the published marts, and billings and recognized revenue per month,
    customer and currency equal to the Decimal oracle of the served tenant."""
    assert oracles.arr_bridge_breaks(night.marts("fct_arr_movements")) == []
    deferred = night.marts("fct_deferred_revenue")
    assert oracles.roll_forward_breaks(deferred) == []
    assert oracles.nonzero(deferred, "billings", THROUGH) == oracles.billings(night.tenant, THROUGH)
    revenue = night.marts("fct_revenue_monthly")
    assert oracles.nonzero(revenue, "recognized_revenue", THROUGH) == oracles.recognized_revenue(
        night.tenant, THROUGH
    )
    customers = {row["customer_id"] for row in night.marts("dim_customers")}
    assert customers == {c["id"] for c in night.tenant["customers"]}


@pytest.mark.parametrize("profile", PROFILES)
def test_the_nightly_job_on_each_account_profile_loads_every_record_and_publishes_tied_out_marts(
    profile: str, tmp_path: Path, instance: DagsterInstance
) -> None:
    with SandboxProcess(tenant_args("--profile", profile)) as sandbox:
        night = run_night(instance, sandbox, night_env(sandbox, tmp_path, AS_OF), PARTITION)
    assert night.result.success, night.failure()
    assert_every_served_record_landed(night)
    assert_published_marts_tie_out(night)
    modules = {name for name, records in night.tenant.items() if records and name[0] != "_"}
    if "subscriptions" not in modules:  # no contracts: no MRR anywhere
        assert all(row["mrr"] == 0 for row in night.marts("fct_mrr"))
        assert all(row["closing_arr"] == 0 for row in night.marts("fct_arr_movements"))
    if "revenue_schedules" not in modules:  # no revenue module: nothing recognized
        assert all(row["recognized_revenue"] == 0 for row in night.marts("fct_revenue_monthly"))
    if not modules:  # a brand-new account: every published mart is empty or all zeros
        assert night.marts("dim_customers") == []
        assert night.marts("fct_ar_aging") == []
