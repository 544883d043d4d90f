"""Schedules, built by ``build_schedules(jobs)`` from NIGHTLY_CRON, NIGHTLY_TIMEZONE and
SWEEP_CRON (read when the definitions are built):

- ``ordway_nightly_schedule``: ``ordway_nightly`` at ``NIGHTLY_CRON`` (default ``0 2 * * *``) in
  ``NIGHTLY_TIMEZONE`` (default ``UTC``), for the monthly partitions from the month after the
  newest one materialized through the current month (``assets/partitions.nightly_range``).
- ``ordway_delete_sweep_schedule``: ``ordway_delete_sweep`` at ``SWEEP_CRON`` (default
  ``0 4 * * 0``, Sundays), same timezone, every partition (a sweep lists every record).
- Both skip a tick, naming the run, while a run that touches the warehouse is queued or in
  progress: a run of the three jobs, a run tagged ``ordway/warehouse``, or a run of Dagster's
  implicit asset job (UI materializations and backfills from the asset graph).

The alert sensors are in ``assets/sensors.py``.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from assets.ingest import INCREMENTAL_KEYS
from assets.jobs import DELETE_SWEEP_JOB_NAME, NIGHTLY_JOB_NAME, WAREHOUSE_JOB_NAMES, AssetJob
from assets.names import IMPLICIT_ASSET_JOB_PREFIX, WAREHOUSE_TAG
from assets.partitions import full_range, nightly_range, range_tags
from pipelines.config import value

ACTIVE_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


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


def _request(context: ScheduleEvaluationContext, job: AssetJob) -> RunRequest | SkipReason:
    busy = active_warehouse_run(context.instance)
    if busy:
        return SkipReason(busy)
    tick = (context.scheduled_execution_time or datetime.now(UTC)).astimezone(UTC)
    partitions = job.partitions_def
    assert partitions is not None  # every warehouse job carries the monthly partitions
    if job.name == NIGHTLY_JOB_NAME:
        keys = nightly_range(context.instance, INCREMENTAL_KEYS, partitions, now=tick)
    else:
        keys = full_range(partitions, tick)
    return RunRequest(run_key=f"{job.name}:{tick.isoformat()}", tags=range_tags(keys))


def build_schedules(jobs: Sequence[AssetJob]) -> list[ScheduleDefinition]:
    """The nightly and the weekly sweep schedules of ``jobs`` (``assets/jobs.build_jobs``)."""
    by_name = {job.name: job for job in jobs}
    nightly, sweep = by_name[NIGHTLY_JOB_NAME], by_name[DELETE_SWEEP_JOB_NAME]
    timezone = value("NIGHTLY_TIMEZONE")

    @schedule(
        name="ordway_nightly_schedule",
        job=nightly,
        cron_schedule=value("NIGHTLY_CRON"),
        execution_timezone=timezone,
        description=(
            "Nightly incremental load and dbt build; materializes the months from the last one "
            "materialized through the current month."
        ),
    )
    def ordway_nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        return _request(context, nightly)

    @schedule(
        name="ordway_delete_sweep_schedule",
        job=sweep,
        cron_schedule=value("SWEEP_CRON"),
        execution_timezone=timezone,
        description="Weekly delete sweep (tombstones records deleted in Ordway) and dbt build.",
    )
    def ordway_delete_sweep_schedule(
        context: ScheduleEvaluationContext,
    ) -> RunRequest | SkipReason:
        return _request(context, sweep)

    return [ordway_nightly_schedule, ordway_delete_sweep_schedule]


__all__ = ["ACTIVE_STATUSES", "active_warehouse_run", "build_schedules"]
