"""The dbt assets: every model of ``dbt_project/`` (staging, intermediate, marts), dbt tests as
asset checks.

Lineage: each dbt source table maps to the asset of the raw collection that loads it
(``invoices__line_items`` -> ``["ordway_raw", "invoices"]``; dlt's ``_dlt_loads`` and the
tombstones ``_ordway_deletions`` -> ``["ordway_raw", "_ordway_deletions"]``), so raw collection
-> staging models that read it -> intermediate -> marts is one connected graph. Model keys are
``[<schema>, <model>]`` (``["marts", "fct_mrr"]``), groups are the model folder.

``build_dbt_assets(project)`` builds the multi-asset from the project's manifest;
``assets/dbt_cli.dbt_project()`` prepares that manifest when it is missing or older than a
project file (``dbt parse``), when the definitions are built, never at import.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    MetadataValue,
    Output,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from assets.dbt_cli import dbt_vars, prune_dbt_run_targets
from assets.ingest import raw_asset_key
from assets.locking import warehouse_lock
from assets.metadata import dbt_asset_metadata, markdown_table
from assets.names import RAW_GROUP, WAREHOUSE_POOL
from assets.warehouse import absolute_duckdb_path, query, working_marts_schema

ORDWAY_SOURCE = "ordway"
ARR_MOVEMENTS_KEY = AssetKey(["marts", "fct_arr_movements"])
AR_AGING_KEY = AssetKey(["marts", "fct_ar_aging"])
MRR_TIEOUT_KEY = AssetKey(["marts", "rpt_customer_mrr_tieout"])
REVENUE_TIEOUT_KEY = AssetKey(["marts", "rpt_revenue_schedule_tieout"])
ARR_MONTHS = 6
#: dbt result statuses that fail ``dbt build`` (``warn`` does not).
FAILED_STATUSES = ("fail", "error", "runtime error")
MAX_NAMED_FAILURES = 20
#: Rows of a failed test's stored failures quoted in the run's error; error text kept.
STORED_FAILURE_ROWS = 5
MAX_ERROR_CHARS = 1500
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


def _money(value: Any) -> str:
    if isinstance(value, Decimal | int | float):
        return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"
    return "" if value is None else str(value)


def arr_movements_markdown(months: int = ARR_MONTHS) -> str:
    """The ARR bridge of the last ``months`` months (reporting currency) as a markdown table."""
    rows = query(
        f"SELECT {', '.join(ARR_COLUMNS)} FROM {working_marts_schema()}.fct_arr_movements "
        "ORDER BY month DESC LIMIT ?",
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


class DbtBuildFailed(RuntimeError):
    """``dbt build`` failed: names the failed tests and models; nothing was published."""


def dbt_failure_message(
    run_results: Mapping[str, Any] | None,
    dbt_error: str = "",
    stored_rows: Callable[[str], list[dict[str, Any]]] | None = None,
) -> str:
    """What failed in a ``dbt build``, from its ``run_results.json``: each failed test (with its
    failing row count, and the first rows it stored when it stores its failures, so a test
    such as "invoices carry an exchange rate" names the documents) or model, and how many nodes
    were skipped because of them. When no node failed (an ``on-run-start`` check refused the
    build, or dbt could not start), the errors dbt logged (``dbt_error``)."""
    results = (run_results or {}).get("results", [])
    failed = [r for r in results if r.get("status") in FAILED_STATUSES]
    skipped = sum(1 for r in results if r.get("status") == "skipped")
    named = []
    for result in failed[:MAX_NAMED_FAILURES]:
        # test.<project>.<name>[.<hash>], model.<project>.<name>, unit_test.<project>.<model>.<name>
        parts = result["unique_id"].split(".")
        resource = parts[0]
        label = f"{resource} {'.'.join(parts[2:4] if resource == 'unit_test' else parts[2:3])}"
        failures = result.get("failures")
        if resource == "test" and failures:
            label += f" ({failures} failing rows)"
            relation = result.get("relation_name")
            if relation and stored_rows is not None:
                label += _first_rows(stored_rows, relation)
        elif result.get("message"):
            label += f" ({str(result['message']).splitlines()[0][:200]})"
        named.append(label)
    if len(failed) > MAX_NAMED_FAILURES:
        named.append(f"... and {len(failed) - MAX_NAMED_FAILURES} more")
    if not named:
        _, _, logged = dbt_error.partition("Errors parsed from dbt logs:")
        detail = " ".join((logged or dbt_error).split())[:MAX_ERROR_CHARS]
        return (
            "dbt build failed before building anything, so the marts were not published (BI "
            f"keeps the last published ones): {detail or 'see the dbt output in the step log'}"
        )
    return (
        f"dbt build failed, so the marts were not published (BI keeps the last published "
        f"ones). {len(failed)} failed: {'; '.join(named)}. {skipped} nodes skipped."
    )


def _first_rows(stored_rows: Callable[[str], list[dict[str, Any]]], relation: str) -> str:
    """`` [first rows: a=1, b=2 | ...]`` from the table dbt stored a test's failures in."""
    try:
        rows = stored_rows(f"SELECT * FROM {relation} LIMIT {STORED_FAILURE_ROWS}")
    except Exception:  # the failures could not be read back: the count still names the test
        return ""
    shown = [", ".join(f"{k}={v}" for k, v in row.items() if v is not None)[:200] for row in rows]
    return f" [first rows: {' | '.join(shown)}]" if shown else ""


def _run_results(invocation: Any) -> Mapping[str, Any] | None:
    try:
        return invocation.get_artifact("run_results.json")
    except Exception:  # dbt died before writing it
        return None


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


def build_dbt_assets(project: DbtProject) -> AssetsDefinition:
    """Every model of ``project`` (its manifest must exist: ``dbt_cli.dbt_project()``)."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="ordway_dbt_assets",
        dagster_dbt_translator=DBT_TRANSLATOR,
        pool=WAREHOUSE_POOL,
    )
    def ordway_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        """``dbt build`` of the selected models and their tests (unpartitioned: the marts are
        always rebuilt from the whole warehouse), under the warehouse lock; see ``_dbt_build``."""
        yield from _dbt_build(context, dbt)

    return ordway_dbt_assets


def _dbt_build(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
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
        invocation = dbt.cli(args, context=context)
        try:
            for event in invocation.stream():
                held.append(event)
        except Exception as exc:  # dbt failed: still record what it built, then re-raise
            failure = exc
        if failure is not None:
            message = dbt_failure_message(_run_results(invocation), str(failure), query)
        prune_dbt_run_targets()  # keep dbt_project/target/ bounded (about 9 MB a run)
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
        raise DbtBuildFailed(message) from failure
