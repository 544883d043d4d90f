"""The dbt assets: every model of ``dbt_project/`` (staging, intermediate, marts), dbt tests as
asset checks.

Lineage: each dbt source table maps to the asset of the raw collection that loads it
(``invoices__line_items`` -> ``["ordway_raw", "invoices"]``; dlt's ``_dlt_loads`` and the
tombstones ``_ordway_deletions`` -> ``["ordway_raw", "_ordway_deletions"]``), so raw collection
-> staging models that read it -> intermediate -> marts is one connected graph. Model keys are
``[<schema>, <model>]`` (``["marts", "fct_mrr"]``), groups are the model folder.

The manifest is prepared at import (``prepare_dbt_manifest``: ``dbt parse`` when
``target/manifest.json`` is missing or older than a project file), never committed.
"""

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from assets.ingest import raw_asset_key
from assets.locking import warehouse_lock
from assets.resources import (
    BACKFILL_POLICY,
    DBT_PROJECT,
    PARTITIONS_DEF,
    RAW_GROUP,
    WAREHOUSE_POOL,
    absolute_duckdb_path,
    dbt_vars,
    markdown_table,
    prepare_dbt_manifest,
    prune_dbt_run_targets,
    query,
)

ORDWAY_SOURCE = "ordway"
ARR_MOVEMENTS_KEY = AssetKey(["marts", "fct_arr_movements"])
AR_AGING_KEY = AssetKey(["marts", "fct_ar_aging"])
MRR_TIEOUT_KEY = AssetKey(["marts", "rpt_customer_mrr_tieout"])
REVENUE_TIEOUT_KEY = AssetKey(["marts", "rpt_revenue_schedule_tieout"])
ARR_MONTHS = 6
ARR_COLUMNS = (
    "month",
    "opening_arr",
    "new_arr",
    "expansion_arr",
    "contraction_arr",
    "churn_arr",
    "reactivation_arr",
    "closing_arr",
    "active_customers",
)


class OrdwayDbtTranslator(DagsterDbtTranslator):
    """Sources -> raw collection assets; models -> ``[schema, name]`` in the group of their
    folder (staging / intermediate / marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] == ORDWAY_SOURCE
        ):
            return raw_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return RAW_GROUP
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) >= 3 else "marts"


DBT_TRANSLATOR = OrdwayDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        # child tables and the load log share their collection's asset key
        enable_duplicate_source_asset_keys=True,
    )
)

prepare_dbt_manifest()


def _money(value: Any) -> str:
    if isinstance(value, Decimal | int | float):
        return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"
    return "" if value is None else str(value)


def arr_movements_markdown(months: int = ARR_MONTHS) -> str:
    """The ARR bridge of the last ``months`` months (reporting currency) as a markdown table."""
    rows = query(
        f"SELECT {', '.join(ARR_COLUMNS)} FROM marts.fct_arr_movements ORDER BY month DESC LIMIT ?",
        [months],
    )
    rows.reverse()
    formatted = [
        {
            column: (
                row[column] if column in ("month", "active_customers") else _money(row[column])
            )
            for column in ARR_COLUMNS
        }
        for row in rows
    ]
    return markdown_table(formatted, ARR_COLUMNS)


def _event_key(context: AssetExecutionContext, event: Any) -> AssetKey | None:
    """The asset an event materializes (dagster-dbt yields Outputs named after the key)."""
    if isinstance(event, Output):
        return context.asset_key_for_output(event.output_name)
    return getattr(event, "asset_key", None)


def _with_arr_table(event: Any, table: str) -> Any:
    metadata = {**(event.metadata or {}), "arr_movements_last_months": MetadataValue.md(table)}
    return event.with_metadata(metadata)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    name="ordway_dbt_assets",
    dagster_dbt_translator=DBT_TRANSLATOR,
    partitions_def=PARTITIONS_DEF,
    backfill_policy=BACKFILL_POLICY,
    pool=WAREHOUSE_POOL,
)
def ordway_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build`` of the selected models and their tests, whatever the partition range (the
    marts are always rebuilt from the whole warehouse), under the warehouse lock.

    The ``fct_arr_movements`` materialization carries ``arr_movements_last_months``, the ARR
    bridge of the last six months read once dbt has finished.
    """
    args = ["build"]
    variables = dbt_vars()
    if variables:
        args += ["--vars", json.dumps(variables)]
    # From the fct_arr_movements materialization on, events are held (in order) until dbt has
    # finished: DuckDB cannot be read while dbt writes it, and Dagster wants a multi-asset's
    # outputs in topological order, so later events cannot overtake the held one.
    held: list[Any] = []
    failure: BaseException | None = None
    with absolute_duckdb_path(), warehouse_lock():
        context.log.info(f"dbt {' '.join(args)}")
        try:
            for event in dbt.cli(args, context=context).stream():
                if held or _event_key(context, event) == ARR_MOVEMENTS_KEY:
                    held.append(event)
                    continue
                yield event
        except Exception as exc:  # dbt failed: still record what it built, then re-raise
            failure = exc
        prune_dbt_run_targets()  # keep dbt_project/target/ bounded (about 9 MB a run)
        table = None
        if held:
            try:
                table = arr_movements_markdown()
            except Exception as exc:
                context.log.warning(f"Could not read marts.fct_arr_movements for metadata: {exc}")
    for event in held:
        is_arr = _event_key(context, event) == ARR_MOVEMENTS_KEY and hasattr(event, "with_metadata")
        yield _with_arr_table(event, table) if (is_arr and table) else event
    if failure is not None:
        raise failure
