"""The alert sensors. They read no configuration when the definitions load (the Slack and
threshold settings are read on each tick), so they are plain module-level definitions
(``ALERT_SENSORS``).

- ``ordway_run_failure_alert``: each failed run launched in Dagster (schedule, UI, backfill) ->
  ``post_alert``: a recognisable name (job, or the selected assets / backfill / partitions of an
  ``__ASSET_JOB`` run), the failed blocking checks with asset and explanation, the failed steps
  and errors, and the run's link. Once per run (Dagster's run-status cursor).
- ``ordway_check_warning_alert``: each successful run in which a non-blocking (WARN) check
  failed -> the same alert, titled as warnings. Once per run.
- ``ordway_stale_data_alert``: every 10 minutes, with or without runs, the freshness rule of
  ``dlt_load_freshness``; one alert per stale episode (the cursor holds the last load the
  alert was about) and one when the data is fresh again.
- ``ordway_overdue_invoices_alert``: after each new publication of the marts
  (``published/marts``), the invoices more than ``OVERDUE_ALERT_DAYS`` (60) past due in the
  published ``fct_ar_aging`` (what BI shows) -> ``post_alert`` (count, total by currency, top
  10). The cursor is the materialization's storage id, so at most one alert per publication; a
  failed delivery retries on the next tick. The published marts are never written in place, so
  reading them needs no warehouse lock.

Runs started by ``make run`` (``scripts/run_nightly.py``, executed in process) have no code
location origin, so Dagster's run-status sensors do not see them; that script posts the same
``run_alert`` itself.
"""

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from assets.alerts import Alert, asset_url, post_alert, run_alert
from assets.checks import (
    FRESHNESS_CHECK,
    FreshnessVerdict,
    freshness_hours,
    freshness_metadata,
    freshness_verdict,
    last_successful_load,
)
from assets.ingest import DELETIONS_KEY
from assets.locking import WarehouseBusyError, warehouse_lock
from assets.publish import PUBLISHED_MARTS_KEY
from assets.transform import AR_AGING_KEY
from assets.warehouse import query
from pipelines.config import value

TOP_OVERDUE = 10
STALE_CHECK_INTERVAL_SECONDS = 600
REPORTED_EVENT_TYPES = (DagsterEventType.STEP_FAILURE, DagsterEventType.ASSET_CHECK_EVALUATION)


def _run_events(instance: DagsterInstance, run_id: str) -> list[DagsterEvent]:
    """The run's step failures and check evaluations (what ``run_alert`` reports)."""
    entries = instance.all_logs(run_id, of_type=set(REPORTED_EVENT_TYPES))
    return [entry.dagster_event for entry in entries if entry.dagster_event is not None]


@run_failure_sensor(
    name="ordway_run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts every failed run launched in Dagster (schedule, UI, backfill): what ran, the "
        "failed blocking checks with their explanation and asset, the failed steps and their "
        "errors, and a link to the run. `make run` posts its own runs."
    ),
)
def ordway_run_failure_alert(context: RunFailureSensorContext) -> None:
    run = context.dagster_run
    alert = run_alert(
        run,
        _run_events(context.instance, run.run_id),
        failed=True,
        failure_message=context.failure_event.message,
    )
    assert alert is not None  # a failed run always has an alert
    destination = post_alert(alert, logger=context.log)
    context.log.info(f"Run failure alert for {run.run_id} sent to {destination}")


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="ordway_check_warning_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts a successful run in which non-blocking checks failed (severity WARN: dbt tests "
        "with severity warn, tie-out differences within TIEOUT_TOLERANCE), with each check's "
        "explanation and asset and a link to the run."
    ),
)
def ordway_check_warning_alert(context: RunStatusSensorContext) -> None:
    run = context.dagster_run
    alert = run_alert(run, _run_events(context.instance, run.run_id), failed=False)
    if alert is not None:
        destination = post_alert(alert, logger=context.log)
        context.log.info(f"Check warning alert for {run.run_id} sent to {destination}")


def stale_alert(verdict: FreshnessVerdict) -> Alert:
    since = (
        f"no successful load for {verdict.hours_since:.1f} h"
        if verdict.hours_since is not None
        else "no successful load ever"
    )
    return Alert(
        title=f"Ordway data is stale: {since}",
        body=(
            f"check: {FRESHNESS_CHECK} on {DELETIONS_KEY.to_user_string()} (blocking)\n"
            f"{verdict.explanation}"
        ),
        link=asset_url(DELETIONS_KEY.path),
        link_label="Open the asset in Dagster",
    )


def fresh_again_alert(verdict: FreshnessVerdict) -> Alert:
    return Alert(
        title="Ordway data is fresh again",
        body=f"check: {FRESHNESS_CHECK} on {DELETIONS_KEY.to_user_string()}\n{verdict.explanation}",
        link=asset_url(DELETIONS_KEY.path),
        link_label="Open the asset in Dagster",
    )


def _freshness_evaluation(verdict: FreshnessVerdict) -> AssetCheckEvaluation:
    return AssetCheckEvaluation(
        asset_key=DELETIONS_KEY,
        check_name=FRESHNESS_CHECK,
        passed=verdict.passed,
        metadata=freshness_metadata(verdict),
        severity=AssetCheckSeverity.ERROR,
    )


@sensor(
    name="ordway_stale_data_alert",
    minimum_interval_seconds=STALE_CHECK_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 10 minutes, whether or not any job runs: when dlt has not completed a load "
        "within FRESHNESS_HOURS (36), posts one alert per stale episode (and one when data is "
        "fresh again) and records the dlt_load_freshness result on ordway_raw/_ordway_deletions."
    ),
)
def ordway_stale_data_alert(context: SensorEvaluationContext) -> SkipReason | SensorResult:
    threshold = freshness_hours()
    try:
        with warehouse_lock(timeout_seconds=5):
            last = last_successful_load()
    except WarehouseBusyError:
        return SkipReason("The warehouse is being written; checking again on the next tick.")
    verdict = freshness_verdict(last, datetime.now(UTC), threshold)
    alerted = json.loads(context.cursor)["stale_since_load"] if context.cursor else None
    episode = verdict.last_load.isoformat() if verdict.last_load else "never"
    if verdict.passed:
        if alerted is None:
            return SkipReason(verdict.explanation)
        destination = post_alert(fresh_again_alert(verdict), logger=context.log)
        context.update_cursor(json.dumps({"stale_since_load": None}))
        return SensorResult(
            skip_reason=f"Fresh again; alert sent to {destination}.",
            asset_events=[_freshness_evaluation(verdict)],
        )
    if alerted == episode:
        return SkipReason(f"Still stale; already alerted for this episode. {verdict.explanation}")
    destination = post_alert(stale_alert(verdict), logger=context.log)
    context.update_cursor(json.dumps({"stale_since_load": episode}))
    return SensorResult(
        skip_reason=f"Stale-data alert sent to {destination}.",
        asset_events=[_freshness_evaluation(verdict)],
    )


def overdue_alert(rows: list[dict[str, Any]], days: float) -> Alert | None:
    """Count, total by currency and the top documents (most days past due first): open invoices
    and debit memos, both receivables in fct_ar_aging."""
    if not rows:
        return None
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += Decimal(str(row["balance"]))
    lines = [
        "Total open: "
        + ", ".join(f"{currency} {total:,.2f}" for currency, total in sorted(totals.items())),
        f"Top {min(TOP_OVERDUE, len(rows))}:",
    ]
    for row in rows[:TOP_OVERDUE]:
        kind = "debit memo " if row.get("document_type") == "debit_memo" else ""
        lines.append(
            f"- {kind}{row['invoice_id']} ({row['customer_id']}): {row['currency']} "
            f"{Decimal(str(row['balance'])):,.2f}, {row['days_past_due']} days past due"
        )
    return Alert(
        title=(
            f"{len(rows)} Ordway invoices and debit memos are more than {days:g} days past due "
            f"(as of {rows[0]['as_of_date']})."
        ),
        body="\n".join(lines),
        link=asset_url(AR_AGING_KEY.path),
        link_label="Open fct_ar_aging in Dagster",
    )


def overdue_invoices(days: float) -> list[dict[str, Any]]:
    return query(
        "SELECT as_of_date, invoice_id, document_type, customer_id, currency, balance, "
        "days_past_due FROM marts.fct_ar_aging WHERE days_past_due > ? "
        "ORDER BY days_past_due DESC, balance DESC, invoice_id, document_type",
        [days],
        published=True,
    )


@sensor(
    name="ordway_overdue_invoices_alert",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "After each publication of the marts, posts the invoices more than "
        "OVERDUE_ALERT_DAYS (default 60) past due in the published fct_ar_aging."
    ),
)
def ordway_overdue_invoices_alert(context: SensorEvaluationContext) -> SkipReason:
    records = context.instance.fetch_materializations(PUBLISHED_MARTS_KEY, limit=1).records
    if not records:
        return SkipReason("The marts have not been published yet.")
    latest = records[0]
    if context.cursor and int(context.cursor) >= latest.storage_id:
        return SkipReason("No new publication of the marts since the last alert.")
    days = float(value("OVERDUE_ALERT_DAYS"))
    rows = overdue_invoices(days)
    alert = overdue_alert(rows, days)
    destination = post_alert(alert, logger=context.log) if alert else None
    context.update_cursor(str(latest.storage_id))
    if destination is None:
        return SkipReason(f"No invoice is more than {days:g} days past due.")
    return SkipReason(f"Alert for {len(rows)} overdue invoices sent to {destination}.")


ALERT_SENSORS = [
    ordway_run_failure_alert,
    ordway_check_warning_alert,
    ordway_stale_data_alert,
    ordway_overdue_invoices_alert,
]
