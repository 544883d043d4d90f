"""Schedules, run modes, alerts and the one-writer rule, without the sandbox."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dagster import (
    AssetKey,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    build_run_status_sensor_context,
    build_schedule_context,
)
from dagster._utils.schedules import cron_string_iterator

from assets.checks import row_count_verdict
from assets.definitions import defs
from assets.ingest import extraction_plan
from assets.locking import lock_path, warehouse_lock
from assets.resources import REPO_ROOT
from assets.schedules import (
    ordway_delete_sweep_schedule,
    ordway_nightly_schedule,
    ordway_run_failure_alert,
    overdue_alert,
)
from tests.assets.conftest import run_python

UTC_DAY = datetime(2026, 3, 10, tzinfo=UTC)
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))


# ------------------------------------------------------------------------------ run modes


def test_nightly_run_is_incremental_even_for_its_partition_window():
    plan = extraction_plan(
        {"ordway/mode": "incremental"}, (WINDOW[0], WINDOW[0] + timedelta(days=1)), 1
    )
    assert plan.mode == "incremental" and plan.start is None


def test_full_and_sweep_tags_win_over_a_backfill():
    tags = {"dagster/backfill": "abc"}
    assert extraction_plan({**tags, "ordway/mode": "full"}, WINDOW, 3).mode == "full"
    assert extraction_plan({**tags, "ordway/mode": "sweep"}, WINDOW, 3).mode == "sweep"


def test_a_ui_backfill_extracts_records_updated_in_the_partition_window():
    plan = extraction_plan({"dagster/backfill": "abc", "ordway/mode": "incremental"}, WINDOW, 3)
    assert (plan.mode, plan.start, plan.end) == ("backfill", *WINDOW)


def test_a_multi_day_range_without_a_mode_tag_is_a_backfill():
    assert extraction_plan({}, WINDOW, 3).mode == "backfill"
    assert extraction_plan({}, WINDOW, 1).mode == "incremental"


def test_an_unknown_mode_tag_fails_the_run():
    with pytest.raises(Exception, match="ordway/mode"):
        extraction_plan({"ordway/mode": "everything"}, WINDOW, 1)


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
    return cron_string_iterator(
        moment.timestamp(), schedule_def.cron_schedule, schedule_def.execution_timezone
    )


def test_nightly_schedule_runs_at_two_utc_for_the_previous_day(instance):
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
    assert request.partition_key == "2026-03-09"


def test_weekly_sweep_runs_on_sunday_at_four(instance):
    ticks = ticks_after(ordway_delete_sweep_schedule, UTC_DAY)
    first = next(ticks)
    assert (first.isoformat(), first.strftime("%A")) == ("2026-03-15T04:00:00+00:00", "Sunday")
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=first, repository_def=defs.get_repository_def()
    )
    request = ordway_delete_sweep_schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-03-14"


def test_cron_and_timezone_come_from_the_environment():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDWAY_")},
        "NIGHTLY_CRON": "30 1 * * *",
        "NIGHTLY_TIMEZONE": "Europe/Berlin",
        "PYTHONPATH": str(REPO_ROOT),
    }
    script = (
        "from datetime import datetime, timezone\n"
        "from dagster._utils.schedules import cron_string_iterator\n"
        "from assets.schedules import ordway_nightly_schedule as s\n"
        "start = datetime(2026, 6, 30, 22, tzinfo=timezone.utc).timestamp()\n"
        "t = next(cron_string_iterator(start, s.cron_schedule, s.execution_timezone))\n"
        "print(s.cron_schedule, s.execution_timezone, t.isoformat())\n"
    )
    done = run_python(script, env)
    assert done.returncode == 0, done.stderr[-2000:]
    # from midnight in Berlin (22:00 UTC): the next tick is 01:30 CEST (UTC+2) on 1 July
    assert done.stdout.split() == [
        "30",
        "1",
        "*",
        "*",
        "*",
        "Europe/Berlin",
        "2026-07-01T01:30:00+02:00",
    ]


@pytest.mark.parametrize("status", [DagsterRunStatus.STARTED, DagsterRunStatus.NOT_STARTED])
def test_a_tick_is_skipped_while_a_warehouse_run_is_queued_or_in_progress(instance, status):
    run = instance.add_run(
        DagsterRun(job_name="ordway_full_refresh", run_id="busy-run-0001", status=status)
    )
    context = build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 3, 10, 2, tzinfo=UTC)
    )
    result = ordway_nightly_schedule.evaluate_tick(context)
    assert not result.run_requests
    assert run.run_id in result.skip_message and "ordway_full_refresh" in result.skip_message


# ----------------------------------------------------------------------------------- alerts


def _failing_nightly(instance):
    """A nightly run of the raw assets with no ORDWAY_* set: fails before any request."""
    job = defs.resolve_job_def("ordway_nightly")
    return job.execute_in_process(
        instance=instance,
        partition_key="2026-03-09",
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
    assert text.startswith("Ordway run failed: ordway_nightly, partition 2026-03-09")
    assert f"run id: {result.run_id}" in text
    assert "step ordway_raw_assets failed" in text
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
        "12 Ordway invoices are more than 60 days past due (as of 2026-06-30)."
    )
    # 6 x 100.05 per currency
    assert "Total open: EUR 600.30, USD 600.30" in text
    assert "INV-00009" in text and "INV-00010" not in text
    assert overdue_alert([], 60) is None
