"""Blocking checks and alerts on a real Dagster instance (a temporary DAGSTER_HOME), with real
runs and a real HTTP server on loopback standing in for Slack.

The warehouse is a real DuckDB file written here with the few tables a check reads (the dlt
load log, a raw table, a tie-out report), so each run executes only the checks under test.
Sensors are evaluated the way the Dagster daemon does it: the daemon builds a sensor context
from the instance and the cursor it stored after the previous tick, calls the sensor's
evaluation function and stores the cursor it returns. Here ``build_sensor_context`` +
``evaluate_tick`` call the same function and the test threads the returned cursor into the next
tick; what is left out is the daemon's gRPC hop and its tick bookkeeping. Runs executed in
process carry no code location origin, which a sensor built without one also has, so the
run-status sensors see them here as they see UI- and schedule-launched runs in the daemon.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    Definitions,
    build_sensor_context,
    define_asset_job,
)

from assets.alerts import Alert, AlertDeliveryError, post_alert
from assets.checks import FRESHNESS_CHECK, ROW_COUNT_CHECK, tieout_result
from assets.definitions import defs
from assets.ingest import DELETIONS_KEY
from assets.sensors import (
    ordway_check_warning_alert,
    ordway_run_failure_alert,
    ordway_stale_data_alert,
)
from assets.transform import REVENUE_TIEOUT_KEY
from scripts.run_nightly import report
from tests.support.slack import WebhookReceiver

WEB = "http://dagster.example.test:3000"
CUSTOMERS_KEY = AssetKey(["ordway_raw", "customers"])
ACCOUNTS_KEY = AssetKey(["ordway_raw", "chart_of_accounts"])


@pytest.fixture
def slack(clean_env, webhook, monkeypatch) -> WebhookReceiver:
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", WEB)
    return webhook


def duckdb_file() -> str:
    return os.environ["DUCKDB_PATH"]  # a temporary file (clean_env)


def warehouse(path: str, *statements: str) -> None:
    with duckdb.connect(path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ordway_raw")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        for statement in statements:
            con.execute(statement)


def load_log(path: str, finished: datetime) -> None:
    """dlt's load log with one completed load (status 0) at ``finished``."""
    warehouse(
        path,
        "CREATE TABLE IF NOT EXISTS ordway_raw._dlt_loads "
        "(load_id VARCHAR, schema_name VARCHAR, status BIGINT, inserted_at TIMESTAMPTZ)",
        f"INSERT INTO ordway_raw._dlt_loads VALUES ('{finished.timestamp()}', 'ordway', 0, "
        f"TIMESTAMPTZ '{finished.isoformat()}')",
    )


def run_checks(instance, *check_keys: AssetCheckKey, tags=None):
    """A real run of only these checks (the code location's assets and checks, a job that
    selects the checks and no asset)."""
    job = define_asset_job("checks_under_test", selection=AssetSelection.checks(*check_keys))
    location = Definitions.merge(defs, Definitions(jobs=[job]))
    return location.resolve_job_def("checks_under_test").execute_in_process(
        instance=instance, raise_on_error=False, tags=tags
    )


def tick(sensor_def, instance, cursor: str | None):
    """One daemon tick: evaluate with the stored cursor; return (result, cursor to store)."""
    context = build_sensor_context(
        instance=instance, cursor=cursor, repository_def=defs.get_repository_def()
    )
    result = sensor_def.evaluate_tick(context)
    return result, result.cursor


FRESHNESS_KEY = AssetCheckKey(DELETIONS_KEY, FRESHNESS_CHECK)


# ------------------------------------------------------------------- blocking checks, runs


def test_a_failed_blocking_check_fails_the_run_and_make_run_exits_1_naming_it(
    slack, instance, capsys
):
    load_log(duckdb_file(), datetime.now(UTC) - timedelta(hours=72))
    result = run_checks(instance, FRESHNESS_KEY)
    assert not result.success
    assert result.dagster_run.status.value == "FAILURE"
    assert report(result) == 1
    err = capsys.readouterr().err
    assert (
        "error: blocking check failed: dlt_load_freshness on ordway_raw/_ordway_deletions: "
        "No successful load for 72.0 h (> FRESHNESS_HOURS=36)"
    ) in err
    assert f"{WEB}/runs/{result.run_id}" in err


def test_the_run_failure_alert_carries_run_link_check_asset_and_explanation_and_is_sent_once(
    slack, instance
):
    _, cursor = tick(ordway_run_failure_alert, instance, None)  # the daemon's first tick
    load_log(duckdb_file(), datetime.now(UTC) - timedelta(hours=50))
    result = run_checks(instance, FRESHNESS_KEY)
    assert not result.success
    for _ in range(3):
        _, cursor = tick(ordway_run_failure_alert, instance, cursor)
    assert len(slack.bodies) == 1, slack.texts()
    body = slack.bodies[0]
    link = f"{WEB}/runs/{result.run_id}"
    assert body["text"].startswith("Ordway run failed: checks_under_test")
    assert "dlt_load_freshness on ordway_raw/_ordway_deletions (blocking)" in body["text"]
    assert "No successful load for 50.0 h (> FRESHNESS_HOURS=36)" in body["text"]
    assert link in body["text"]
    buttons = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [button["url"] for button in buttons] == [link]
    assert "not-a-real-secret" not in str(body)


def test_a_run_launched_from_the_asset_graph_is_named_by_assets_backfill_and_partitions(
    slack, instance
):
    _, cursor = tick(ordway_run_failure_alert, instance, None)
    tags = {
        "dagster/backfill": "bfkxyzab",
        "dagster/asset_partition_range_start": "2026-03-01",
        "dagster/asset_partition_range_end": "2026-03-03",
    }
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.name.startswith("__ASSET_JOB")
    result = job.execute_in_process(  # no ORDWAY_* set: fails before any request
        instance=instance, asset_selection=[CUSTOMERS_KEY], tags=tags, raise_on_error=False
    )
    assert not result.success
    _, cursor = tick(ordway_run_failure_alert, instance, cursor)
    (text,) = slack.texts()
    assert text.splitlines()[0] == (
        "Ordway run failed: materialize ordway_raw/customers, backfill bfkxyzab, "
        "partitions 2026-03-01..2026-03-03"
    )
    assert "__ASSET_JOB" not in text
    assert "step ordway_raw_full_refresh failed" in text and "ORDWAY_API_KEY is not set" in text
    assert f"{WEB}/runs/{result.run_id}" in text


def tieout_table(path: str, difference: str) -> None:
    warehouse(
        path,
        "CREATE OR REPLACE TABLE marts.rpt_revenue_schedule_tieout AS SELECT * FROM (VALUES "
        "('RS-1', 'C-1', 'USD', 100.00::DECIMAL(18,2), 100.00::DECIMAL(18,2), 0.00::DECIMAL(18,2)),"
        f"('RS-2', 'C-2', 'EUR', 250.00::DECIMAL(18,2), (250.00 + {difference})::DECIMAL(18,2), "
        f"{difference}::DECIMAL(18,2))) AS t(revenue_schedule_id, customer_id, currency, "
        "ordway_recognized_revenue, posted_lines_revenue, difference)",
    )


def test_a_difference_within_the_tolerance_warns_without_failing_the_run_and_alerts_once(
    slack, instance, monkeypatch, capsys
):
    monkeypatch.setenv("TIEOUT_TOLERANCE", "0.01")
    tieout_table(duckdb_file(), "0.01")
    _, cursor = tick(ordway_check_warning_alert, instance, None)
    key = AssetCheckKey(REVENUE_TIEOUT_KEY, "recognized_revenue_ties_out_to_posted_lines")
    result = run_checks(instance, key)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.WARN
    assert report(result) == 0
    out = capsys.readouterr().out
    assert "warning: check failed: recognized_revenue_ties_out_to_posted_lines on " in out
    assert "1 revenue schedules' recognized revenue differ by at most TIEOUT_TOLERANCE=0.01" in out
    for _ in range(2):
        _, cursor = tick(ordway_check_warning_alert, instance, cursor)
    (text,) = slack.texts()
    assert text.startswith("Ordway run succeeded with 1 check warning(s): checks_under_test")
    assert "(warning, not blocking)" in text and "largest: RS-2 off by EUR 0.01" in text
    assert f"{WEB}/runs/{result.run_id}" in text


def test_one_cent_beyond_the_default_tolerance_fails_the_run(slack, instance, capsys):
    tieout_table(duckdb_file(), "-0.01")
    key = AssetCheckKey(REVENUE_TIEOUT_KEY, "recognized_revenue_ties_out_to_posted_lines")
    result = run_checks(instance, key)
    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.severity == AssetCheckSeverity.ERROR
    assert report(result) == 1
    assert (
        "blocking check failed: recognized_revenue_ties_out_to_posted_lines on "
        "marts/rpt_revenue_schedule_tieout: 1 revenue schedules' recognized revenue differ by "
        "more than TIEOUT_TOLERANCE=0.00 (largest: RS-2 off by EUR 0.01)"
    ) in capsys.readouterr().err


# ---------------------------------------------------------------------- empty / new tables


def test_a_raw_table_that_does_not_exist_yet_counts_as_zero_rows_not_an_error(clean_env, instance):
    warehouse(
        duckdb_file(),
        "CREATE TABLE ordway_raw.customers AS SELECT 'C-' || i AS id FROM range(3) t(i)",
    )
    keys = [AssetCheckKey(k, ROW_COUNT_CHECK) for k in (CUSTOMERS_KEY, ACCOUNTS_KEY)]
    result = run_checks(instance, *keys)
    assert result.success
    found = {
        e.asset_key.path[-1]: {k: v.value for k, v in e.metadata.items()}
        for e in result.get_asset_check_evaluations()
    }
    assert found["customers"]["rows_now"] == 3
    assert found["chart_of_accounts"]["rows_now"] == 0
    assert found["chart_of_accounts"]["table_exists"] is False
    assert found["chart_of_accounts"]["rows_previous"] == "no earlier run"


def test_a_table_that_vanished_after_an_earlier_materialization_is_a_blocking_cliff(
    clean_env, instance
):
    warehouse(duckdb_file())  # the raw schema exists, chart_of_accounts does not
    instance.report_runless_asset_event(
        AssetMaterialization(ACCOUNTS_KEY, metadata={"dagster/row_count": 12})
    )
    result = run_checks(instance, AssetCheckKey(ACCOUNTS_KEY, ROW_COUNT_CHECK))
    assert not result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.severity == AssetCheckSeverity.ERROR and evaluation.blocking
    assert evaluation.metadata["explanation"].value.startswith(
        "ordway_raw.chart_of_accounts fell from 12 to 0 rows (100 % > ROW_COUNT_DROP_PCT=20)"
    )


# ------------------------------------------------------------------ stale data, no job run


def test_a_stale_warehouse_alerts_once_per_episode_with_no_job_run(slack, instance):
    path = duckdb_file()
    load_log(path, datetime.now(UTC) - timedelta(hours=40))
    cursor = None
    results = []
    for _ in range(3):
        result, cursor = tick(ordway_stale_data_alert, instance, cursor)
        results.append(result)
    assert instance.get_runs() == []  # no job ran
    assert len(slack.bodies) == 1, slack.texts()
    text = slack.bodies[0]["text"]
    assert text.startswith("Ordway data is stale: no successful load for 40.0 h")
    assert "dlt_load_freshness on ordway_raw/_ordway_deletions" in text
    assert "(> FRESHNESS_HOURS=36)" in text
    assert f"{WEB}/assets/ordway_raw/_ordway_deletions" in text
    (evaluation,) = results[0].asset_events  # the check's result, recorded without a run
    assert (evaluation.check_name, evaluation.passed) == (FRESHNESS_CHECK, False)
    assert results[1].asset_events == [] and "already alerted" in results[1].skip_message

    load_log(path, datetime.now(UTC) - timedelta(hours=1))  # a load happened
    for _ in range(2):
        _, cursor = tick(ordway_stale_data_alert, instance, cursor)
    assert len(slack.bodies) == 2
    assert slack.texts()[1].startswith("Ordway data is fresh again")


def test_a_warehouse_that_never_loaded_alerts_as_stale(slack, instance):
    assert not Path(duckdb_file()).exists()
    _, cursor = tick(ordway_stale_data_alert, instance, None)
    _, cursor = tick(ordway_stale_data_alert, instance, cursor)
    (text,) = slack.texts()
    assert text.startswith("Ordway data is stale: no successful load ever")
    assert "No successful dlt load was ever recorded" in text


# ------------------------------------------------------------------------------- delivery


ALERT = Alert(title="Ordway run failed: test", body="run id: r1", link=f"{WEB}/runs/r1")


def test_a_bot_token_posts_through_dagster_slack_to_the_channel(clean_env, monkeypatch):
    from dagster_slack import SlackResource
    from slack_sdk import WebClient

    token = "xoxb-not-a-real-token-7f3a"
    with WebhookReceiver() as api:
        monkeypatch.setenv("SLACK_BOT_TOKEN", token)
        monkeypatch.setenv("SLACK_CHANNEL", "#finance-data")
        # Slack's Web API cannot be reached from here: the resource's client talks to loopback
        monkeypatch.setattr(
            SlackResource, "get_client", lambda self: WebClient(self.token, base_url=api.api_url)
        )
        assert post_alert(ALERT) == "slack"
    assert api.paths == ["/api/chat.postMessage"]
    assert api.headers[0]["Authorization"] == f"Bearer {token}"
    body = api.bodies[0]
    assert body["channel"] == "#finance-data"
    assert body["text"] == ALERT.text() and token not in str(body)


def test_a_refused_or_unreachable_webhook_raises_without_the_url(clean_env, monkeypatch):
    with WebhookReceiver(status=500) as refusing:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", refusing.url)
        with pytest.raises(AlertDeliveryError) as refused:
            post_alert(ALERT)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", refusing.url)  # now closed
    with pytest.raises(AlertDeliveryError) as unreachable:
        post_alert(ALERT)
    assert "HTTP 500" in str(refused.value)
    assert "unreachable" in str(unreachable.value)
    for error in (refused.value, unreachable.value):
        assert "not-a-real-secret" not in str(error) and "/services/" not in str(error)


def test_with_no_slack_setting_the_alert_goes_to_the_log(clean_env, caplog):
    assert post_alert(ALERT) == "log"
    assert "Ordway run failed: test" in caplog.text and f"{WEB}/runs/r1" in caplog.text


# ------------------------------------------------------------------------ tie-out verdicts


def _row(difference: str) -> dict:
    return {"id": "X", "currency": "USD", "difference": Decimal(difference)}


@pytest.mark.parametrize(
    ("difference", "tolerance", "passed", "severity"),
    [
        ("0.00", "0.00", True, AssetCheckSeverity.WARN),
        ("0.01", "0.00", False, AssetCheckSeverity.ERROR),
        ("-0.01", "0.01", False, AssetCheckSeverity.WARN),
        ("0.02", "0.01", False, AssetCheckSeverity.ERROR),
    ],
)
def test_a_tie_out_blocks_only_beyond_the_tolerance(difference, tolerance, passed, severity):
    result = tieout_result(
        [_row("0.00"), _row(difference)],
        ("difference",),
        "id",
        ("id", "currency", "difference"),
        "rows",
        "",
        Decimal(tolerance),
    )
    assert result.passed is passed
    if not passed:
        assert result.severity == severity
