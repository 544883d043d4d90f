"""Schedules and sensors.

- ``ordway_nightly_schedule``: ``ordway_nightly`` at ``NIGHTLY_CRON`` (default ``0 2 * * *``) in
  ``NIGHTLY_TIMEZONE`` (default ``UTC``), for the monthly partitions from the month after the
  newest one materialized through the current month (``assets/partitions.nightly_range``).
- ``ordway_delete_sweep_schedule``: ``ordway_delete_sweep`` at ``SWEEP_CRON`` (default
  ``0 4 * * 0``, Sundays), same timezone, every partition (a sweep lists every record).
- Both skip a tick, naming the run, while a run that touches the warehouse is queued or in
  progress: a run of the three jobs, a run tagged ``ordway/warehouse``, or a run of Dagster's
  implicit asset job (UI materializations and backfills from the asset graph).
- ``ordway_run_failure_alert``: any failed run of this code location -> ``post_alert`` (job, run
  id, failed step, error).
- ``ordway_overdue_invoices_alert``: after each new materialization of ``marts/fct_ar_aging``,
  the invoices more than ``OVERDUE_ALERT_DAYS`` (60) past due -> ``post_alert`` (count, total by
  currency, top 10). The cursor is the materialization's storage id, so at most one alert per
  materialization; a busy warehouse or a failed delivery retries on the next tick.
"""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    schedule,
    sensor,
)

from assets.alerts import post_alert
from assets.ingest import INCREMENTAL_KEYS
from assets.jobs import WAREHOUSE_JOB_NAMES, ordway_delete_sweep, ordway_nightly
from assets.locking import WarehouseBusyError, warehouse_lock
from assets.partitions import full_range, nightly_range, range_tags
from assets.resources import WAREHOUSE_TAG, env_float, env_str, query
from assets.transform import AR_AGING_KEY

NIGHTLY_CRON = env_str("NIGHTLY_CRON", "0 2 * * *")
NIGHTLY_TIMEZONE = env_str("NIGHTLY_TIMEZONE", "UTC")
SWEEP_CRON = env_str("SWEEP_CRON", "0 4 * * 0")

ACTIVE_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
#: Dagster's hidden job for runs launched from the asset graph (every asset here writes the
#: warehouse).
IMPLICIT_ASSET_JOB_PREFIX = "__ASSET_JOB"
ERROR_CHARS = 1500
TOP_OVERDUE = 10


def active_warehouse_run(instance: DagsterInstance) -> str | None:
    """A sentence naming a queued or in-progress run of a warehouse job, or None."""
    runs = instance.get_runs(
        RunsFilter(job_name=None, statuses=ACTIVE_STATUSES), limit=50, ascending=True
    )
    for run in runs:
        if (
            run.job_name in WAREHOUSE_JOB_NAMES
            or run.job_name.startswith(IMPLICIT_ASSET_JOB_PREFIX)
            or WAREHOUSE_TAG in run.tags
        ):
            return (
                f"Run {run.run_id} of {run.job_name} is {run.status.value.lower()}; "
                "skipping this tick so two runs never write the warehouse at once."
            )
    return None


def _request(context: ScheduleEvaluationContext, job_name: str) -> RunRequest | SkipReason:
    busy = active_warehouse_run(context.instance)
    if busy:
        return SkipReason(busy)
    tick = (context.scheduled_execution_time or datetime.now(UTC)).astimezone(UTC)
    if job_name == ordway_nightly.name:
        keys = nightly_range(context.instance, INCREMENTAL_KEYS, now=tick)
    else:
        keys = full_range(tick)
    return RunRequest(run_key=f"{job_name}:{tick.isoformat()}", tags=range_tags(keys))


@schedule(
    name="ordway_nightly_schedule",
    job=ordway_nightly,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=NIGHTLY_TIMEZONE,
    description=(
        "Nightly incremental load and dbt build; materializes the months from the last one "
        "materialized through the current month."
    ),
)
def ordway_nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    return _request(context, ordway_nightly.name)


@schedule(
    name="ordway_delete_sweep_schedule",
    job=ordway_delete_sweep,
    cron_schedule=SWEEP_CRON,
    execution_timezone=NIGHTLY_TIMEZONE,
    description="Weekly delete sweep (tombstones records deleted in Ordway) and dbt build.",
)
def ordway_delete_sweep_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    return _request(context, ordway_delete_sweep.name)


# ----------------------------------------------------------------------------------- alerts


def failure_alert_text(context: RunFailureSensorContext) -> str:
    """Job, run id, failed step(s) and error of a failed run."""
    run = context.dagster_run
    steps: list[str] = []
    errors: list[str] = []
    for event in context.get_step_failure_events():
        steps.append(event.step_key or "?")
        data = event.step_failure_data
        error = data.error if data is not None else None
        # Dagster wraps user errors in DagsterExecutionStepExecutionError: report the cause
        while (
            error is not None and error.cause is not None and error.cls_name.startswith("Dagster")
        ):
            error = error.cause
        if error is not None:
            errors.append(f"{error.cls_name}: {error.message.strip()}")
    if not errors:
        errors.append((context.failure_event.message or "no error message").strip())
    error = " | ".join(errors)
    if len(error) > ERROR_CHARS:
        error = error[:ERROR_CHARS] + "..."
    return (
        f"Ordway pipeline run failed\n"
        f"job: {run.job_name}\n"
        f"run id: {run.run_id}\n"
        f"failed step: {', '.join(steps) or '(before any step)'}\n"
        f"error: {error}"
    )


@run_failure_sensor(
    name="ordway_run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts every failed run (job, run id, step, error) to Slack or the log.",
)
def ordway_run_failure_alert(context: RunFailureSensorContext) -> None:
    destination = post_alert(failure_alert_text(context), logger=context.log)
    context.log.info(f"Run failure alert for {context.dagster_run.run_id} sent to {destination}")


def overdue_alert_text(rows: list[dict[str, Any]], days: float) -> str | None:
    """Count, total by currency and the top invoices (most days past due first)."""
    if not rows:
        return None
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["currency"]] += Decimal(str(row["balance"]))
    lines = [
        f"{len(rows)} Ordway invoices are more than {days:g} days past due "
        f"(as of {rows[0]['as_of_date']}).",
        "Total open: "
        + ", ".join(f"{currency} {total:,.2f}" for currency, total in sorted(totals.items())),
        f"Top {min(TOP_OVERDUE, len(rows))}:",
    ]
    for row in rows[:TOP_OVERDUE]:
        lines.append(
            f"- {row['invoice_id']} ({row['customer_id']}): {row['currency']} "
            f"{Decimal(str(row['balance'])):,.2f}, {row['days_past_due']} days past due"
        )
    return "\n".join(lines)


def overdue_invoices(days: float) -> list[dict[str, Any]]:
    return query(
        "SELECT as_of_date, invoice_id, customer_id, currency, balance, days_past_due "
        "FROM marts.fct_ar_aging WHERE days_past_due > ? "
        "ORDER BY days_past_due DESC, balance DESC, invoice_id",
        [days],
    )


@sensor(
    name="ordway_overdue_invoices_alert",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "After each new fct_ar_aging materialization, posts the invoices more than "
        "OVERDUE_ALERT_DAYS (default 60) past due."
    ),
)
def ordway_overdue_invoices_alert(context: SensorEvaluationContext) -> SkipReason:
    records = context.instance.fetch_materializations(AR_AGING_KEY, limit=1).records
    if not records:
        return SkipReason("marts/fct_ar_aging has not been materialized yet.")
    latest = records[0]
    if context.cursor and int(context.cursor) >= latest.storage_id:
        return SkipReason("No new fct_ar_aging materialization since the last alert.")
    days = env_float("OVERDUE_ALERT_DAYS", 60.0, minimum=0.0)
    try:
        with warehouse_lock(timeout_seconds=5):
            rows = overdue_invoices(days)
    except WarehouseBusyError:
        return SkipReason("The warehouse is being written; retrying on the next tick.")
    text = overdue_alert_text(rows, days)
    destination = post_alert(text, logger=context.log) if text else None
    context.update_cursor(str(latest.storage_id))
    if destination is None:
        return SkipReason(f"No invoice is more than {days:g} days past due.")
    return SkipReason(f"Alert for {len(rows)} overdue invoices sent to {destination}.")


ALL_SCHEDULES = [ordway_nightly_schedule, ordway_delete_sweep_schedule]
ALL_SENSORS = [ordway_run_failure_alert, ordway_overdue_invoices_alert]
