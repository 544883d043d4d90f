"""A night on which Ordway's customers endpoint returns nothing, end to end: real nightly runs
(`python -m scripts.run_nightly`, what `make run` does) against the sandbox over loopback, a real
DuckDB file and Dagster instance, and a real HTTP server on loopback standing in for Slack.

Night 1 loads the tenant. Night 2 the sandbox serves no customers: the blocking
``row_count_cliff`` check on ``ordway_raw/customers`` fails, the run fails, `make run` exits 1
naming the check, the asset and the explanation, the marts keep night 1's customers (dbt did
not run), and one alert with the run's link and the explanation reaches the webhook. Night 3,
still without customers, fails the same way: a failed night never becomes the baseline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from ordway_sandbox.process import SandboxProcess
from tests.reliability.process_support import job_env, sandbox, start_nightly
from tests.support.slack import WebhookReceiver

pytestmark = pytest.mark.slow

WEB = "http://dagster.example.test:3000"
DIM_CUSTOMERS = AssetKey(["marts", "dim_customers"])


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxProcess]:
    with sandbox() as process:
        yield process


def customers_in_marts(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM marts.dim_customers").fetchone()[0]


def test_an_empty_customers_endpoint_fails_the_night_on_the_blocking_cliff_and_alerts_once(
    server: SandboxProcess, tmp_path: Path
) -> None:
    tenant = server.get_tenant()
    customers = len(tenant["customers"])
    with WebhookReceiver() as slack:
        env = job_env(server, tmp_path, SLACK_WEBHOOK_URL=slack.url, DAGSTER_WEBSERVER_URL=WEB)
        first = start_nightly(env, "night1").succeed()
        assert "ok: run " in first.stdout
        assert customers_in_marts(tmp_path / "ordway.duckdb") == customers
        before = len(slack.bodies)  # night 1 posts only if a non-blocking check warned
        assert all("Ordway run failed" not in text for text in slack.texts())

        server.put_tenant({**tenant, "customers": []})
        second = start_nightly(env, "night2")
        assert second.wait() == 1, second.stdout + second.stderr[-4000:]
        third = start_nightly(env, "night3")
        assert third.wait() == 1, third.stdout + third.stderr[-4000:]
        alerts = slack.texts()[before:]

    for night in (second, third):
        assert (
            "error: blocking check failed: row_count_cliff on ordway_raw/customers: "
            f"ordway_raw.customers fell from {customers} to 0 rows (100 % > ROW_COUNT_DROP_PCT=20)"
        ) in night.stderr, night.stderr[-4000:]
        assert f"{WEB}/runs/" in night.stderr
    # dbt never ran after the failed check: the marts still hold night 1's customers
    assert customers_in_marts(tmp_path / "ordway.duckdb") == customers

    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = list(reversed(instance.get_runs()))  # oldest first
        assert [run.status.value for run in runs] == ["SUCCESS", "FAILURE", "FAILURE"]
        failed_ids = [run.run_id for run in runs[1:]]
        dim_customers = instance.fetch_materializations(DIM_CUSTOMERS, limit=10).records
        dbt_materialized = [record.run_id for record in dim_customers]
    assert set(dbt_materialized) == {runs[0].run_id}

    assert len(alerts) == 2, alerts  # one per failed night
    for alert, run_id in zip(alerts, failed_ids, strict=True):
        assert alert.startswith("Ordway run failed: ordway_nightly, partition ")
        assert "row_count_cliff on ordway_raw/customers (blocking): ordway_raw.customers fell" in (
            alert
        )
        assert f"{WEB}/runs/{run_id}" in alert
        assert "not-a-real-secret" not in alert
