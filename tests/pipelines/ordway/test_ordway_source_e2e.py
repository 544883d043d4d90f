"""The Ordway source against the real sandbox server over loopback (the issue's acceptance list).

Oracles come from the raw tenant JSON (counts, Decimal sums) or from an independent fresh load.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.config import parse_timestamp
from pipelines.ordway.contract import COLLECTIONS, DATASET_NAME, INCREMENTAL_COLLECTIONS
from pipelines.ordway.pipeline import make_pipeline, row_counts, run_extract
from tests.support.source import (
    LOOKBACK,
    connect,
    cursors,
    expected_fan_out_requests,
    expected_requests,
    max_updated,
    settings_for,
    table_rows,
    tenant_summary,
    warehouse_summary,
)

pytestmark = pytest.mark.slow


def load(sandbox, workdir: Path, mode: str = "incremental", **env: str):
    settings = settings_for(sandbox, workdir, **env)
    pipeline = make_pipeline(settings)
    info = run_extract(settings, mode, pipeline=pipeline)  # type: ignore[arg-type]
    return settings, pipeline, info


def test_a_full_load_equals_the_tenant(sandbox, tmp_path: Path) -> None:
    tenant = sandbox.get_tenant()
    settings, _, _ = load(sandbox, tmp_path)
    expected = tenant_summary(tenant)
    actual = warehouse_summary(settings.duckdb_path)
    assert set(actual) == set(expected)
    for table in sorted(expected):
        assert actual[table] == expected[table], table
    # the tombstone table exists (empty) for dbt staging
    with connect(settings.duckdb_path) as con:
        count = con.execute(f"SELECT count(*) FROM {DATASET_NAME}._ordway_deletions").fetchone()
    assert count == (0,)
    # money is stored as exact decimals
    with connect(settings.duckdb_path) as con:
        data_type = con.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = 'invoices__line_items' AND column_name = 'effective_price'",
            [DATASET_NAME],
        ).fetchone()
    assert data_type is not None and data_type[0].startswith("DECIMAL")


def test_rerun_without_change_writes_nothing_and_a_day_later_fetches_only_changes(
    sandbox, tmp_path: Path
) -> None:
    old = sandbox.get_tenant()
    settings, pipeline, _ = load(sandbox, tmp_path / "nightly")
    before = table_rows(settings.duckdb_path)

    run_extract(settings, pipeline=pipeline)
    written = row_counts(pipeline)
    for name in INCREMENTAL_COLLECTIONS:
        assert not any(t == name or t.startswith(f"{name}__") for t in written), written
    assert table_rows(settings.duckdb_path) == before

    sandbox.advance(1)
    new = sandbox.get_tenant()
    sandbox.reset_stats()
    run_extract(settings, pipeline=pipeline)
    requests = sandbox.stats()["requests"]
    customer_listings = 0
    for name in INCREMENTAL_COLLECTIONS:
        size = settings.page_size_for(COLLECTIONS[name])
        if COLLECTIONS[name].parent:  # per customer: only the customers that changed
            listing, fan_out = expected_fan_out_requests(old, new, name, size)
            customer_listings += listing
            assert requests.get(name, 0) == fan_out > 0, name
            assert fan_out < len(new["customers"]), name  # fewer than one per customer
            continue
        if not old[name]:
            continue
        since = max_updated(old[name]) - LOOKBACK
        assert requests.get(name, 0) == expected_requests(new[name], since, size), name
    size = settings.page_size_for(COLLECTIONS["customers"])
    full_listing = math.ceil(len(new["customers"]) / size) + 1  # customers: full refresh
    assert requests["customers"] == customer_listings + full_listing
    changed_rows = sum(
        n for t, n in row_counts(pipeline).items() if t.split("__")[0] in INCREMENTAL_COLLECTIONS
    )
    total_rows = sum(len(new[name]) for name in INCREMENTAL_COLLECTIONS)
    assert 0 < changed_rows < total_rows / 2

    # the warehouse equals a fresh full load of the advanced tenant, apart from records that
    # were deleted upstream (invisible to an incremental run)
    fresh, _, _ = load(sandbox, tmp_path / "fresh")
    deleted = {
        name: {str(r["id"]) for r in old[name]} - {str(r["id"]) for r in new[name]}
        for name in INCREMENTAL_COLLECTIONS
    }
    assert table_rows(settings.duckdb_path, exclude_ids=deleted) == table_rows(fresh.duckdb_path)

    # a sweep records exactly those deletions as tombstones
    run_extract(settings, "sweep", pipeline=pipeline)
    with connect(settings.duckdb_path) as con:
        rows = con.execute(
            f"SELECT collection, id FROM {DATASET_NAME}._ordway_deletions "
            "WHERE deleted_at IS NOT NULL"
        ).fetchall()
    tombstones: dict[str, set[str]] = {}
    for collection, record_id in rows:
        tombstones.setdefault(collection, set()).add(record_id)
    assert tombstones == {name: ids for name, ids in deleted.items() if ids}


def _stamp(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.mark.parametrize("lookback_hours", ["2", "0"])
def test_boundary_and_backdated_records_are_neither_lost_nor_duplicated(
    sandbox, tmp_path: Path, lookback_hours: str
) -> None:
    tenant = sandbox.get_tenant()
    settings, pipeline, _ = load(sandbox, tmp_path / "wh", ORDWAY_LOOKBACK_HOURS=lookback_hours)
    invoices = tenant["invoices"]
    boundary = max_updated(invoices)
    changed = copy.deepcopy(tenant)
    # new invoices stamped exactly at the cursor, one of them with the same id ordering below
    template = max(invoices, key=lambda r: r["updated_date"])
    for n in (1, 2):
        clone = copy.deepcopy(template)
        clone["id"] = f"INV-9999{n}"
        clone["updated_date"] = _stamp(boundary)
        clone["balance"] = f"{n}1.25"
        changed["invoices"].append(clone)
    # a back-dated change inside the lookback: an older invoice edited, stamped before the cursor
    victim = next(r for r in changed["invoices"] if r["updated_date"] < template["updated_date"])
    victim["balance"] = "0.07"
    victim["updated_date"] = _stamp(
        boundary - timedelta(minutes=45 if lookback_hours != "0" else 0)
    )
    sandbox.put_tenant(changed)

    run_extract(settings, pipeline=pipeline)
    with connect(settings.duckdb_path) as con:
        total, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT id) FROM {DATASET_NAME}.invoices"
        ).fetchone()
        balances = dict(
            con.execute(
                f"SELECT id, balance FROM {DATASET_NAME}.invoices WHERE id IN (?, ?, ?)",
                ["INV-99991", "INV-99992", victim["id"]],
            ).fetchall()
        )
    assert total == distinct == len(changed["invoices"])
    assert {k: str(v.normalize()) for k, v in balances.items()} == {
        "INV-99991": "11.25",
        "INV-99992": "21.25",
        victim["id"]: "0.07",
    }
    expected = tenant_summary(changed)
    actual = warehouse_summary(settings.duckdb_path)
    for table in expected:
        if table.startswith("invoices"):
            assert actual[table] == expected[table], table


def test_a_package_left_pending_by_a_crash_is_loaded_first_and_records_stay_unique(
    sandbox, tmp_path: Path
) -> None:
    from pipelines.ordway.client import OrdwayClient
    from pipelines.ordway.source import ordway_source

    settings = settings_for(sandbox, tmp_path)
    pipeline = make_pipeline(settings)
    # a run that died after extract + normalize, before load
    with OrdwayClient(settings) as client:
        pipeline.extract(ordway_source(settings, client, resources=["invoices", "payments"]))
    pipeline.normalize()
    assert pipeline.has_pending_data

    sandbox.advance(1)
    reopened = make_pipeline(settings)
    run_extract(settings, resources=["invoices", "payments"], pipeline=reopened)
    assert not reopened.has_pending_data
    tenant = sandbox.get_tenant()
    expected = {
        t: v
        for t, v in tenant_summary(tenant).items()
        if t.split("__")[0] in ("invoices", "payments")
    }
    actual = warehouse_summary(settings.duckdb_path)
    assert {t: actual[t] for t in expected} == expected
    with connect(settings.duckdb_path) as con:
        for name in ("invoices", "payments"):
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT id) FROM {DATASET_NAME}.{name}"
            ).fetchone()
            assert total == distinct == len(tenant[name])


def test_a_pending_package_that_cannot_load_is_dropped_and_nothing_is_lost(
    sandbox, tmp_path: Path
) -> None:
    from pipelines.ordway.client import OrdwayClient
    from pipelines.ordway.source import ordway_source

    settings = settings_for(sandbox, tmp_path)
    names = ["invoices", "payments"]
    run_extract(settings, resources=names, pipeline=make_pipeline(settings))
    sandbox.advance(1)
    pipeline = make_pipeline(settings)
    with OrdwayClient(settings) as client:
        pipeline.extract(
            ordway_source(settings, client, resources=names, snapshot=_snapshot(pipeline))
        )
    pipeline.normalize()
    # the package's cursors are already in the local state, but its job files are ruined:
    # it can never load
    jobs = list(Path(pipeline.working_dir, "load", "normalized").rglob("new_jobs/invoices.*"))
    assert jobs, "expected normalized job files for invoices"
    for job in jobs:
        job.write_bytes(b"\x00 not a load file")

    sandbox.advance(1)
    reopened = make_pipeline(settings)
    run_extract(settings, resources=names, pipeline=reopened)

    assert not reopened.has_pending_data
    tenant = sandbox.get_tenant()
    expected = {t: v for t, v in tenant_summary(tenant).items() if t.split("__")[0] in names}
    actual = warehouse_summary(settings.duckdb_path)
    assert {t: actual[t] for t in expected} == expected


def _snapshot(pipeline):
    from pipelines.ordway.snapshot import read_warehouse_snapshot

    return read_warehouse_snapshot(pipeline, ["invoices", "payments"], LOOKBACK.total_seconds())


def test_lost_local_state_is_restored_from_the_warehouse(sandbox, tmp_path: Path) -> None:
    import shutil

    old = sandbox.get_tenant()
    settings, _, _ = load(sandbox, tmp_path, ORDWAY_PAGE_SIZE="50")
    stored = cursors(settings.duckdb_path)
    shutil.rmtree(settings.pipelines_dir)
    sandbox.advance(1)
    new = sandbox.get_tenant()
    sandbox.reset_stats()
    settings, _, _ = load(sandbox, tmp_path, ORDWAY_PAGE_SIZE="50")
    requests = sandbox.stats()["requests"]
    # incremental requests, i.e. the restored cursors were used
    for name in ("invoices", "payments", "journal_entries"):
        since = max_updated(old[name]) - LOOKBACK
        assert requests[name] == expected_requests(new[name], since, 50), name
    assert stored["invoices"] is not None
    with connect(settings.duckdb_path) as con:
        total, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT id) FROM {DATASET_NAME}.invoices"
        ).fetchone()
    assert total == distinct == len(new["invoices"])


def test_backfill_reloads_a_window_without_moving_the_cursor(sandbox, tmp_path: Path) -> None:
    tenant = sandbox.get_tenant()
    settings, pipeline, _ = load(sandbox, tmp_path)
    before = cursors(settings.duckdb_path)
    rows_before = table_rows(settings.duckdb_path)
    stamps = sorted(r["updated_date"] for r in tenant["invoices"])
    start = parse_timestamp(stamps[len(stamps) // 4])
    end = parse_timestamp(stamps[len(stamps) // 2])
    sandbox.reset_stats()
    run_extract(
        settings, "backfill", start=start, end=end, resources=["invoices"], pipeline=pipeline
    )
    loaded = row_counts(pipeline).get("invoices", 0)
    in_window = sum(1 for s in stamps if start <= parse_timestamp(s) < end)
    assert loaded == in_window > 0
    assert cursors(settings.duckdb_path) == before
    assert table_rows(settings.duckdb_path) == rows_before
