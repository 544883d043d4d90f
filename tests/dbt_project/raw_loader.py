"""Load a tenant dict (collection -> wire records) into a DuckDB ``ordway_raw`` dataset.

A test stand-in for the dlt source (pipelines/ordway/): one table per collection with the raw
field names, nested objects flattened with ``__``, embedded arrays as child tables
``<collection>__<child>``, and the source's type conventions: ``""``/``"-"`` become null and
decimal strings become ``Decimal`` (loaded as DECIMAL). Dates stay text, as they may from the
real source; staging casts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt

DATASET = "ordway_raw"
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def wire_to_raw(value: Any) -> Any:
    """Apply the source's value conventions recursively to one wire value."""
    if isinstance(value, dict):
        return {key: wire_to_raw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_to_raw(item) for item in value]
    if isinstance(value, str):
        if value in ("", "-"):
            return None
        if _DECIMAL.match(value):
            return Decimal(value)
    return value


def load_tenant(
    tenant: Mapping[str, Iterable[Mapping[str, Any]]],
    duckdb_path: Path,
    pipelines_dir: Path,
    deletions: Iterable[Mapping[str, Any]] = (),
) -> None:
    """Replace the raw tables of every collection in ``tenant`` (keys starting with ``_`` are
    skipped) and, when given, ``_ordway_deletions`` (``collection``, ``id``, ``deleted_at``).
    A collection with no records gets no table, as from the dlt source; the load is recorded
    in ``_dlt_loads`` even when nothing at all was loaded."""
    pipeline = dlt.pipeline(
        pipeline_name="dbt_fixture",
        pipelines_dir=str(pipelines_dir),
        destination=dlt.destinations.duckdb(str(duckdb_path)),
        dataset_name=DATASET,
    )
    resources = [
        dlt.resource(
            [wire_to_raw(dict(record)) for record in records],
            name=collection,
            write_disposition="replace",
        )
        for collection, records in tenant.items()
        if not collection.startswith("_")
    ]
    rows = [dict(row) for row in deletions]
    if rows:
        resources.append(
            dlt.resource(
                rows,
                name="_ordway_deletions",
                write_disposition="replace",
                columns={"deleted_at": {"data_type": "timestamp", "nullable": True}},
            )
        )
    info = pipeline.run(resources)
    info.raise_on_failed_jobs()
