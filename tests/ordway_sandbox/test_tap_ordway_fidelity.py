"""Fidelity: Singer's tap-ordway 0.4.6 (from PyPI, written against the real API, in a virtual
environment of its own) reads the sandbox with every stream selected, exits 0 (its JSON schemas
accept every served field shape), and reads the same ids as our source, collection by collection.

The tap's schemas are the public clients' evidence of the real shapes (ordway-api.md §11); where
the recorded traffic and the schemas disagree, ordway_sandbox/README.md ("Fidelity") says which
the sandbox follows. The tap is installed once under ``.cache/`` by
``ordway_sandbox/tap_ordway.py`` (PyPI needed on that first run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ordway_sandbox.process import SandboxProcess, credentials_env
from ordway_sandbox.tap_ordway import tap_config
from pipelines.ordway.contract import COLLECTIONS, DATASET_NAME
from pipelines.ordway.pipeline import make_pipeline, run_extract
from tests.support.source import connect, settings_for
from tests.support.tap_ordway import STREAMS, run_tap, tap_environment

pytestmark = pytest.mark.slow


def our_ids(duckdb_path: Path, collection: str, path: tuple[str, ...]) -> list[str]:
    """The ids our source loaded into a collection's table (root or child)."""
    table = "__".join((collection, *path))
    key = "id" if path else COLLECTIONS[collection].primary_key
    with connect(duckdb_path) as con:
        rows = con.execute(f"SELECT {key} FROM {DATASET_NAME}.{table}").fetchall()
    return [str(row[0]) for row in rows]


def test_tap_ordway_reads_every_stream_of_the_sandbox_and_the_same_ids_as_our_source(
    tmp_path: Path,
) -> None:
    python = tap_environment()
    args = ["--customers", "12", "--seed", "4", "--as-of", "2026-03-31"]
    with SandboxProcess(args) as sandbox:
        tenant = sandbox.get_tenant()
        settings = settings_for(sandbox, tmp_path)
        run_extract(settings, "full", pipeline=make_pipeline(settings))
        config = tap_config(sandbox.base_url, credentials_env())
        records, stderr = run_tap(python, config, tmp_path)

    assert set(STREAMS) == set(records), (set(STREAMS) ^ set(records), stderr[-2000:])
    assert {collection for collection, _ in STREAMS.values()} == set(COLLECTIONS)
    for stream, (collection, path) in sorted(STREAMS.items()):
        ours = our_ids(settings.duckdb_path, collection, path)
        assert ours, f"{collection}: the tenant should hold records ({len(tenant[collection])})"
        # the tap emits one row per line for invoices, orders and subscriptions
        assert sorted(set(records[stream])) == sorted(ours), stream
        if stream not in ("invoices", "orders", "subscriptions"):
            assert len(records[stream]) == len(ours), stream
