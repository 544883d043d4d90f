"""Every collection of the contract, one by one, through the same paging, retry and delete
scenarios (the other suites run them on a few collections or on all at once).

Oracles: the served tenant JSON (`tenant_summary`: rows and Decimal sums per table) and the ids
the test itself deleted upstream.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ordway_sandbox.process import SandboxProcess
from pipelines.ordway.contract import COLLECTIONS, DATASET_NAME, INCREMENTAL_COLLECTIONS
from pipelines.ordway.pipeline import make_pipeline, run_extract
from tests.support.source import (
    connect,
    generated_sandbox,
    settings_for,
    tenant_summary,
    warehouse_summary,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ordway_every_collection")]


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[SandboxProcess]:
    with generated_sandbox() as process:
        yield process


@pytest.fixture
def sandbox(shared_sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    original = shared_sandbox.get_tenant()
    shared_sandbox.set_faults({})
    yield shared_sandbox
    shared_sandbox.set_faults({})
    shared_sandbox.put_tenant(original)


def tables_of(summary: dict, name: str) -> dict:
    return {table: value for table, value in summary.items() if table.split("__")[0] == name}


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_each_collection_pages_through_a_5xx_a_malformed_page_and_short_pages_to_exact_data(
    sandbox: SandboxProcess, tmp_path: Path, name: str
) -> None:
    tenant = sandbox.get_tenant()
    assert tenant[name], f"the generated tenant has no {name}"
    # pages of 5 rows: several pages per listing; page 1 fails once with 503, then once with a
    # body cut in half, then comes back short (half a page) on every listing of the collection
    sandbox.set_faults(
        {"faults": [f"error503:{name}:1:1", f"malformed:{name}:1:1", f"short:{name}:1"]}
    )
    settings = settings_for(sandbox, tmp_path, ORDWAY_PAGE_SIZE="5", ORDWAY_MAX_RETRIES="3")
    sandbox.reset_stats()
    run_extract(settings, resources=[name], pipeline=make_pipeline(settings))
    statuses = sandbox.stats()["statuses"]
    assert statuses.get("503") == 1 and statuses.get("200", 0) > 2  # the faults fired
    expected = tables_of(tenant_summary(tenant), name)
    assert tables_of(warehouse_summary(settings.duckdb_path), name) == expected


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_a_record_deleted_upstream_leaves_the_warehouse_as_the_next_complete_read_says(
    sandbox: SandboxProcess, tmp_path: Path, name: str
) -> None:
    collection = COLLECTIONS[name]
    settings = settings_for(sandbox, tmp_path)
    pipeline = make_pipeline(settings)
    run_extract(settings, resources=[name], pipeline=pipeline)
    tenant = sandbox.get_tenant()
    victim = str(tenant[name][0][collection.primary_key])
    with sandbox.client() as client:
        assert client.delete(f"/{name}/{victim}").status_code == 204

    table = f"{DATASET_NAME}.{name}"
    if collection.incremental:  # invisible to an incremental read; the sweep tombstones it
        run_extract(settings, "sweep", resources=[name], pipeline=pipeline)
        with connect(settings.duckdb_path) as con:
            tombstones = con.execute(
                f"SELECT id FROM {DATASET_NAME}._ordway_deletions "
                "WHERE collection = ? AND deleted_at IS NOT NULL",
                [name],
            ).fetchall()
            kept = con.execute(
                f"SELECT count(*) FROM {table} WHERE {collection.primary_key} = ?", [victim]
            ).fetchone()
        assert tombstones == [(victim,)] and kept == (1,)  # the raw row stays, marked deleted
    else:  # a full refresh replaces the table: the record is simply gone
        run_extract(settings, resources=[name], pipeline=pipeline)
        with connect(settings.duckdb_path) as con:
            left = con.execute(
                f"SELECT count(*) FROM {table} WHERE {collection.primary_key} = ?", [victim]
            ).fetchone()
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert left == (0,) and rows == (len(tenant[name]) - 1,)


def test_the_incremental_set_is_every_collection_with_an_updated_date_filter() -> None:
    """ordway-api.md §5.4: what the API filters by updated_date> is read incrementally; the
    customers' sub-resources follow the customers' updated_date."""
    assert set(INCREMENTAL_COLLECTIONS) == {
        "invoices",
        "payments",
        "credits",
        "refunds",
        "products",
        "subscriptions",
        "usages",
        "revenue_schedules",
        "journal_entries",
        "billing_schedules",
        "orders",
        "debit_memos",
        "statements",
        "customer_notes",
        "payment_methods",
    }
    assert {n for n, c in COLLECTIONS.items() if c.parent} == {"customer_notes", "payment_methods"}
