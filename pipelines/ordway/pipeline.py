"""Pipeline and destination factory, and `run_extract`, the one entry point that loads Ordway
into the warehouse (used by the CLI, Dagster, the demo and the tests).

Failure semantics (verified by tests/pipelines/ordway/):

- dlt commits the pipeline state (the cursors) together with the load package at the end of a
  complete extraction. An extraction that fails (HTTP error, type error, process killed) leaves
  neither a package nor new cursors: the warehouse and the cursors stay as they were.
- A package that was extracted but not (fully) loaded, e.g. because the process died during
  normalize/load, is pending. `run_extract` first loads pending packages, then extracts anew.
  Merges are idempotent, so loading a package twice cannot duplicate a record.
- If the local dlt working directory is lost, dlt restores state and schema from the warehouse
  (`_dlt_pipeline_state`) on the next run.
- A collection whose list endpoint answers 403/404 on its first page is skipped and the rest
  loads; `unavailable_collections(pipeline)` names the skipped ones after the run.
- The warehouse records the Ordway company it holds (`_ordway_company`: a fingerprint of company
  and API host, never the name). Credentials of another company fail before any request to
  Ordway and before anything is written (`WarehouseCompanyError`).
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dlt
import httpx
from dlt.common.destination import Destination
from dlt.common.pipeline import LoadInfo
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from pipelines.config import ConfigError, OrdwaySettings
from pipelines.ordway.client import OrdwayClient, OrdwayError
from pipelines.ordway.contract import COMPANY_TABLE, DATASET_NAME, PIPELINE_NAME, declared_tables
from pipelines.ordway.modes import Mode, collections_to_extract, detects_deletes, lists_completely
from pipelines.ordway.progress import ExtractProgress, expectations
from pipelines.ordway.recovery import discard_rows_of_interrupted_jobs
from pipelines.ordway.snapshot import read_warehouse_snapshot, table_row_counts
from pipelines.ordway.source import UNAVAILABLE_METRIC, ordway_source
from pipelines.warehouse import dlt_destination

logger = logging.getLogger(__name__)

#: Full-refresh tables are replaced through a staging table in one transaction, so readers
#: never see an empty table.
REPLACE_STRATEGY = "insert-from-staging"

#: Load files per warehouse. DuckDB loads Parquet with a columnar COPY, an order of magnitude
#: faster and far leaner than `insert_values` (huge INSERT statements parsed in memory); money
#: stays exact as Parquet decimal128(38, 10). Snowflake keeps dlt's preferred format (jsonl).
LOADER_FILE_FORMATS: dict[str, str | None] = {"duckdb": "parquet", "snowflake": None}

#: dlt settings that make a run cheaper, applied unless the environment sets them. The files
#: they affect are short-lived local intermediates, so gzip only costs CPU (about a sixth of a
#: full load in the profile in benchmarks/README.md). dlt buffers this many rows per table
#: before writing them out (default 5,000): 1,000 takes a third off the extract and normalize
#: peak memory at no measurable cost in time.
PERFORMANCE_DEFAULTS = {
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    "DATA_WRITER__BUFFER_MAX_ITEMS": "1000",
}


#: mallopt's parameter for the arena cap (glibc's malloc.h: M_ARENA_MAX).
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int) -> None:
    """Caps glibc's malloc arenas of this process at `arenas` (`MALLOC_ARENA_MAX`; 0 leaves
    glibc's default). glibc gives threads arenas of their own, up to 8 per core, and the
    extract's threads (dlt's pool, the per-customer reads) leave freed memory spread over them:
    a full load of 10,000 customers peaked at 835 MB with the default and at 716-723 MB with 2
    (benchmarks/README.md). Arenas made before stay. A C library without mallopt is left as
    it is."""
    if arenas <= 0:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_ARENA_MAX, arenas)


def make_destination(settings: OrdwaySettings) -> Destination[Any, Any]:
    """The settings' warehouse as a dlt destination (``pipelines/warehouse.py``), replacing
    full-refresh tables through a staging table."""
    return dlt_destination(
        settings.warehouse, settings.duckdb_path, replace_strategy=REPLACE_STRATEGY
    )


def make_pipeline(settings: OrdwaySettings) -> dlt.Pipeline:
    """Pipeline `ordway` into dataset `ordway_raw`, working dir DLT_PIPELINES_DIR."""
    destination = make_destination(settings)
    pipelines_dir = settings.pipelines_dir.expanduser().resolve()
    for name, value in PERFORMANCE_DEFAULTS.items():
        os.environ.setdefault(name, value)
    try:
        pipelines_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"DLT_PIPELINES_DIR={pipelines_dir}: cannot create it ({exc.strerror})"
        ) from None
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=destination,
        dataset_name=DATASET_NAME,
        pipelines_dir=str(pipelines_dir),
    )


class WarehouseCompanyError(ConfigError):
    """The warehouse holds another Ordway company's data than the credentials name."""


def recorded_companies(pipeline: dlt.Pipeline) -> set[str] | None:
    """Company fingerprints recorded in the warehouse (`_ordway_company`), read from the
    warehouse itself (not from the local dlt directory); None before the first load."""
    try:
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(COMPANY_TABLE)
            rows = client.execute_sql(f"SELECT company_fingerprint FROM {table}") or []
    except DatabaseUndefinedRelation:
        return None
    return {str(row[0]) for row in rows} or None


def check_company(settings: OrdwaySettings, pipeline: dlt.Pipeline) -> bool:
    """Raises WarehouseCompanyError when the warehouse holds another company than the
    credentials name; returns True when the warehouse has no company recorded yet (the run
    then records it, in the same load as its data)."""
    recorded = recorded_companies(pipeline)
    if recorded is None:
        return True
    if settings.company_fingerprint in recorded:
        return False
    if settings.warehouse == "duckdb":
        where = f"The warehouse DUCKDB_PATH={settings.duckdb_path}"
        remedy = "set DUCKDB_PATH to another file"
    else:
        where = f"The Snowflake warehouse (SNOWFLAKE_DATABASE, schema {DATASET_NAME})"
        remedy = "set SNOWFLAKE_DATABASE to another database"
    raise WarehouseCompanyError(
        f"{where} holds the data of another Ordway company (company fingerprint "
        f"{', '.join(sorted(f[:12] for f in recorded))}) than ORDWAY_COMPANY with the API host "
        f"{settings.api_host} names (fingerprint {settings.company_fingerprint[:12]}). Nothing "
        "was requested from Ordway and nothing was written. Each Ordway company needs its own "
        f"warehouse: {remedy}, and DLT_PIPELINES_DIR to another directory (the cursors of one "
        "company must never be used for another)."
    )


@dataclass(frozen=True)
class UnavailableCollection:
    """A collection skipped by a run because its list endpoint answered 403/404 on page 1."""

    collection: str
    status: int
    path: str

    def describe(self) -> str:
        return (
            f"{self.collection}: GET {self.path} answered HTTP {self.status}; skipped (tables "
            f"and cursor unchanged). Leave it out with ORDWAY_SKIP_COLLECTIONS={self.collection}"
        )


def unavailable_collections(pipeline: dlt.Pipeline) -> dict[str, UnavailableCollection]:
    """The collections the last `run_extract` skipped as unavailable (from dlt's trace)."""
    trace = pipeline.last_trace
    info = trace.last_extract_info if trace is not None else None
    result: dict[str, UnavailableCollection] = {}
    if info is None:
        return result
    for metrics in info.metrics.values():
        for step in metrics:
            for name, resource in step["resource_metrics"].items():
                mark = resource.custom_metrics.get(UNAVAILABLE_METRIC)
                if mark:
                    result[name] = UnavailableCollection(name, int(mark["status"]), mark["path"])
    return result


def create_declared_tables(pipeline: dlt.Pipeline, collections: Sequence[str]) -> None:
    """Creates the declared tables of `collections` that the warehouse lacks (a child table no
    record has filled yet), with their declared columns and dlt's link columns, through dlt's
    own schema migration. Root tables are created by the load itself."""
    schema = pipeline.default_schema
    tables = [t for name in collections for t in declared_tables(name) if t in schema.tables]
    if not tables:
        return
    with pipeline.destination_client() as client:
        client.update_stored_schema(only_tables=tables, force=True)


def run_extract(
    settings: OrdwaySettings,
    mode: Mode = "incremental",
    start: datetime | None = None,
    end: datetime | None = None,
    resources: Sequence[str] | None = None,
    *,
    pipeline: dlt.Pipeline | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: ExtractProgress | None = None,
) -> LoadInfo:
    """Extracts Ordway into the warehouse and returns dlt's LoadInfo.

    Modes: `incremental` (nightly: changed records since the cursor minus the lookback),
    `full` (every collection listed completely, cursors moved to the max seen, deletes
    detected), `sweep` (incremental collections listed completely to detect deletes; merges,
    cursors untouched), `backfill` (records updated in [start, end); cursors untouched).

    The collections are `resources` (default: the mode's) that ORDWAY_COLLECTIONS /
    ORDWAY_SKIP_COLLECTIONS enable. A collection answering 403/404 on its first page is skipped
    (see `unavailable_collections`); every other extracted collection has all its declared
    tables afterwards, even when it had no record.

    Raises OrdwayError / dlt's PipelineStepFailed on failure; the warehouse and the cursors are
    then unchanged. Raises WarehouseCompanyError, before any request, when the warehouse holds
    another Ordway company.

    `progress` (default: a new `ExtractProgress` every `settings.progress_seconds`) counts pages,
    records, requests and retries per collection and logs them while the run lasts; collections
    it has no expectation for get one from the warehouse (`progress.expectations`).
    """
    names = collections_to_extract(settings, mode, start, end, resources)
    limit_malloc_arenas(settings.malloc_arena_max)  # before the extract's threads start
    pipeline = pipeline or make_pipeline(settings)
    first_load = check_company(settings, pipeline)

    if pipeline.has_pending_data:
        logger.warning("loading packages left pending by an earlier run first")
        try:
            discard_rows_of_interrupted_jobs(pipeline)  # a kill mid-load must not duplicate rows
            pipeline.run()
        except Exception as exc:  # a package that cannot be loaded must not block every run
            # The local state already carries that package's cursors. The warehouse's copy only
            # advances with a completed load, so forget the local state and start again from
            # there: the records of the dropped package are extracted anew.
            logger.error(
                "pending package could not be loaded (%s); dropping local dlt state and resuming "
                "from the state stored in the warehouse",
                type(exc).__name__,
            )
            pipeline = pipeline.drop()
        # a first run that crashed mid-load recorded its company with the package just loaded
        first_load = check_company(settings, pipeline)

    snapshot = read_warehouse_snapshot(
        pipeline, names, settings.lookback_seconds, with_ids=detects_deletes(mode)
    )
    progress = progress or ExtractProgress(settings.progress_seconds)
    unknown_size = [n for n in names if progress.expected(n) is None]
    counts = table_row_counts(pipeline, [n for n in unknown_size if lists_completely(mode, n)])
    for name, (expected, basis) in expectations(mode, unknown_size, counts).items():
        if expected is not None or not progress.has_expectation(name):
            progress.expect(name, expected, basis)
    client = OrdwayClient(settings, transport=transport, progress=progress)
    try:
        source = ordway_source(
            settings,
            client,
            mode=mode,
            start=start,
            end=end,
            resources=names,
            snapshot=snapshot,
            record_company=first_load,
        )
        with progress.running():
            info = pipeline.run(
                source, loader_file_format=LOADER_FILE_FORMATS.get(settings.warehouse)
            )
    finally:
        client.close()
    unavailable = unavailable_collections(pipeline)
    create_declared_tables(pipeline, [n for n in names if n not in unavailable])
    progress.log_summary(row_counts(pipeline))
    return info


def row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows written per table by the last run (from dlt's normalize step)."""
    trace = pipeline.last_trace
    if trace is None or trace.last_normalize_info is None:
        return {}
    return dict(trace.last_normalize_info.row_counts)


__all__ = [
    "OrdwayError",
    "UnavailableCollection",
    "WarehouseCompanyError",
    "check_company",
    "create_declared_tables",
    "limit_malloc_arenas",
    "make_destination",
    "make_pipeline",
    "recorded_companies",
    "row_counts",
    "run_extract",
    "unavailable_collections",
]
