"""Asset checks beyond the dbt tests. Each one reads the warehouse through ``resources.query``
under the warehouse lock (a DuckDB file cannot be read while another process writes it) and
explains a failure in its metadata. The tie-outs audit the build before it is published: they
read the working marts (``working_marts_schema()``), never the published copy.

- ``dlt_load_freshness`` on ``ordway_raw/_ordway_deletions`` (dlt's load log): no successful
  dlt load (``_dlt_loads.status = 0``) within ``FRESHNESS_HOURS`` (36).
- ``row_count_cliff`` on every raw collection: the table has more than ``ROW_COUNT_DROP_PCT``
  (20) % fewer rows than the previous run's ``dagster/row_count``.
- ``mrr_ties_out_to_ordway_cmrr`` on ``marts/rpt_customer_mrr_tieout``: a customer's computed
  MRR (net or gross) differs from Ordway's ``discounted_cmrr`` / ``cmrr``.
- ``recognized_revenue_ties_out_to_posted_lines`` on ``marts/rpt_revenue_schedule_tieout``: a
  revenue schedule's ``recognized_revenue`` differs from the sum of its posted lines.
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
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from assets.ingest import DELETIONS_KEY, RAW_COLLECTION_KEYS
from assets.locking import warehouse_lock
from assets.resources import (
    RAW_DATASET,
    WAREHOUSE_POOL,
    env_float,
    markdown_table,
    now_utc,
    query,
    working_marts_schema,
)
from assets.transform import MRR_TIEOUT_KEY, REVENUE_TIEOUT_KEY

TOP_OFFENDERS = 10
ROW_COUNT_CHECK = "row_count_cliff"


def locked_query(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with warehouse_lock():
        return query(sql, params)


# ------------------------------------------------------------------------------- freshness


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@asset_check(
    asset=DELETIONS_KEY,
    name="dlt_load_freshness",
    description=(
        "Fails when dlt has not completed a load (ordway_raw._dlt_loads, status 0) within "
        "FRESHNESS_HOURS (default 36)."
    ),
    pool=WAREHOUSE_POOL,
)
def dlt_load_freshness() -> AssetCheckResult:
    threshold = env_float("FRESHNESS_HOURS", 36.0, minimum=0.0)
    rows = locked_query(
        f"SELECT max(inserted_at) AS last_load, count(*) AS loads "
        f"FROM {RAW_DATASET}._dlt_loads WHERE status = 0"
    )
    last = rows[0]["last_load"] if rows else None
    if last is None:
        return AssetCheckResult(
            passed=False,
            metadata={
                "threshold_hours": threshold,
                "explanation": "No successful dlt load was ever recorded in _dlt_loads.",
            },
        )
    age_hours = (now_utc() - _as_utc(last)).total_seconds() / 3600
    passed = age_hours <= threshold
    explanation = (
        f"Last successful load {age_hours:.1f} h ago (threshold {threshold:g} h)."
        if passed
        else f"No successful load for {age_hours:.1f} h (> {threshold:g} h): check the nightly "
        "schedule is running and the last runs of ordway_nightly for errors."
    )
    return AssetCheckResult(
        passed=passed,
        metadata={
            "last_successful_load_at": _as_utc(last).isoformat(),
            "hours_since_last_load": round(age_hours, 2),
            "threshold_hours": threshold,
            "explanation": explanation,
        },
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
    """``dagster/row_count`` of the newest materialization from an earlier run."""
    records = context.instance.fetch_materializations(key, limit=50).records
    for record in records:
        if record.run_id == context.run.run_id:
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
                "Fails when the table has more than ROW_COUNT_DROP_PCT (default 20) % fewer rows "
                "than at the previous run's materialization."
            ),
        )
        for key in RAW_COLLECTION_KEYS.values()
    ],
    can_subset=True,
    name="raw_row_count_cliffs",
    pool=WAREHOUSE_POOL,
)
def raw_row_count_cliffs(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
    threshold = env_float("ROW_COUNT_DROP_PCT", 20.0, minimum=0.0)
    keys = sorted(
        {check_key.asset_key for check_key in context.selected_asset_check_keys},
        key=lambda k: k.to_user_string(),
    )
    with warehouse_lock():
        counts = {key: _count_rows(key) for key in keys}
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
        if previous_run:
            metadata["previous_run_id"] = previous_run
        if not verdict.passed:
            metadata["explanation"] = (
                f"{RAW_DATASET}.{key.path[-1]} fell from {previous} to {now} rows. Check the "
                "run's rows_loaded and _ordway_deletions (a sweep can tombstone many ids) and "
                "whether Ordway really lost the records before trusting the marts."
            )
        yield AssetCheckResult(
            asset_key=key,
            check_name=ROW_COUNT_CHECK,
            passed=verdict.passed,
            metadata=metadata,
        )


def _count_rows(key: AssetKey) -> int:
    rows = query(f"SELECT count(*) AS n FROM {RAW_DATASET}.{key.path[-1]}")
    return int(rows[0]["n"])


# ---------------------------------------------------------------------------------- tie-outs


def _format(value: Any) -> Any:
    return f"{value:,.2f}" if isinstance(value, Decimal) else value


def _tieout_result(
    rows: list[dict[str, Any]],
    mismatches: list[dict[str, Any]],
    columns: tuple[str, ...],
    what: str,
    advice: str,
) -> AssetCheckResult:
    top = [{c: _format(row[c]) for c in columns} for row in mismatches[:TOP_OFFENDERS]]
    by_currency: dict[str, Decimal] = {}
    for row in mismatches:
        currency = row.get("currency") or "?"
        by_currency[currency] = by_currency.get(currency, Decimal(0)) + abs(row["difference"])
    metadata: dict[str, Any] = {
        "rows_compared": len(rows),
        "rows_not_tying_out": len(mismatches),
        "absolute_difference_by_currency": MetadataValue.json(
            {c: str(v) for c, v in sorted(by_currency.items())}
        ),
    }
    if mismatches:
        metadata["top_offenders"] = MetadataValue.md(markdown_table(top, columns))
        metadata["explanation"] = f"{len(mismatches)} {what} do not tie out. {advice}"
    return AssetCheckResult(
        passed=not mismatches,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


@asset_check(
    asset=MRR_TIEOUT_KEY,
    name="mrr_ties_out_to_ordway_cmrr",
    description=(
        "Per customer, the MRR we compute as of the as-of date (net and gross, customer currency) "
        "equals Ordway's discounted_cmrr and cmrr."
    ),
    pool=WAREHOUSE_POOL,
)
def mrr_ties_out_to_ordway_cmrr() -> AssetCheckResult:
    rows = locked_query(f"SELECT * FROM {working_marts_schema()}.rpt_customer_mrr_tieout")
    mismatches = sorted(
        (r for r in rows if r["difference"] != 0 or r["gross_difference"] != 0),
        key=lambda r: (-max(abs(r["difference"]), abs(r["gross_difference"])), r["customer_id"]),
    )
    return _tieout_result(
        rows,
        mismatches,
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
        "customers",
        "Open the customer in Ordway and compare its active subscription lines with "
        "marts.dim_subscriptions; a difference after a mid-day change usually disappears on "
        "the next nightly run (AS_OF_DATE must be the extraction date).",
    )


@asset_check(
    asset=REVENUE_TIEOUT_KEY,
    name="recognized_revenue_ties_out_to_posted_lines",
    description=(
        "Each revenue schedule's recognized_revenue equals the sum of its posted lines up to "
        "the as-of month."
    ),
    pool=WAREHOUSE_POOL,
)
def recognized_revenue_ties_out_to_posted_lines() -> AssetCheckResult:
    rows = locked_query(f"SELECT * FROM {working_marts_schema()}.rpt_revenue_schedule_tieout")
    mismatches = sorted(
        (r for r in rows if r["difference"] != 0),
        key=lambda r: (-abs(r["difference"]), r["revenue_schedule_id"]),
    )
    return _tieout_result(
        rows,
        mismatches,
        (
            "revenue_schedule_id",
            "customer_id",
            "currency",
            "ordway_recognized_revenue",
            "posted_lines_revenue",
            "difference",
        ),
        "revenue schedules",
        "Compare the schedule's lines in Ordway (Revenue > Schedules) with "
        "ordway_raw.revenue_schedules__schedule_lines; run ordway_full_refresh if lines were "
        "edited without Ordway bumping the schedule's updated_date.",
    )


ALL_CHECKS = [
    dlt_load_freshness,
    raw_row_count_cliffs,
    mrr_ties_out_to_ordway_cmrr,
    recognized_revenue_ties_out_to_posted_lines,
]
