"""Extraction progress in Dagster: the source's log lines in the run log, ETAs from earlier runs,
and the per-collection figures of a run as metadata.

- ``forward_source_logs(context.log)``: while the block runs, every record of the
  ``pipelines.ordway`` loggers at INFO or above, from any thread (dlt runs the resources in
  worker threads, the progress reporter in its own), goes to the Dagster run log. It is set up
  in the asset body, so it works the same in-process (``make run``, tests) and in runs the
  daemon launches, whatever the instance's ``python_logs`` settings (do not also list
  ``pipelines.ordway`` under ``managed_python_loggers``, or each line appears twice).
- ``expect_from_previous_runs``: for incremental reads, whose size the warehouse cannot tell,
  the records the previous incremental run read for the collection (materialization metadata
  ``records_read``) give the ETA; a run that read the whole table (a first load) is skipped.
- ``collection_metadata``: pages, records, requests, retries and seconds of one collection as
  numbers (plotted by the UI), and the run's per-collection table as the last entry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster import AssetKey, DagsterInstance, MetadataValue

from pipelines.ordway.contract import COLLECTIONS
from pipelines.ordway.progress import ExtractProgress

SOURCE_LOGGER = "pipelines.ordway"


class _ToDagsterLog(logging.Handler):
    def __init__(self, target: logging.Logger) -> None:
        super().__init__(level=logging.INFO)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.target.log(record.levelno, f"{record.name}: {record.getMessage()}")
        except Exception:
            self.handleError(record)


@contextmanager
def forward_source_logs(target: logging.Logger, name: str = SOURCE_LOGGER) -> Iterator[None]:
    """Sends the ``name`` logger's records (INFO and above) to ``target`` for the block."""
    source = logging.getLogger(name)
    handler = _ToDagsterLog(target)
    previous_level = source.level
    if source.getEffectiveLevel() > logging.INFO:
        source.setLevel(logging.INFO)
    source.addHandler(handler)
    try:
        yield
    finally:
        source.removeHandler(handler)
        source.setLevel(previous_level)


def _number(metadata: Mapping[str, Any], name: str) -> int | None:
    value = metadata.get(name)
    return int(value.value) if value is not None and isinstance(value.value, int | float) else None


def previous_records_read(
    instance: DagsterInstance, key: AssetKey, mode: str, current_run_id: str
) -> int | None:
    """``records_read`` of the newest materialization of ``key`` by an earlier run in ``mode``
    that did not read the whole table (a first load is no guide to a nightly read)."""
    records = instance.fetch_materializations(key, limit=100).records
    for record in records:
        if record.run_id == current_run_id or record.asset_materialization is None:
            continue
        metadata = record.asset_materialization.metadata
        if metadata.get("mode") is None or metadata["mode"].value != mode:
            continue
        read, rows = _number(metadata, "records_read"), _number(metadata, "dagster/row_count")
        if read is None or (rows is not None and read >= rows):
            continue
        return read
    return None


def expect_from_previous_runs(
    progress: ExtractProgress,
    instance: DagsterInstance,
    keys: Iterable[AssetKey],
    mode: str,
    run_id: str,
) -> None:
    """An ETA basis for incremental reads: what the previous incremental run read. Other modes
    are left to the warehouse row counts (``run_extract``)."""
    if mode != "incremental":
        return
    for key in keys:
        collection = COLLECTIONS.get(key.path[-1])
        if collection is None or not collection.incremental:
            continue  # complete listings: the warehouse's row count is the better estimate
        count = previous_records_read(instance, key, mode, run_id)
        if count:
            progress.expect(key.path[-1], count, "records the previous incremental run read")


def collection_metadata(
    progress: ExtractProgress, name: str, rows_loaded: Mapping[str, int]
) -> dict[str, Any]:
    """Numbers of one collection, then the whole run's per-collection table (kept last)."""
    rows = {row["collection"]: row for row in progress.summary_rows(rows_loaded)}
    row = rows.get(name)
    metadata: dict[str, Any] = {}
    if row is not None:
        metadata = {
            "pages": MetadataValue.int(row["pages"]),
            "records_read": MetadataValue.int(row["records"]),
            "requests": MetadataValue.int(row["requests"]),
            "retries": MetadataValue.int(row["retries"]),
            "extract_seconds": MetadataValue.float(float(row["seconds"])),
        }
    metadata["extract_summary"] = MetadataValue.md(progress.summary_markdown(rows_loaded))
    return metadata


__all__ = [
    "SOURCE_LOGGER",
    "collection_metadata",
    "expect_from_previous_runs",
    "forward_source_logs",
    "previous_records_read",
]
