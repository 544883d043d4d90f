"""Where the Dagster assets get an ETA basis for incremental reads: the previous nightly run's
records read, never a first load's or another mode's."""

from __future__ import annotations

from dagster import AssetKey, AssetMaterialization

from assets.progress import expect_from_previous_runs, previous_records_read
from pipelines.ordway.progress import ExtractProgress

INVOICES = AssetKey(["ordway_raw", "invoices"])
CUSTOMERS = AssetKey(["ordway_raw", "customers"])


def materialize(instance, key: AssetKey, mode: str, read: int, rows: int) -> None:
    metadata = {"mode": mode, "records_read": read, "dagster/row_count": rows}
    instance.report_runless_asset_event(AssetMaterialization(key, metadata=metadata))


def test_the_previous_nightly_read_is_the_estimate_not_a_first_load_or_a_backfill(instance):
    assert previous_records_read(instance, INVOICES, "incremental", "this-run") is None
    materialize(instance, INVOICES, "incremental", read=1000, rows=1000)  # the first load
    assert previous_records_read(instance, INVOICES, "incremental", "this-run") is None
    materialize(instance, INVOICES, "incremental", read=40, rows=1030)
    materialize(instance, INVOICES, "backfill", read=500, rows=1030)
    assert previous_records_read(instance, INVOICES, "incremental", "this-run") == 40


def test_only_incremental_reads_of_incremental_collections_take_a_dagster_estimate(instance):
    materialize(instance, INVOICES, "incremental", read=40, rows=1030)
    materialize(instance, CUSTOMERS, "incremental", read=30, rows=300)
    progress = ExtractProgress()
    expect_from_previous_runs(progress, instance, [INVOICES, CUSTOMERS], "full", "this-run")
    assert progress.expected("invoices") is None  # a full listing: the warehouse knows better
    expect_from_previous_runs(progress, instance, [INVOICES, CUSTOMERS], "incremental", "r")
    assert progress.expected("invoices") == 40
    assert progress.expected("customers") is None  # listed completely every run
