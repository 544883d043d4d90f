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

from dagster import AssetExecutionContext, AssetKey, AssetMaterialization, MetadataValue, Output
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from assets.ingest import raw_asset_key
from assets.locking import warehouse_lock
from assets.metadata import dbt_asset_metadata
from assets.resources import (
    DBT_PROJECT,
    RAW_GROUP,
    WAREHOUSE_POOL,
    absolute_duckdb_path,
    dbt_vars,
    markdown_table,
    prepare_dbt_manifest,
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


def _is_materialization(event: Any) -> bool:
    return isinstance(event, Output | AssetMaterialization)


def _with_metadata(event: Any, extra: Mapping[str, Any]) -> Any:
    if not extra or not _is_materialization(event):
        return event
    return event.with_metadata({**(event.metadata or {}), **extra})


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    name="ordway_dbt_assets",
    dagster_dbt_translator=DBT_TRANSLATOR,
    pool=WAREHOUSE_POOL,
)
def ordway_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build`` of the selected models and their tests (unpartitioned: the marts are always
    rebuilt from the whole warehouse), under the warehouse lock.

    Once dbt has finished, every materialization gets its column types and row count, the four
    headline marts their figures (``assets/metadata.py``), and ``fct_arr_movements``
    ``arr_movements_last_months``, the ARR bridge of the last six months.
    """
    args = ["build"]
    variables = dbt_vars()
    if variables:
        args += ["--vars", json.dumps(variables)]
    # Events are held (in order) until dbt has finished: DuckDB cannot be read while dbt writes
    # it, and the metadata below reads every built model.
    held: list[Any] = []
    failure: BaseException | None = None
    extra: dict[AssetKey, dict[str, Any]] = {}
    with absolute_duckdb_path(), warehouse_lock():
        context.log.info(f"dbt {' '.join(args)}")
        try:
            for event in dbt.cli(args, context=context).stream():
                held.append(event)
        except Exception as exc:  # dbt failed: still record what it built, then re-raise
            failure = exc
        built = {_event_key(context, e) for e in held if _is_materialization(e)}
        try:
            extra = dict(dbt_asset_metadata(k for k in built if k is not None))
            if ARR_MOVEMENTS_KEY in built:
                extra.setdefault(ARR_MOVEMENTS_KEY, {})["arr_movements_last_months"] = (
                    MetadataValue.md(arr_movements_markdown())
                )
        except Exception as exc:
            context.log.warning(f"Could not read the built models for metadata: {exc}")
    for event in held:
        yield _with_metadata(event, extra.get(_event_key(context, event)) or {})
    if failure is not None:
        raise failure
