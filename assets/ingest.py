"""The dlt assets: one Dagster asset per Ordway collection, key ``["ordway_raw", <collection>]``.

The asset graph is built from a *spec* source: the real ``ordway_source`` with placeholder
settings and a client whose transport refuses every request, so the definitions load without
credentials and never touch the network. The asset body does not call
``DagsterDltResource.run`` (it would drop dlt's pending packages and skip the warehouse snapshot
that delete detection needs); it builds real settings from the environment, holds the warehouse
lock and calls ``run_extract``, the same entry point as the CLI.

Which extraction a run performs (``extraction_plan``), from its tags and partitions:

| run | mode | window |
|---|---|---|
| tag ``ordway/mode`` = ``full`` / ``sweep`` (those jobs) | full / sweep | - |
| tag ``ordway/mode`` = ``backfill``, or a ``dagster/backfill`` tag, or no ``ordway/mode`` tag
  and a partition range of more than one day | backfill | [start of first partition, end of
  last partition) |
| anything else (nightly, ``make run``) | incremental (cursor - lookback) | - |

In ``sweep`` and ``backfill`` modes the selected full-refresh collections (customers, plans,
revenue_rules, chart_of_accounts) are re-read completely and replaced: they have no
``updated_date`` window, they are small, and every selected asset then has a real
materialization.
"""

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
    Failure,
    MaterializeResult,
    MetadataValue,
)
from dagster._core.storage.tags import BACKFILL_ID_TAG
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.pipeline.exceptions import PipelineStepFailed

from assets.locking import warehouse_lock
from assets.resources import (
    BACKFILL_POLICY,
    MODE_TAG,
    PARTITIONS_DEF,
    RAW_DATASET,
    RAW_GROUP,
    WAREHOUSE_POOL,
    warehouse_kind,
)
from pipelines.ordway.client import OrdwayClient, OrdwayError
from pipelines.ordway.pipeline import make_pipeline, row_counts, run_extract
from pipelines.ordway.settings import (
    COLLECTIONS,
    DELETIONS_TABLE,
    FULL_REFRESH_COLLECTIONS,
    PIPELINE_NAME,
    ConfigError,
    Mode,
    OrdwaySettings,
)
from pipelines.ordway.source import default_resources, ordway_source

EXTRACT_MODES = ("incremental", "full", "sweep", "backfill")


def raw_asset_key(table: str) -> AssetKey:
    """The asset of a raw table: child tables (``invoices__line_items``) belong to their
    collection; dlt's load log ``_dlt_loads`` to the bookkeeping asset ``_ordway_deletions``
    (both are written by every extract run)."""
    if table == "_dlt_loads":
        return AssetKey([RAW_DATASET, DELETIONS_TABLE])
    return AssetKey([RAW_DATASET, table.split("__", 1)[0]])


RAW_COLLECTION_KEYS = {name: raw_asset_key(name) for name in COLLECTIONS}
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


def extraction_plan(
    tags: Mapping[str, str],
    window: tuple[datetime, datetime] | None,
    partition_count: int,
) -> ExtractionPlan:
    """Chooses the extraction mode of a run (table in the module docstring).

    ``window`` is the run's partition time window (start of the first partition, end of the
    last), ``partition_count`` how many daily partitions it spans.
    """
    tagged = tags.get(MODE_TAG, "").strip().lower()
    if tagged and tagged not in EXTRACT_MODES:
        raise Failure(f"Run tag {MODE_TAG}={tagged!r} is not one of {', '.join(EXTRACT_MODES)}")
    if tagged in ("full", "sweep"):
        return ExtractionPlan(mode=tagged)  # type: ignore[arg-type]
    is_backfill = (
        tagged == "backfill" or BACKFILL_ID_TAG in tags or (not tagged and partition_count > 1)
    )
    if is_backfill:
        if window is None:
            raise Failure("A backfill run needs a partition or a partition range (the window)")
        return ExtractionPlan(mode="backfill", start=window[0], end=window[1])
    return ExtractionPlan(mode="incremental")


def _run_window(context: AssetExecutionContext) -> tuple[tuple[datetime, datetime] | None, int]:
    if not context.has_partition_key and not context.has_partition_key_range:
        return None, 0
    time_window = context.partition_time_window
    key_range = context.partition_key_range
    count = len(PARTITIONS_DEF.get_partition_keys_in_range(key_range))
    return (time_window.start, time_window.end), count


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
#: dlt writes a working directory when a pipeline object is created; the spec one lives in a
#: temporary directory (removed at exit), never in DLT_PIPELINES_DIR.
_SPEC_DIR = tempfile.TemporaryDirectory(prefix="ordway-dagster-spec-")


def _spec_pipeline() -> dlt.Pipeline:
    # Only names the storage kind in the asset specs; runs build the real, validated destination
    # through pipelines.ordway.pipeline.make_pipeline.
    destination: Any = (
        dlt.destinations.snowflake()
        if warehouse_kind() == "snowflake"
        else dlt.destinations.duckdb(credentials=f"{_SPEC_DIR.name}/spec.duckdb")
    )
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=destination,
        dataset_name=RAW_DATASET,
        pipelines_dir=_SPEC_DIR.name,
    )


SPEC_SOURCE = ordway_source(
    _SPEC_SETTINGS,
    OrdwayClient(_SPEC_SETTINGS, transport=_NoRequestTransport()),
    mode="incremental",
)
SPEC_PIPELINE = _spec_pipeline()


def _description(name: str) -> str:
    if name == DELETIONS_TABLE:
        return (
            "Pipeline bookkeeping written by every extract run: `_ordway_deletions` (ids that "
            "vanished upstream, found by the weekly sweep and the full refresh) and dlt's load "
            "log `_dlt_loads` (the freshness check reads it)."
        )
    collection = COLLECTIONS[name]
    load = "incremental on updated_date, merged on id" if collection.incremental else "replaced"
    children = sorted({"__".join((name, *path)) for path in collection.tables if path})
    text = f"Ordway `GET /{name}` -> `{RAW_DATASET}.{name}` ({load})."
    if children:
        text += " Child tables: " + ", ".join(f"`{c}`" for c in children) + "."
    return text


class OrdwayDltTranslator(DagsterDltTranslator):
    """One asset per collection, key ``["ordway_raw", <collection>]``, group ``ordway_raw``,
    kinds dlt + the warehouse, no upstream asset."""

    def get_asset_spec(self, data: DltResourceTranslatorData):  # type: ignore[override]
        spec = super().get_asset_spec(data)
        name = data.resource.name
        return spec.replace_attributes(
            key=raw_asset_key(name),
            deps=[],
            group_name=RAW_GROUP,
            description=_description(name),
            kinds={"dlt", warehouse_kind()},
        )


def _table_counts(pipeline: dlt.Pipeline, tables: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in tables:
            qualified = client.make_qualified_table_name(table)
            try:
                rows = client.execute_sql(f"SELECT count(*) FROM {qualified}")
            except Exception:  # the table does not exist yet (nothing ever loaded)
                counts[table] = 0
                continue
            counts[table] = int(rows[0][0]) if rows else 0
    return counts


def _settings_from_env() -> OrdwaySettings:
    try:
        return OrdwaySettings.from_env()
    except ConfigError as exc:
        raise Failure(
            description=f"Ordway configuration error before any request: {exc}",
            metadata={"variable_error": str(exc)},
        ) from None


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


def collections_to_extract(plan: ExtractionPlan, selected: list[str]) -> list[str]:
    """The selected collections, in the source's order, whatever the mode (so in sweep and
    backfill the selected full-refresh collections are re-read and replaced too). With no
    collection selected (only the bookkeeping asset), the mode's default collections."""
    chosen = [n for n in COLLECTIONS if n in selected]
    if chosen:
        return chosen
    return list(default_resources(plan.mode))


@dlt_assets(
    dlt_source=SPEC_SOURCE,
    dlt_pipeline=SPEC_PIPELINE,
    name="ordway_raw_assets",
    dagster_dlt_translator=OrdwayDltTranslator(),
    partitions_def=PARTITIONS_DEF,
    backfill_policy=BACKFILL_POLICY,
    pool=WAREHOUSE_POOL,
)
def ordway_raw_assets(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
    """Extracts the selected Ordway collections with ``run_extract`` under the warehouse lock."""
    window, partition_count = _run_window(context)
    plan = extraction_plan(context.run.tags, window, partition_count)
    selected = [key.path[-1] for key in context.selected_asset_keys if key.path[-1] in COLLECTIONS]
    names = collections_to_extract(plan, selected)
    settings = _settings_from_env()
    context.log.info(
        f"Extracting {len(names)} Ordway collections, mode {plan.describe()}, into "
        f"{settings.warehouse} ({RAW_DATASET})"
    )
    with warehouse_lock() as lock:
        context.log.info(f"Holding the warehouse lock {lock}")
        pipeline = make_pipeline(settings)
        try:
            info = run_extract(
                settings,
                mode=plan.mode,
                start=plan.start,
                end=plan.end,
                resources=names,
                pipeline=pipeline,
            )
        except PipelineStepFailed as exc:
            raise _with_ordway_cause(exc) from exc
        loaded = row_counts(pipeline)
        roots = [*names, DELETIONS_TABLE]
        totals = _table_counts(pipeline, roots)
    load_ids = list(info.loads_ids)
    context.log.info(
        f"dlt load {', '.join(load_ids) or '(none)'}: {sum(loaded.values())} rows written"
    )
    window_text = (
        f"[{plan.start.isoformat()}, {plan.end.isoformat()})"
        if plan.start and plan.end
        else (f"partition window {window[0].date()}..{window[1].date()}" if window else "none")
    )
    for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
        name = key.path[-1]
        tables = {t: n for t, n in loaded.items() if raw_asset_key(t) == key and t != "_dlt_loads"}
        context.log.info(f"{name}: {sum(tables.values())} rows loaded, {totals.get(name, 0)} now")
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "mode": plan.mode,
                "window": window_text,
                "rows_loaded": MetadataValue.json(dict(sorted(tables.items()))),
                "rows_loaded_total": sum(tables.values()),
                "dlt_load_ids": ", ".join(load_ids) or "(none)",
                "dagster/row_count": totals.get(name, 0),
                "table": f"{RAW_DATASET}.{name}",
            },
        )


__all__ = [
    "DELETIONS_KEY",
    "EXTRACT_MODES",
    "FULL_REFRESH_COLLECTIONS",
    "RAW_COLLECTION_KEYS",
    "ExtractionPlan",
    "extraction_plan",
    "ordway_raw_assets",
    "raw_asset_key",
]
