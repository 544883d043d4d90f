"""Asset checks beyond the dbt tests. Each one reads the warehouse through ``warehouse.query``
under the warehouse lock (a DuckDB file cannot be read while another process writes it) and
explains a failure in its ``explanation`` metadata. The tie-outs audit the build before it is
published: they read the working marts (``working_marts_schema()``), never the published copy.

Every check here is **blocking** (``blocking=True``): a failure with severity ERROR fails the
check's step, so the run fails (``make run`` exits 1) and Dagster does not materialize the
assets downstream of the checked asset (the dbt models after a raw table, the publish step after
the marts). A result with severity WARN is reported (run log, UI, alert) but blocks nothing.

- ``dlt_load_freshness`` on ``ordway_raw/_ordway_deletions`` (dlt's load log): ERROR when no
  successful dlt load (``_dlt_loads.status = 0``) happened within ``FRESHNESS_HOURS`` (36).
  The same rule (``freshness_verdict``) drives the stale-data sensor, which alerts when no job
  runs at all.
- ``row_count_cliff`` on every raw collection: ERROR when the table has more than
  ``ROW_COUNT_DROP_PCT`` (20) % fewer rows than at its newest materialization by an earlier run
  that did not fail (so a night that failed on a cliff never becomes the next night's
  baseline). A table that does not exist yet counts as 0 rows; no earlier value passes.
- ``collection_available`` on every raw collection, the one **non-blocking** check: WARN when
  the run skipped the collection because Ordway answered 403/404 on its list endpoint (the
  plan does not include it): the rest of the night loads and is published, the collection's
  table keeps its last load, and the warning (alerted once per run) says how to leave it out.
- ``mrr_ties_out_to_ordway_cmrr`` on ``marts/rpt_customer_mrr_tieout`` and
  ``recognized_revenue_ties_out_to_posted_lines`` on ``marts/rpt_revenue_schedule_tieout``:
  both sides are rounded to cents, so a difference is a whole number of cents. ERROR when a
  row differs by more than ``TIEOUT_TOLERANCE`` (default 0.00: every cent counts); WARN when
  rows differ but none by more than the tolerance.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    DagsterRunStatus,
    MetadataValue,
    RunsFilter,
    asset_check,
    multi_asset_check,
)

from assets.ingest import (
    DELETIONS_KEY,
    RAW_COLLECTION_KEYS,
    SKIPPED_METADATA,
    UNAVAILABLE_METADATA,
)
from assets.locking import warehouse_lock
from assets.metadata import markdown_table
from assets.names import RAW_DATASET, WAREHOUSE_POOL
from assets.transform import MRR_TIEOUT_KEY, REVENUE_TIEOUT_KEY
from assets.warehouse import WarehouseUnavailableError, query, working_marts_schema
from pipelines.config import value

TOP_OFFENDERS = 10
FRESHNESS_CHECK = "dlt_load_freshness"
ROW_COUNT_CHECK = "row_count_cliff"
AVAILABLE_CHECK = "collection_available"
#: Runs whose materializations never serve as the row-count baseline.
UNTRUSTED_RUN_STATUSES = (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def locked_query(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with warehouse_lock():
        return query(sql, params)


def raw_tables() -> set[str]:
    """Lower-cased names of the tables in the raw schema; empty when the warehouse does not
    exist yet. A collection with no records (or one just added) has no table until its first
    record loads, and that is not an error."""
    try:
        rows = query(
            "SELECT table_name FROM information_schema.tables WHERE lower(table_schema) = ?",
            [RAW_DATASET],
        )
    except WarehouseUnavailableError:
        return set()
    return {str(row["table_name"]).lower() for row in rows}


# ------------------------------------------------------------------------------- freshness


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def freshness_hours() -> float:
    return float(value("FRESHNESS_HOURS"))


def last_successful_load() -> datetime | None:
    """When dlt last completed a load (``_dlt_loads.status = 0``); None if it never did (no
    warehouse, no load log yet). The caller holds the warehouse lock."""
    if "_dlt_loads" not in raw_tables():
        return None
    rows = query(
        f"SELECT max(inserted_at) AS last_load FROM {RAW_DATASET}._dlt_loads WHERE status = 0"
    )
    last = rows[0]["last_load"] if rows else None
    return _as_utc(last) if last is not None else None


@dataclass(frozen=True)
class FreshnessVerdict:
    passed: bool
    last_load: datetime | None
    hours_since: float | None
    threshold_hours: float
    explanation: str


def freshness_verdict(
    last_load: datetime | None, now: datetime, threshold_hours: float
) -> FreshnessVerdict:
    """Fresh when the last successful load is at most ``threshold_hours`` old."""
    if last_load is None:
        return FreshnessVerdict(
            False,
            None,
            None,
            threshold_hours,
            "No successful dlt load was ever recorded in ordway_raw._dlt_loads: run "
            "ordway_nightly (or make run) and switch on ordway_nightly_schedule.",
        )
    hours = (now - last_load).total_seconds() / 3600
    if hours <= threshold_hours:
        return FreshnessVerdict(
            True,
            last_load,
            hours,
            threshold_hours,
            f"Last successful load {hours:.1f} h ago (threshold {threshold_hours:g} h).",
        )
    return FreshnessVerdict(
        False,
        last_load,
        hours,
        threshold_hours,
        f"No successful load for {hours:.1f} h (> FRESHNESS_HOURS={threshold_hours:g}); the last "
        f"one finished {last_load.isoformat(timespec='seconds')}. Check that "
        "ordway_nightly_schedule is running and the last runs of ordway_nightly for errors.",
    )


def freshness_metadata(verdict: FreshnessVerdict) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "threshold_hours": verdict.threshold_hours,
        "explanation": verdict.explanation,
    }
    if verdict.last_load is not None and verdict.hours_since is not None:
        metadata["last_successful_load_at"] = verdict.last_load.isoformat()
        metadata["hours_since_last_load"] = round(verdict.hours_since, 2)
    return metadata


@asset_check(
    asset=DELETIONS_KEY,
    name=FRESHNESS_CHECK,
    description=(
        "Blocking. Fails when dlt has not completed a load (ordway_raw._dlt_loads, status 0) "
        "within FRESHNESS_HOURS (default 36)."
    ),
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def dlt_load_freshness() -> AssetCheckResult:
    threshold = freshness_hours()
    with warehouse_lock():
        last = last_successful_load()
    verdict = freshness_verdict(last, datetime.now(UTC), threshold)
    return AssetCheckResult(
        passed=verdict.passed,
        severity=AssetCheckSeverity.ERROR,
        metadata=freshness_metadata(verdict),
    )


# ---------------------------------------------------------------------------- row-count cliff


@dataclass(frozen=True)
class CliffVerdict:
    passed: bool
    drop_pct: float | None


def row_count_verdict(now: int, previous: int | None, max_drop_pct: float) -> CliffVerdict:
    """Passes unless the table shrank by more than ``max_drop_pct`` percent of ``previous``."""
    if previous is None or previous <= 0:
        return CliffVerdict(passed=True, drop_pct=None)
    drop = (previous - now) * 100.0 / previous
    return CliffVerdict(passed=drop <= max_drop_pct, drop_pct=round(drop, 2))


def _previous_row_count(
    context: AssetCheckExecutionContext, key: AssetKey
) -> tuple[int | None, str | None]:
    """``dagster/row_count`` of the newest materialization by an earlier run that did not fail
    or get canceled (runless reports count too)."""
    records = [
        record
        for record in context.instance.fetch_materializations(key, limit=50).records
        if record.run_id != context.run.run_id
    ]
    run_ids = sorted({record.run_id for record in records if record.run_id})
    untrusted = (
        {
            run.run_id
            for run in context.instance.get_runs(
                RunsFilter(run_ids=run_ids, statuses=list(UNTRUSTED_RUN_STATUSES))
            )
        }
        if run_ids
        else set()
    )
    for record in records:
        if record.run_id in untrusted:
            continue
        materialization = record.asset_materialization
        value = materialization.metadata.get("dagster/row_count") if materialization else None
        if value is not None:
            return int(value.value), record.run_id  # type: ignore[arg-type]
    return None, None


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            ROW_COUNT_CHECK,
            asset=key,
            description=(
                "Blocking. Fails when the table has more than ROW_COUNT_DROP_PCT (default 20) % "
                "fewer rows than at the newest materialization by an earlier run that did not "
                "fail. A table that does not exist yet counts as 0 rows."
            ),
            blocking=True,
        )
        for key in RAW_COLLECTION_KEYS.values()
    ],
    can_subset=True,
    name="raw_row_count_cliffs",
    pool=WAREHOUSE_POOL,
)
def raw_row_count_cliffs(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
    threshold = float(value("ROW_COUNT_DROP_PCT"))
    keys = sorted(
        {check_key.asset_key for check_key in context.selected_asset_check_keys},
        key=lambda k: k.to_user_string(),
    )
    with warehouse_lock():
        existing = raw_tables()
        counts = {key: _count_rows(key, existing) for key in keys}
    for key in keys:
        now = counts[key]
        previous, previous_run = _previous_row_count(context, key)
        verdict = row_count_verdict(now, previous, threshold)
        metadata: dict[str, Any] = {
            "rows_now": now,
            "rows_previous": previous if previous is not None else "no earlier run",
            "drop_pct": verdict.drop_pct if verdict.drop_pct is not None else 0.0,
            "threshold_pct": threshold,
        }
        if key.path[-1] not in existing:
            metadata["table_exists"] = False
        if previous_run:
            metadata["previous_run_id"] = previous_run
        if not verdict.passed:
            metadata["explanation"] = (
                f"{RAW_DATASET}.{key.path[-1]} fell from {previous} to {now} rows "
                f"({verdict.drop_pct:g} % > ROW_COUNT_DROP_PCT={threshold:g}). Check the run's "
                "rows_loaded and _ordway_deletions (a sweep can tombstone many ids) and whether "
                "Ordway really lost the records; if it did, rerun once with "
                "ROW_COUNT_DROP_PCT=100 to accept the new count."
            )
        yield AssetCheckResult(
            asset_key=key,
            check_name=ROW_COUNT_CHECK,
            passed=verdict.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata=metadata,
        )


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            AVAILABLE_CHECK,
            asset=key,
            description=(
                "Warns (never blocks) when this run skipped the collection because Ordway "
                "answered 403 or 404 on its list endpoint: the plan does not include it."
            ),
        )
        for key in RAW_COLLECTION_KEYS.values()
    ],
    can_subset=True,
    name="raw_collections_available",
)
def raw_collections_available(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
    for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
        key = check_key.asset_key
        records = context.instance.fetch_materializations(key, limit=1).records
        record = records[0] if records and records[0].run_id == context.run.run_id else None
        metadata = record.asset_materialization.metadata if record else {}
        refused = metadata.get(UNAVAILABLE_METADATA)
        result: dict[str, Any] = {}
        if refused is not None:
            result["explanation"] = (
                f"{refused.value}. The rest of the night loaded and was published; "
                f"{RAW_DATASET}.{key.path[-1]} keeps its last load. If your Ordway plan does "
                "not include this module, set ORDWAY_SKIP_COLLECTIONS; if it should, check "
                "the API user's permissions in Ordway."
            )
        elif SKIPPED_METADATA in metadata:
            result["note"] = metadata[SKIPPED_METADATA].value
        yield AssetCheckResult(
            asset_key=key,
            check_name=AVAILABLE_CHECK,
            passed=refused is None,
            severity=AssetCheckSeverity.WARN,
            metadata=result,
        )


def _count_rows(key: AssetKey, existing: set[str]) -> int:
    table = key.path[-1]
    if table.lower() not in existing:
        return 0
    rows = query(f"SELECT count(*) AS n FROM {RAW_DATASET}.{table}")
    return int(rows[0]["n"])


# ---------------------------------------------------------------------------------- tie-outs


def tieout_tolerance() -> Decimal:
    """TIEOUT_TOLERANCE: the largest per-row difference (in the row's currency) reported as a
    warning instead of failing the run; default 0.00, i.e. every cent fails."""
    return value("TIEOUT_TOLERANCE")


def _format(value: Any) -> Any:
    return f"{value:,.2f}" if isinstance(value, Decimal) else value


def tieout_result(
    rows: list[dict[str, Any]],
    difference_columns: tuple[str, ...],
    order_key: str,
    columns: tuple[str, ...],
    what: str,
    advice: str,
    tolerance: Decimal,
) -> AssetCheckResult:
    """ERROR when a row differs by more than ``tolerance`` in any of ``difference_columns``,
    WARN when rows differ by no more than it, passed when every difference is zero."""

    def largest(row: dict[str, Any]) -> Decimal:
        return max(abs(Decimal(str(row[c] or 0))) for c in difference_columns)

    differing = sorted(
        (r for r in rows if largest(r) != 0), key=lambda r: (-largest(r), str(r[order_key]))
    )
    beyond = [r for r in differing if largest(r) > tolerance]
    by_currency: dict[str, Decimal] = {}
    for row in differing:
        currency = row.get("currency") or "?"
        by_currency[currency] = by_currency.get(currency, Decimal(0)) + largest(row)
    metadata: dict[str, Any] = {
        "rows_compared": len(rows),
        "rows_not_tying_out": len(differing),
        "rows_beyond_tolerance": len(beyond),
        "tolerance": str(tolerance),
        "absolute_difference_by_currency": MetadataValue.json(
            {c: str(v) for c, v in sorted(by_currency.items())}
        ),
    }
    if differing:
        top = [{c: _format(row[c]) for c in columns} for row in differing[:TOP_OFFENDERS]]
        metadata["top_offenders"] = MetadataValue.md(markdown_table(top, columns))
        worst = differing[0]
        currency = f"{worst['currency']} " if worst.get("currency") else ""
        worst_text = f"largest: {worst[order_key]} off by {currency}{largest(worst):,.2f}"
        if beyond:
            metadata["explanation"] = (
                f"{len(beyond)} {what} differ by more than TIEOUT_TOLERANCE={tolerance} "
                f"({worst_text}). {advice}"
            )
        else:
            metadata["explanation"] = (
                f"{len(differing)} {what} differ by at most TIEOUT_TOLERANCE={tolerance} "
                f"({worst_text}); reported, not blocking. {advice}"
            )
    return AssetCheckResult(
        passed=not differing,
        severity=AssetCheckSeverity.ERROR if beyond else AssetCheckSeverity.WARN,
        metadata=metadata,
    )


@asset_check(
    asset=MRR_TIEOUT_KEY,
    name="mrr_ties_out_to_ordway_cmrr",
    description=(
        "Blocking. Per customer, the MRR we compute as of the as-of date (net and gross, "
        "customer currency) equals Ordway's discounted_cmrr and cmrr; differences up to "
        "TIEOUT_TOLERANCE (default 0.00) only warn."
    ),
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def mrr_ties_out_to_ordway_cmrr() -> AssetCheckResult:
    tolerance = tieout_tolerance()
    rows = locked_query(f"SELECT * FROM {working_marts_schema()}.rpt_customer_mrr_tieout")
    return tieout_result(
        rows,
        ("difference", "gross_difference"),
        "customer_id",
        (
            "customer_id",
            "currency",
            "ordway_discounted_cmrr",
            "computed_mrr",
            "difference",
            "ordway_cmrr",
            "computed_gross_mrr",
            "gross_difference",
        ),
        "customers' MRR",
        "Open the customer in Ordway and compare its active subscription lines with "
        "marts.dim_subscriptions; a difference after a mid-day change usually disappears on "
        "the next nightly run (AS_OF_DATE must be the extraction date).",
        tolerance,
    )


@asset_check(
    asset=REVENUE_TIEOUT_KEY,
    name="recognized_revenue_ties_out_to_posted_lines",
    description=(
        "Blocking. Each revenue schedule's recognized_revenue equals the sum of its posted "
        "lines up to the as-of month; differences up to TIEOUT_TOLERANCE (default 0.00) only "
        "warn."
    ),
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def recognized_revenue_ties_out_to_posted_lines() -> AssetCheckResult:
    tolerance = tieout_tolerance()
    rows = locked_query(f"SELECT * FROM {working_marts_schema()}.rpt_revenue_schedule_tieout")
    return tieout_result(
        rows,
        ("difference",),
        "revenue_schedule_id",
        (
            "revenue_schedule_id",
            "customer_id",
            "currency",
            "ordway_recognized_revenue",
            "posted_lines_revenue",
            "difference",
        ),
        "revenue schedules' recognized revenue",
        "Compare the schedule's lines in Ordway (Revenue > Schedules) with "
        "ordway_raw.revenue_schedules__schedule_lines; run ordway_full_refresh if lines were "
        "edited without Ordway bumping the schedule's updated_date.",
        tolerance,
    )


ALL_CHECKS = [
    raw_collections_available,
    dlt_load_freshness,
    raw_row_count_cliffs,
    mrr_ties_out_to_ordway_cmrr,
    recognized_revenue_ties_out_to_posted_lines,
]
