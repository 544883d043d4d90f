"""The dlt assets: one Dagster asset per Ordway collection, key ``["ordway_raw", <collection>]``,
in two multi-assets, built by ``build_raw_assets(partitions_def, warehouse)``, that both call
``run_extract`` (the CLI's entry point):

- ``ordway_raw_incremental``: the incremental collections (``INCREMENTAL_COLLECTIONS``, the
  customers' notes and payment methods among them, read for the customers whose
  ``updated_date`` moved), monthly partitions (``assets/partitions.py``), single-run backfills;
- ``ordway_raw_full_refresh``: the full-refresh collections (``FULL_REFRESH_COLLECTIONS``) and
  the bookkeeping asset ``_ordway_deletions``, unpartitioned (rebuilt whole every run).

A run that selects both (every job) extracts twice, each collection once: the incremental
collections with the run's mode and window, then the full-refresh ones (always listed completely
and replaced). The warehouse lock and the ``ordway_warehouse`` pool keep the two apart, and each
has its own rate limiter only while it runs, so the requests-per-second ceiling holds.

The asset graph is built from *spec* sources: the real ``ordway_source`` with placeholder
settings and a client whose transport refuses every request, so the definitions load without
credentials and never touch the network. The asset bodies do not call
``DagsterDltResource.run`` (it would drop dlt's pending packages and skip the warehouse snapshot
that delete detection needs); they take the real settings from the ``ordway`` resource
(``assets/resources.py``: the environment, read at run time), hold the warehouse lock and call
``run_extract``.

Which extraction the incremental asset performs (``extraction_plan``), from the run's tags and
partitions:

- tag ``ordway/mode`` = ``full`` / ``sweep`` (those jobs): full / sweep;
- tag ``ordway/mode`` = ``incremental`` and no ``dagster/backfill`` tag (nightly, ``make run``):
  incremental, since the cursor minus the lookback;
- a ``dagster/backfill`` tag (any UI backfill), ``ordway/mode=backfill``, or no ``ordway/mode``
  tag (materialized from the asset graph): backfill of the records updated in [start of the
  first partition, end of the last partition), cursors untouched.

The full-refresh asset reads its selected collections completely whatever the mode; with none
selected (only ``_ordway_deletions``) it extracts nothing and reports the tombstone table.

Progress: both bodies forward the source's log records into the run log
(``assets/progress.py``) and record pages, records, requests, retries and seconds per
collection, ending with the run's per-collection table (``extract_summary``).
"""

import functools
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dlt
import httpx
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
)
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.pipeline.exceptions import PipelineStepFailed

from assets.locking import warehouse_lock
from assets.names import BACKFILL_TAG, MODE_TAG, RAW_DATASET, RAW_GROUP, WAREHOUSE_POOL
from assets.progress import collection_metadata, expect_from_previous_runs, forward_source_logs
from assets.resources import OrdwayResource
from pipelines.config import OrdwaySettings, Warehouse
from pipelines.ordway.client import OrdwayClient, OrdwayError
from pipelines.ordway.contract import (
    COLLECTIONS,
    DELETIONS_TABLE,
    FULL_REFRESH_COLLECTIONS,
    INCREMENTAL_COLLECTIONS,
    PIPELINE_NAME,
)
from pipelines.ordway.modes import COMPLETE_LISTING_MODES, MODES, Mode
from pipelines.ordway.pipeline import (
    make_pipeline,
    row_counts,
    run_extract,
    unavailable_collections,
)
from pipelines.ordway.progress import ExtractProgress
from pipelines.ordway.snapshot import table_row_counts
from pipelines.ordway.source import ordway_source

#: A backfill of any range is one run (one extraction window, one dbt build).
BACKFILL_POLICY = BackfillPolicy.single_run()


def raw_asset_key(table: str) -> AssetKey:
    """The asset of a raw table: child tables (``invoices__line_items``) belong to their
    collection; dlt's load log ``_dlt_loads`` to the bookkeeping asset ``_ordway_deletions``
    (both are written by every extract run)."""
    if table == "_dlt_loads":
        return AssetKey([RAW_DATASET, DELETIONS_TABLE])
    return AssetKey([RAW_DATASET, table.split("__", 1)[0]])


RAW_COLLECTION_KEYS = {name: raw_asset_key(name) for name in COLLECTIONS}
INCREMENTAL_KEYS = [RAW_COLLECTION_KEYS[name] for name in INCREMENTAL_COLLECTIONS]
DELETIONS_KEY = raw_asset_key(DELETIONS_TABLE)


# ------------------------------------------------------------------------- extraction plan


@dataclass(frozen=True)
class ExtractionPlan:
    """What one run extracts: the mode and, for a backfill, the ``updated_date`` window."""

    mode: Mode
    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        if self.start is not None and self.end is not None:
            return f"{self.mode} [{self.start.isoformat()}, {self.end.isoformat()})"
        return self.mode


def tagged_mode(tags: Mapping[str, str]) -> str:
    """The ``ordway/mode`` tag ('' when absent); an unknown value fails the run."""
    tagged = tags.get(MODE_TAG, "").strip().lower()
    if tagged and tagged not in MODES:
        raise Failure(f"Run tag {MODE_TAG}={tagged!r} is not one of {', '.join(MODES)}")
    return tagged


def extraction_plan(
    tags: Mapping[str, str], window: tuple[datetime, datetime] | None
) -> ExtractionPlan:
    """Chooses the incremental asset's extraction (table in the module docstring).

    ``window`` is the run's partition time window (start of the first partition, end of the
    last).
    """
    tagged = tagged_mode(tags)
    if tagged in COMPLETE_LISTING_MODES:
        return ExtractionPlan(mode=tagged)  # type: ignore[arg-type]
    if tagged == "backfill" or BACKFILL_TAG in tags or not tagged:
        if window is None:
            raise Failure("A backfill run needs a partition or a partition range (the window)")
        return ExtractionPlan(mode="backfill", start=window[0], end=window[1])
    return ExtractionPlan(mode="incremental")


def _run_window(context: AssetExecutionContext) -> tuple[datetime, datetime] | None:
    if not context.has_partition_key and not context.has_partition_key_range:
        return None
    time_window = context.partition_time_window
    return time_window.start, time_window.end


# ------------------------------------------------------------------------ asset definitions


class _NoRequestTransport(httpx.BaseTransport):
    """The spec source's transport: building the asset graph must never call Ordway."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the spec Ordway client never sends requests")


_SPEC_SETTINGS = OrdwaySettings(
    api_key="spec",
    company="spec",
    user_email="spec@example.invalid",
    user_token="spec",
    base_url="http://spec.invalid/api/v1",
)


@functools.cache
def _spec_dir() -> str:
    """dlt writes a working directory when a pipeline object is created; the spec one lives in a
    temporary directory (removed at exit), never in DLT_PIPELINES_DIR."""
    return tempfile.TemporaryDirectory(prefix="ordway-dagster-spec-").name


def _spec_pipeline(warehouse: Warehouse) -> dlt.Pipeline:
    # Only names the storage kind in the asset specs; runs build the real, validated destination
    # through pipelines.ordway.pipeline.make_pipeline.
    destination: Any = (
        dlt.destinations.snowflake()
        if warehouse == "snowflake"
        else dlt.destinations.duckdb(credentials=f"{_spec_dir()}/spec.duckdb")
    )
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=destination,
        dataset_name=RAW_DATASET,
        pipelines_dir=_spec_dir(),
    )


def _spec_source(names: tuple[str, ...], with_deletions: bool) -> Any:
    source = ordway_source(
        _SPEC_SETTINGS,
        OrdwayClient(_SPEC_SETTINGS, transport=_NoRequestTransport()),
        mode="incremental",
        resources=names,
    )
    return source if with_deletions else source.with_resources(*names)


def _description(name: str) -> str:
    if name == DELETIONS_TABLE:
        return (
            "Pipeline bookkeeping written by every extract run: `_ordway_deletions` (ids that "
            "vanished upstream, found by the weekly sweep and the full refresh) and dlt's load "
            "log `_dlt_loads` (the freshness check reads it). Unpartitioned."
        )
    collection = COLLECTIONS[name]
    key = collection.primary_key
    if collection.parent:
        endpoint = f"GET /{collection.parent}/{{id}}/{name}"
        load = (
            f"read for the {collection.parent} whose updated_date moved (all of them in full "
            f"and sweep runs), merged on {key}; monthly partitions of the {collection.parent}' "
            "updated_date"
        )
    elif collection.incremental:
        endpoint = f"GET /{name}"
        load = f"incremental on updated_date, merged on {key}; monthly partitions of updated_date"
    else:
        endpoint = f"GET /{name}"
        load = "listed completely and replaced every run; unpartitioned"
    children = sorted({"__".join((name, *path)) for path in collection.tables if path})
    text = f"Ordway `{endpoint}` -> `{RAW_DATASET}.{name}` ({load})."
    if children:
        text += " Child tables: " + ", ".join(f"`{c}`" for c in children) + "."
    return text


class OrdwayDltTranslator(DagsterDltTranslator):
    """One asset per collection, key ``["ordway_raw", <collection>]``, group ``ordway_raw``,
    kinds dlt + the warehouse, no upstream asset."""

    def __init__(self, warehouse: Warehouse) -> None:
        super().__init__()
        self.warehouse = warehouse

    def get_asset_spec(self, data: DltResourceTranslatorData):  # type: ignore[override]
        spec = super().get_asset_spec(data)
        name = data.resource.name
        return spec.replace_attributes(
            key=raw_asset_key(name),
            deps=[],
            group_name=RAW_GROUP,
            description=_description(name),
            kinds={"dlt", self.warehouse},
        )


def ordway_error_in(exc: BaseException) -> OrdwayError | None:
    """The first Ordway error in an exception's chain (causes and contexts). dlt wraps a failed
    resource, and with parallel resources the error it reports can be a secondary one
    ("generator already executing") whose context holds the real failure."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OrdwayError):
            return current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        inner = getattr(current, "exception", None)  # PipelineStepFailed.exception
        if isinstance(inner, BaseException):
            pending.append(inner)
    return None


def _with_ordway_cause(exc: PipelineStepFailed) -> BaseException:
    """A Failure naming the Ordway error behind a failed dlt step, or the step error itself."""
    cause = ordway_error_in(exc)
    if cause is None:
        return exc
    return Failure(description=f"Extraction failed at dlt step {exc.step}: {cause}")


def _selected(context: AssetExecutionContext, names: tuple[str, ...]) -> list[str]:
    chosen = {key.path[-1] for key in context.selected_asset_keys}
    return [name for name in names if name in chosen]


#: Materialization metadata of a collection the run skipped because Ordway refused its list
#: endpoint (403/404 on page 1), or that the settings leave out.
UNAVAILABLE_METADATA = "ordway/unavailable"
SKIPPED_METADATA = "ordway/skipped"


def _extract(
    context: AssetExecutionContext,
    settings: OrdwaySettings,
    plan: ExtractionPlan,
    names: list[str],
    window_text: str,
) -> Iterator[MaterializeResult]:
    """``run_extract`` of ``names`` under the warehouse lock, the source's log in the run log,
    then one materialization per selected asset."""
    progress = ExtractProgress(settings.progress_seconds)
    selected = sorted(context.selected_asset_keys, key=lambda k: k.to_user_string())
    expect_from_previous_runs(progress, context.instance, selected, plan.mode, context.run_id)
    context.log.info(
        f"Extracting {len(names)} Ordway collections ({', '.join(names) or 'none'}), mode "
        f"{plan.describe()}, into {settings.warehouse} ({RAW_DATASET}); progress every "
        f"{settings.progress_seconds:g}s"
    )
    load_ids: list[str] = []
    with warehouse_lock() as lock, forward_source_logs(context.log):
        context.log.info(f"Holding the warehouse lock {lock}")
        pipeline = make_pipeline(settings)
        loaded: dict[str, int] = {}
        unavailable = {}
        if names:
            try:
                info = run_extract(
                    settings,
                    mode=plan.mode,
                    start=plan.start,
                    end=plan.end,
                    resources=names,
                    pipeline=pipeline,
                    progress=progress,
                )
            except PipelineStepFailed as exc:
                raise _with_ordway_cause(exc) from exc
            load_ids = list(info.loads_ids)
            loaded = row_counts(pipeline)
            unavailable = unavailable_collections(pipeline)
        totals = table_row_counts(pipeline, [key.path[-1] for key in selected])
    enabled = set(settings.enabled(names))
    context.log.info(
        f"dlt load {', '.join(load_ids) or '(none)'}: {sum(loaded.values())} rows written"
    )
    for key in selected:
        name = key.path[-1]
        tables = {t: n for t, n in loaded.items() if raw_asset_key(t) == key and t != "_dlt_loads"}
        context.log.info(f"{name}: {sum(tables.values())} rows loaded, {totals.get(name, 0)} now")
        metadata: dict[str, Any] = {
            "mode": plan.mode,
            "window": window_text,
            "rows_loaded": MetadataValue.json(dict(sorted(tables.items()))),
            "rows_loaded_total": sum(tables.values()),
            "dlt_load_ids": ", ".join(load_ids) or "(none)",
            "dagster/row_count": MetadataValue.int(totals.get(name, 0)),
            "table": f"{RAW_DATASET}.{name}",
        }
        if names:
            metadata.update(collection_metadata(progress, name, loaded))
        if name in unavailable:  # the check collection_available turns this into a warning
            metadata[UNAVAILABLE_METADATA] = unavailable[name].describe()
            metadata["http_status"] = MetadataValue.int(unavailable[name].status)
            context.log.warning(unavailable[name].describe())
        elif name in names and name not in enabled:
            metadata[SKIPPED_METADATA] = (
                "left out by ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS: not extracted, "
                "table unchanged"
            )
        yield MaterializeResult(asset_key=key, metadata=metadata)


def build_raw_assets(
    partitions_def: PartitionsDefinition, warehouse: Warehouse
) -> list[AssetsDefinition]:
    """The two raw multi-assets for ``warehouse`` (their kinds), the incremental one partitioned
    by ``partitions_def``. Builds spec sources only: no credentials, no request."""
    pipeline = _spec_pipeline(warehouse)

    @dlt_assets(
        dlt_source=_spec_source(INCREMENTAL_COLLECTIONS, with_deletions=False),
        dlt_pipeline=pipeline,
        name="ordway_raw_incremental",
        dagster_dlt_translator=OrdwayDltTranslator(warehouse),
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
    )
    def ordway_raw_incremental(
        context: AssetExecutionContext, ordway: OrdwayResource
    ) -> Iterator[MaterializeResult]:
        """Extracts the selected incremental collections (nightly, full, sweep or backfill)."""
        window = _run_window(context)
        plan = extraction_plan(context.run.tags, window)
        names = _selected(context, INCREMENTAL_COLLECTIONS)
        if plan.start and plan.end:
            window_text = f"[{plan.start.isoformat()}, {plan.end.isoformat()})"
        elif plan.mode == "incremental":
            window_text = "since the cursor minus the lookback"
        else:
            window_text = "every record"
        yield from _extract(context, ordway.settings(), plan, names, window_text)

    @dlt_assets(
        dlt_source=_spec_source(FULL_REFRESH_COLLECTIONS, with_deletions=True),
        dlt_pipeline=pipeline,
        name="ordway_raw_full_refresh",
        dagster_dlt_translator=OrdwayDltTranslator(warehouse),
        pool=WAREHOUSE_POOL,
    )
    def ordway_raw_full_refresh(
        context: AssetExecutionContext, ordway: OrdwayResource
    ) -> Iterator[MaterializeResult]:
        """Re-reads and replaces the selected full-refresh collections, whatever the run's mode."""
        tagged = tagged_mode(context.run.tags)
        plan = ExtractionPlan(mode="full" if tagged in COMPLETE_LISTING_MODES else "incremental")
        names = _selected(context, FULL_REFRESH_COLLECTIONS)
        yield from _extract(context, ordway.settings(), plan, names, "every record")

    return [ordway_raw_incremental, ordway_raw_full_refresh]


__all__ = [
    "BACKFILL_POLICY",
    "DELETIONS_KEY",
    "INCREMENTAL_KEYS",
    "RAW_COLLECTION_KEYS",
    "ExtractionPlan",
    "build_raw_assets",
    "extraction_plan",
    "raw_asset_key",
]
