"""The nightly job end to end (real sandbox, the real ``ordway_nightly`` Dagster job, real DuckDB,
real ``dbt build`` and publication) on the values and setups real Ordway accounts have and our
generator's default tenant does not: type drift, IDR-sized contracts, 30-year contracts, revenue
not yet posted, another base currency, missing exchange rates, endpoints the plan does not
include, collections left out by the settings, and a second company pointed at the same
warehouse. Each case succeeds with every served record landed and tied-out marts, or fails
exactly as documented (README, "Reliability guarantees")."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, instance_for_test

from ordway_sandbox.process import SandboxProcess
from tests.assets.test_any_tenant_profiles import (
    AS_OF,
    PARTITION,
    assert_every_served_record_landed,
    assert_published_marts_tie_out,
    tenant_args,
)
from tests.support.nightly import night_env, run_night

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as temporary:
        yield temporary


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_drifting_types_huge_contracts_long_horizons_and_unposted_revenue_load_and_tie_out(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    args = tenant_args("--drift", "--large-contracts", "--long-horizon", "--unposted")
    with SandboxProcess(args) as sandbox:
        night = run_night(instance, sandbox, night_env(sandbox, tmp_path, AS_OF), PARTITION)
    assert night.result.success, night.failure()
    assert_every_served_record_landed(night)
    assert_published_marts_tie_out(night)
    idr = [i for i in night.tenant["invoices"] if i["currency"] == "IDR"]
    assert max(float(i["subtotal"]) for i in idr) >= 1e11  # the case is really exercised
    # the 30-year contract is scheduled beyond the default 15-year calendar, and reported there
    assert night.marts("fct_revenue_backlog", "month >= date '2050-01-01'")


def test_a_company_whose_base_currency_is_eur_reports_in_eur(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    with SandboxProcess(tenant_args("--base-currency", "EUR")) as sandbox:
        env = night_env(sandbox, tmp_path, AS_OF, REPORTING_CURRENCY="EUR")
        night = run_night(instance, sandbox, env, PARTITION)
    assert night.result.success, night.failure()
    assert_every_served_record_landed(night)
    assert_published_marts_tie_out(night)


def test_a_reporting_currency_the_rates_do_not_convert_into_is_refused_before_any_model_is_built(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    with SandboxProcess(tenant_args("--base-currency", "EUR")) as sandbox:
        env = night_env(sandbox, tmp_path, AS_OF, REPORTING_CURRENCY="USD")
        night = run_night(instance, sandbox, env, PARTITION)
    assert not night.result.success
    failure = night.failure()
    assert "reporting_currency USD is not the company's base currency EUR" in failure, failure
    assert not night.published.exists()  # nothing was published
    with duckdb.connect(str(night.working), read_only=True) as con:
        built = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchone()
    assert built == (0,)


def test_documents_without_an_exchange_rate_fail_the_run_naming_the_test_and_publish_nothing(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    with SandboxProcess(tenant_args("--missing-rates")) as sandbox:
        night = run_night(instance, sandbox, night_env(sandbox, tmp_path, AS_OF), PARTITION)
    assert not night.result.success
    failure = night.failure()
    assert "invoices_in_other_currencies_carry_an_exchange_rate" in failure, failure
    rateless = sorted(
        i["id"]
        for i in night.tenant["invoices"]
        if i["currency"] != "USD" and i.get("exchange_rate") in (None, "")
    )
    assert any(f"document_id={i}" in failure for i in rateless), failure  # documents named
    assert not night.published.exists()


def test_endpoints_the_plan_does_not_include_are_skipped_and_everything_else_loads(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    args = tenant_args("--unavailable", "usages:403,journal_entries:404")
    with SandboxProcess(args) as sandbox:
        night = run_night(instance, sandbox, night_env(sandbox, tmp_path, AS_OF), PARTITION)
    assert night.result.success, night.failure()
    served = {name for name in night.tenant if not name.startswith("_")}
    assert_every_served_record_landed(night, served - {"usages", "journal_entries"})
    assert not {"usages", "journal_entries"} & {t.split("__")[0] for t in night.raw_summary()}
    assert night.requests["usages"] == 1 and night.requests["journal_entries"] == 1
    assert_published_marts_tie_out(night)
    warnings = {
        e.asset_key.path[-1]: e
        for e in night.result.get_asset_check_evaluations()
        if e.check_name == "collection_available" and not e.passed
    }
    assert set(warnings) == {"usages", "journal_entries"}  # a warning each, run not failed
    explanation = warnings["usages"].metadata["explanation"].value
    assert "GET /api/v1/usages answered HTTP 403" in explanation, explanation
    assert "ORDWAY_SKIP_COLLECTIONS=usages" in explanation, explanation


def test_collections_left_out_by_the_settings_are_never_requested(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    with SandboxProcess(tenant_args()) as sandbox:
        env = night_env(sandbox, tmp_path, AS_OF, ORDWAY_SKIP_COLLECTIONS="usages,journal_entries")
        night = run_night(instance, sandbox, env, PARTITION)
    assert night.result.success, night.failure()
    assert "usages" not in night.requests and "journal_entries" not in night.requests
    served = {name for name in night.tenant if not name.startswith("_")}
    assert_every_served_record_landed(night, served - {"usages", "journal_entries"})
    assert_published_marts_tie_out(night)


def test_another_companys_credentials_on_the_same_warehouse_fail_before_any_request_or_write(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    with SandboxProcess(tenant_args()) as sandbox:
        env = night_env(sandbox, tmp_path, AS_OF)
        first = run_night(instance, sandbox, env, PARTITION)
        assert first.result.success, first.failure()
        raw, published = first.raw_summary(), sha256(first.published)
        second = run_night(instance, sandbox, {**env, "ORDWAY_COMPANY": "Another Co"}, PARTITION)
    assert not second.result.success
    failure = second.failure()
    assert "holds the data of another Ordway company" in failure, failure
    assert "set DUCKDB_PATH to another file" in failure, failure
    assert "Another Co" not in failure  # the company name is a credential
    assert second.requests == {}
    assert second.raw_summary() == raw
    assert sha256(second.published) == published
