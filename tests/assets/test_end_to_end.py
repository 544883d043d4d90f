"""The nightly job against the sandbox over loopback (40 customers), then a two-month backfill
and the overdue-invoice alert on the same warehouse. Oracles come from the tenant JSON the
sandbox serves, with Decimal arithmetic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    ExecuteInProcessResult,
    FloatMetadataValue,
    build_sensor_context,
    instance_for_test,
)

from assets.definitions import defs
from assets.sensors import ordway_overdue_invoices_alert
from ordway_sandbox.process import SandboxProcess
from pipelines.config import OrdwaySettings
from pipelines.ordway.contract import COLLECTIONS, INCREMENTAL_COLLECTIONS
from pipelines.ordway.pipeline import make_pipeline
from tests.support.environment import isolate_environment
from tests.support.oracles import open_ar
from tests.support.slack import WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dagster_e2e")]

CUSTOMERS = 40
SEED = 7
AS_OF = "2026-06-30"
PARTITION = "2026-06-01"
BACKFILL = ("2026-05-01", "2026-06-01")  # two monthly partitions, inclusive
BACKFILL_TAGS = {
    "dagster/asset_partition_range_start": BACKFILL[0],
    "dagster/asset_partition_range_end": BACKFILL[1],
    "dagster/backfill": "test-backfill",
}


@dataclass
class World:
    instance: DagsterInstance
    tenant: dict[str, Any]
    duckdb_path: Path
    env: dict[str, str]
    nightly: ExecuteInProcessResult


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """The world's variables (sandbox credentials, temporary warehouse) for one block only."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        workdir = Path(env["DUCKDB_PATH"]).parent
        isolate_environment(monkeypatch, workdir)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield
    finally:
        monkeypatch.undo()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One sandbox, warehouse and nightly run per worker (session scope, so tests of other
    modules interleaved by xdist do not force a second nightly run)."""
    workdir = tmp_path_factory.mktemp("dagster_e2e")
    args = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF]
    with SandboxProcess(args) as sandbox, instance_for_test() as instance:
        env = {
            **sandbox.env,
            "ORDWAY_BASE_URL": sandbox.base_url,
            "ORDWAY_MAX_RPS": "0",
            "AS_OF_DATE": AS_OF,
            "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
            "DLT_PIPELINES_DIR": str(workdir / "dlt"),
        }
        tenant = sandbox.get_tenant()
        with environment(env):
            nightly = defs.resolve_job_def("ordway_nightly").execute_in_process(
                instance=instance, partition_key=PARTITION, raise_on_error=False
            )
        yield World(instance, tenant, workdir / "ordway.duckdb", env, nightly)


def sql(world: World, statement: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(world.duckdb_path), read_only=True) as con:
        return con.execute(statement).fetchall()


def materializations(result: ExecuteInProcessResult, key: AssetKey) -> list[Any]:
    return [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_specific_data.materialization.asset_key == key
    ]


def check_evaluations(result: ExecuteInProcessResult) -> dict[tuple[str, str], Any]:
    return {
        (e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name): (
            e.event_specific_data
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_nightly_job_against_the_sandbox_succeeds_and_populates_the_marts(world):
    assert world.nightly.success
    customers = len(world.tenant["customers"])
    assert sql(world, "select count(*) from marts.dim_customers") == [(customers,)]
    assert sql(world, "select count(*) from marts.fct_arr_movements")[0][0] > 12
    assert sql(world, "select count(*) from marts.fct_ar_aging")[0][0] > 0
    months = sql(world, "select max(month) from marts.fct_revenue_monthly")
    assert months == [(date(2026, 6, 1),)]


def test_raw_materializations_record_rows_loaded_load_id_and_table_rows(world):
    (invoices,) = materializations(world.nightly, AssetKey(["ordway_raw", "invoices"]))
    metadata = {k: v.value for k, v in invoices.metadata.items()}
    expected_lines = sum(len(i["line_items"]) for i in world.tenant["invoices"])
    assert metadata["dagster/row_count"] == len(world.tenant["invoices"])
    assert metadata["rows_loaded"]["invoices"] == len(world.tenant["invoices"])
    assert metadata["rows_loaded"]["invoices__line_items"] == expected_lines
    assert metadata["mode"] == "incremental"
    loads = {row[0] for row in sql(world, "select load_id from ordway_raw._dlt_loads")}
    assert metadata["dlt_load_ids"] in loads
    assert invoices.partition == PARTITION
    (customers,) = materializations(world.nightly, AssetKey(["ordway_raw", "customers"]))
    assert customers.partition is None  # full refresh: unpartitioned
    assert customers.metadata["dagster/row_count"].value == len(world.tenant["customers"])


def open_balances_by_currency(tenant: dict[str, Any]) -> dict[str, Decimal]:
    """Open receivables (invoices and debit memos, revenue-rules §2/§9) by currency."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for _id, _kind, _customer, currency, balance, *_ in open_ar(tenant, date.fromisoformat(AS_OF)):
        totals[currency] += balance
    return dict(totals)


def test_marts_carry_headline_figures_as_numbers(world):
    figures = {
        key: materializations(world.nightly, AssetKey(["marts", key]))[0].metadata
        for key in (
            "fct_arr_movements",
            "fct_revenue_monthly",
            "fct_deferred_revenue",
            "fct_ar_aging",
        )
    }
    ar = figures["fct_ar_aging"]
    expected = open_balances_by_currency(world.tenant)
    assert {k for k in ar if k.startswith("open_ar_") and k != "open_ar_as_of"} == {
        f"open_ar_{c}" for c in expected
    }
    for currency, total in expected.items():
        value = ar[f"open_ar_{currency}"]
        assert isinstance(value, FloatMetadataValue)
        assert Decimal(repr(value.value)).quantize(Decimal("0.01")) == total
    arr = figures["fct_arr_movements"]
    ((month, closing),) = sql(
        world, "select month, closing_arr from marts.fct_arr_movements order by month desc limit 1"
    )
    assert isinstance(arr["closing_arr_USD"], FloatMetadataValue)
    assert arr["closing_arr_USD"].value == float(closing) and closing > 0
    assert arr["closing_arr_month"].value == str(month) == "2026-06-01"
    revenue = figures["fct_revenue_monthly"]
    assert revenue["last_closed_month"].value == "2026-05-01"  # the as-of month is June
    (may,) = sql(
        world,
        "select sum(recognized_revenue_reporting) from marts.fct_revenue_monthly "
        "where month = date '2026-05-01'",
    )[0]
    assert revenue["recognized_revenue_last_closed_month_USD"].value == float(may) and may > 0
    deferred = figures["fct_deferred_revenue"]
    rows = sql(
        world,
        "select currency, sum(closing_deferred) from marts.fct_deferred_revenue "
        "where month = date '2026-06-01' group by currency",
    )
    assert {f"closing_deferred_{c}": float(v) for c, v in rows} == {
        k: v.value
        for k, v in deferred.items()
        if k.startswith("closing_deferred_") and k[-4] == "_"
    }


def test_dbt_assets_carry_row_counts_and_column_types(world):
    (mrr,) = materializations(world.nightly, AssetKey(["marts", "fct_mrr"]))
    assert (
        mrr.metadata["dagster/row_count"].value
        == sql(world, "select count(*) from marts.fct_mrr")[0][0]
    )
    columns = {c.name: c.type for c in mrr.metadata["dagster/column_schema"].value.columns}
    described = dict(
        sql(
            world,
            "select column_name, lower(data_type) from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_mrr'",
        )
    )
    assert columns == described and "mrr" in columns
    # staging models are views: column types, no row count (that would run the view's query)
    (staging,) = materializations(world.nightly, AssetKey(["staging", "stg_ordway__invoices"]))
    assert "dagster/column_schema" in staging.metadata
    assert "dagster/row_count" not in staging.metadata


def test_arr_movements_materialization_carries_the_last_six_months_as_markdown(world):
    (arr,) = materializations(world.nightly, AssetKey(["marts", "fct_arr_movements"]))
    table = arr.metadata["arr_movements_last_months"].value
    lines = table.splitlines()
    assert len(lines) == 2 + 6
    closing = sql(
        world, "select closing_arr from marts.fct_arr_movements where month = date '2026-06-01'"
    )[0][0]
    assert lines[-1].startswith("| 2026-06-01 |")
    assert f"{Decimal(closing).quantize(Decimal('0.01')):,}" in lines[-1]
    assert "Execution Duration" in arr.metadata


def test_freshness_row_count_and_tieout_checks_pass_on_a_consistent_tenant(world):
    evaluations = check_evaluations(world.nightly)
    assert evaluations[("ordway_raw/_ordway_deletions", "dlt_load_freshness")].passed
    for name in INCREMENTAL_COLLECTIONS:
        assert evaluations[(f"ordway_raw/{name}", "row_count_cliff")].passed
    mrr = evaluations[("marts/rpt_customer_mrr_tieout", "mrr_ties_out_to_ordway_cmrr")]
    assert mrr.passed, mrr.metadata
    assert mrr.metadata["rows_compared"].value == len(world.tenant["customers"])
    revenue = evaluations[
        ("marts/rpt_revenue_schedule_tieout", "recognized_revenue_ties_out_to_posted_lines")
    ]
    assert revenue.passed, revenue.metadata
    assert revenue.metadata["rows_compared"].value == len(world.tenant["revenue_schedules"])


def test_overdue_sensor_alerts_once_per_publication_from_the_published_marts(world, monkeypatch):
    overdue = [row for row in open_ar(world.tenant, date.fromisoformat(AS_OF)) if row[6] > 60]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for _id, _kind, _customer, currency, balance, *_ in overdue:
        totals[currency] += balance
    assert overdue, "the tenant should have invoices more than 60 days past due"
    with environment(world.env), WebhookReceiver() as receiver:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url)
        context = build_sensor_context(instance=world.instance)
        ordway_overdue_invoices_alert(context)
        ordway_overdue_invoices_alert(build_sensor_context(world.instance, cursor=context.cursor))
    assert len(receiver.bodies) == 1
    text = receiver.bodies[0]["text"]
    assert text.startswith(
        f"{len(overdue)} Ordway invoices and debit memos are more than 60 days past due"
    )
    expected = ", ".join(f"{c} {v:,.2f}" for c, v in sorted(totals.items()))
    assert f"Total open: {expected}" in text


def warehouse_snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table of ordway_raw and marts, without dlt's bookkeeping columns/tables."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(world.duckdb_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('ordway_raw', 'marts') and table_name not like '\\_dlt%' "
            "escape '\\' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? and column_name not like '\\_dlt\\_%' escape '\\' "
                    "order by column_name",
                    [schema, table],
                ).fetchall()
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {quoted} from {schema}."{table}"').fetchall()
            snapshot[f"{schema}.{table}"] = sorted(rows, key=repr)
    return snapshot


def cursors() -> dict[str, Any]:
    state = make_pipeline(OrdwaySettings.from_env()).state
    resources = state["sources"]["ordway"]["resources"]
    return {
        name: resources[name]["incremental"]["updated_date"]["last_value"]
        for name in INCREMENTAL_COLLECTIONS
        if COLLECTIONS[name].cursor_field
    }


def test_backfill_over_two_months_is_one_idempotent_run_that_leaves_the_cursor(world):
    assert world.nightly.success
    with environment(world.env):
        backfill_twice(world)


def backfill_twice(world: World) -> None:
    job = defs.resolve_job_def("ordway_nightly")
    before, cursors_before = warehouse_snapshot(world), cursors()
    first = job.execute_in_process(instance=world.instance, tags=BACKFILL_TAGS)
    assert first.success
    (invoices,) = materializations(first, AssetKey(["ordway_raw", "invoices"]))[:1]
    partitions = {
        m.partition for m in materializations(first, AssetKey(["ordway_raw", "invoices"]))
    }
    assert partitions == {"2026-05-01", "2026-06-01"}
    # the marts are rebuilt whole, once, unpartitioned
    assert [m.partition for m in materializations(first, AssetKey(["marts", "fct_mrr"]))] == [None]
    metadata = {k: v.value for k, v in invoices.metadata.items()}
    assert metadata["mode"] == "backfill"
    assert metadata["window"] == "[2026-05-01T00:00:00+00:00, 2026-07-01T00:00:00+00:00)"
    in_window = [
        i for i in world.tenant["invoices"] if "2026-05-01" <= i["updated_date"] < "2026-07-01"
    ]
    assert in_window and metadata["rows_loaded"]["invoices"] == len(in_window)
    assert warehouse_snapshot(world) == before
    assert cursors() == cursors_before

    raw_only = [AssetKey(["ordway_raw", name]) for name in INCREMENTAL_COLLECTIONS]
    second = job.execute_in_process(
        instance=world.instance, tags=BACKFILL_TAGS, asset_selection=raw_only
    )
    assert second.success
    assert warehouse_snapshot(world) == before
    assert cursors() == cursors_before
