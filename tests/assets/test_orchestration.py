"""Schedules, run modes, alerts and the one-writer rule, without the sandbox."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    build_run_status_sensor_context,
    build_schedule_context,
)

from assets.checks import row_count_verdict
from assets.definitions import defs
from assets.ingest import INCREMENTAL_KEYS, extraction_plan
from assets.jobs import build_jobs
from assets.locking import lock_path, warehouse_lock
from assets.partitions import monthly_partitions
from assets.schedules import build_schedules
from assets.sensors import ordway_run_failure_alert, overdue_alert

UTC_DAY = datetime(2026, 3, 10, tzinfo=UTC)
ordway_nightly_schedule = defs.resolve_schedule_def("ordway_nightly_schedule")
ordway_delete_sweep_schedule = defs.resolve_schedule_def("ordway_delete_sweep_schedule")
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))  # 3 months


# ------------------------------------------------------------------------------ run modes


def test_nightly_run_is_incremental_whatever_months_it_covers():
    plan = extraction_plan({"ordway/mode": "incremental"}, WINDOW)
    assert plan.mode == "incremental" and plan.start is None


def test_full_and_sweep_tags_win_over_a_backfill():
    tags = {"dagster/backfill": "abc"}
    assert extraction_plan({**tags, "ordway/mode": "full"}, WINDOW).mode == "full"
    assert extraction_plan({**tags, "ordway/mode": "sweep"}, WINDOW).mode == "sweep"


def test_a_ui_backfill_extracts_records_updated_in_the_partition_window():
    plan = extraction_plan({"dagster/backfill": "abc", "ordway/mode": "incremental"}, WINDOW)
    assert (plan.mode, plan.start, plan.end) == ("backfill", *WINDOW)


def test_months_materialized_from_the_asset_graph_are_a_backfill_of_their_window():
    # no ordway/mode tag: Dagster's implicit asset job, launched from the asset graph
    plan = extraction_plan({}, WINDOW)
    assert (plan.mode, plan.start, plan.end) == ("backfill", *WINDOW)


def test_an_unknown_mode_tag_fails_the_run():
    with pytest.raises(Exception, match="ordway/mode"):
        extraction_plan({"ordway/mode": "everything"}, WINDOW)


# ------------------------------------------------------------------------- row-count cliff


@pytest.mark.parametrize(
    ("now", "previous", "passed", "drop"),
    [(80, 100, True, 20.0), (79, 100, False, 21.0), (150, 100, True, -50.0), (0, None, True, None)],
)
def test_row_count_cliff_fails_only_beyond_the_allowed_drop(now, previous, passed, drop):
    verdict = row_count_verdict(now, previous, 20.0)
    assert (verdict.passed, verdict.drop_pct) == (passed, drop)


# -------------------------------------------------------------------------------- schedules


def ticks_after(schedule_def, moment: datetime):
    """The schedule's next ticks after ``moment`` (croniter, in the schedule's timezone)."""
    zone = ZoneInfo(schedule_def.execution_timezone or "UTC")
    ticks = croniter(schedule_def.cron_schedule, moment.astimezone(zone))
    while True:
        yield ticks.get_next(datetime)


def test_nightly_schedule_runs_at_two_utc_from_the_first_month_on_a_new_instance(instance):
    assert ordway_nightly_schedule.cron_schedule == "0 2 * * *"
    assert ordway_nightly_schedule.execution_timezone == "UTC"
    ticks = ticks_after(ordway_nightly_schedule, UTC_DAY)
    assert [next(ticks).isoformat() for _ in range(2)] == [
        "2026-03-10T02:00:00+00:00",
        "2026-03-11T02:00:00+00:00",
    ]
    context = build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 3, 10, 2, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    request = ordway_nightly_schedule.evaluate_tick(context).run_requests[0]
    assert isinstance(request, RunRequest)
    # nothing materialized yet: every month from ORDWAY_BACKFILL_START through March 2026
    assert request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == "2020-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-01"


def test_weekly_sweep_runs_on_sunday_at_four(instance):
    ticks = ticks_after(ordway_delete_sweep_schedule, UTC_DAY)
    first = next(ticks)
    assert (first.isoformat(), first.strftime("%A")) == ("2026-03-15T04:00:00+00:00", "Sunday")
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=first, repository_def=defs.get_repository_def()
    )
    request = ordway_delete_sweep_schedule.evaluate_tick(context).run_requests[0]
    # a sweep lists every record: every month through the current one
    assert request.tags["dagster/asset_partition_range_start"] == "2020-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-01"


def test_cron_and_timezone_come_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("NIGHTLY_CRON", "30 1 * * *")
    monkeypatch.setenv("NIGHTLY_TIMEZONE", "Europe/Berlin")
    schedules = {s.name: s for s in build_schedules(build_jobs(monthly_partitions()))}
    nightly = schedules["ordway_nightly_schedule"]
    assert (nightly.cron_schedule, nightly.execution_timezone) == ("30 1 * * *", "Europe/Berlin")
    # from midnight in Berlin (22:00 UTC): the next tick is 01:30 CEST (UTC+2) on 1 July
    tick = next(ticks_after(nightly, datetime(2026, 6, 30, 22, tzinfo=UTC)))
    assert tick.isoformat() == "2026-07-01T01:30:00+02:00"
    # the sweep keeps its own cron, in the same timezone
    sweep = schedules["ordway_delete_sweep_schedule"]
    assert (sweep.cron_schedule, sweep.execution_timezone) == ("0 4 * * 0", "Europe/Berlin")


@pytest.mark.parametrize("job", ["ordway_full_refresh", "__ASSET_JOB"])
@pytest.mark.parametrize("status", [DagsterRunStatus.STARTED, DagsterRunStatus.NOT_STARTED])
def test_a_tick_is_skipped_while_a_warehouse_run_is_queued_or_in_progress(instance, status, job):
    # __ASSET_JOB: a materialization or backfill launched from the asset graph
    run = instance.add_run(DagsterRun(job_name=job, run_id="busy-run-0001", status=status))
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 3, 10, 2, tzinfo=UTC)
    )
    result = ordway_nightly_schedule.evaluate_tick(context)
    assert not result.run_requests
    assert run.run_id in result.skip_message and job in result.skip_message


def _materialize_months(instance, last_month: str) -> None:
    for key in INCREMENTAL_KEYS:
        instance.report_runless_asset_event(AssetMaterialization(key, partition="2025-12-01"))
        instance.report_runless_asset_event(AssetMaterialization(key, partition=last_month))


def _nightly_tags(instance) -> tuple[str, str]:
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 3, 10, 2, tzinfo=UTC)
    )
    tags = ordway_nightly_schedule.evaluate_tick(context).run_requests[0].tags
    return tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]


def test_nightly_covers_the_months_after_the_newest_one_materialized(instance):
    _materialize_months(instance, "2026-01-01")
    # an older gap (before December) stays missing: only a backfill or full refresh fills it
    assert _nightly_tags(instance) == ("2026-02-01", "2026-03-01")


def test_nightly_re_marks_only_the_current_month_when_nothing_is_missing(instance):
    _materialize_months(instance, "2026-03-01")
    assert _nightly_tags(instance) == ("2026-03-01", "2026-03-01")


def test_nightly_waits_for_the_collection_that_is_furthest_behind(instance):
    _materialize_months(instance, "2026-03-01")
    # one collection was last materialized in January (e.g. a run that selected the others)
    laggard = INCREMENTAL_KEYS[0]
    instance.wipe_assets([laggard])
    instance.report_runless_asset_event(AssetMaterialization(laggard, partition="2026-01-01"))
    assert _nightly_tags(instance) == ("2026-02-01", "2026-03-01")


# ----------------------------------------------------------------------------------- alerts


def _failing_nightly(instance):
    """A nightly run of the raw assets with no ORDWAY_* set: fails before any request."""
    job = defs.resolve_job_def("ordway_nightly")
    return job.execute_in_process(
        instance=instance,
        partition_key="2026-03-01",
        asset_selection=[AssetKey(["ordway_raw", "customers"])],
        raise_on_error=False,
    )


def test_failure_sensor_posts_job_run_step_and_error_to_the_webhook(clean_env, instance, webhook):
    result = _failing_nightly(instance)
    assert not result.success
    context = build_run_status_sensor_context(
        sensor_name="ordway_run_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()
    ordway_run_failure_alert(context)
    assert len(webhook.bodies) == 1
    text = webhook.bodies[0]["text"]
    assert text.startswith("Ordway run failed: ordway_nightly, partition 2026-03-01")
    assert f"run id: {result.run_id}" in text
    assert "step ordway_raw_full_refresh failed" in text
    assert "ORDWAY_API_KEY is not set" in text
    assert f"http://127.0.0.1:3000/runs/{result.run_id}" in text
    assert "not-a-real-secret" not in text


def test_a_second_writer_fails_fast_naming_the_lock_and_writes_nothing(
    clean_env, instance, monkeypatch
):
    for name, value in {
        "ORDWAY_API_KEY": "k",
        "ORDWAY_COMPANY": "c",
        "ORDWAY_USER_EMAIL": "e@example.com",
        "ORDWAY_USER_TOKEN": "t",
        "ORDWAY_BASE_URL": "http://127.0.0.1:9/api/v1",
        "WAREHOUSE_LOCK_TIMEOUT_SECONDS": "0.5",
    }.items():
        monkeypatch.setenv(name, value)
    with warehouse_lock():
        started = datetime.now(UTC)
        result = _failing_nightly(instance)
        elapsed = (datetime.now(UTC) - started).total_seconds()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    assert error.cause is not None and error.cause.cls_name == "WarehouseBusyError"
    assert str(lock_path()) in error.cause.message
    assert elapsed < 30
    assert not os.path.exists(clean_env["DUCKDB_PATH"])


def test_overdue_alert_lists_count_totals_by_currency_and_the_top_ten():
    rows = [
        {
            "as_of_date": "2026-06-30",
            "invoice_id": f"INV-{i:05d}",
            "document_type": "debit_memo" if i == 0 else "invoice",
            "customer_id": "C-00001",
            "currency": "EUR" if i % 2 else "USD",
            "balance": Decimal("100.05"),
            "days_past_due": 200 - i,
        }
        for i in range(12)
    ]
    alert = overdue_alert(rows, 60)
    assert alert is not None
    text = alert.text()
    assert text.splitlines()[0] == (
        "12 Ordway invoices and debit memos are more than 60 days past due (as of 2026-06-30)."
    )
    assert "- debit memo INV-00000 (C-00001): USD 100.05, 200 days past due" in text
    # 6 x 100.05 per currency
    assert "Total open: EUR 600.30, USD 600.30" in text
    assert "INV-00009" in text and "INV-00010" not in text
    assert overdue_alert([], 60) is None
