"""Sandbox -> receiver -> sensors -> targeted run -> marts: after a nightly load, the tenant
changes (a day passes, a payment fails on the payment run's last attempt); the sandbox delivers
every change twice and shuffled to the receiver process, which is killed before the payment
fails and restarted a second later (the sandbox retries the refused deliveries); one tick of the
sync sensor requests one run of only the touched collections, executed as a real run of the
nightly job; the warehouse then equals a full load of the same tenant into a fresh warehouse,
and each failure alerted exactly once however often it was delivered."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import (
    DagsterInstance,
    SensorResult,
    SkipReason,
    build_sensor_context,
    instance_for_test,
)

from assets.definitions import defs
from assets.jobs import NIGHTLY_JOB_NAME
from assets.webhooks import SYNC_SENSOR_NAME, ordway_payment_failure_alert
from ordway_sandbox.process import SandboxProcess
from pipelines.webhooks.store import WebhookStore
from tests.support.environment import environment
from tests.support.nightly import night_env, run_night
from tests.support.slack import WebhookReceiver
from tests.support.source import table_rows
from tests.support.webhooks import HEADER, SECRET, ReceiverProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.xdist_group("dagster_e2e")]

AS_OF = "2026-06-20"
NEXT_DAY = "2026-06-21"
PARTITION = "2026-06-01"
ARGS = ["--customers", "8", "--seed", "5", "--as-of", AS_OF]


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as temporary:
        yield temporary


def published_marts(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            t: sorted(con.execute(f"select * from marts.{t}").fetchall(), key=repr)
            for t in sorted(tables)
        }


def failed_payment(tenant: dict[str, Any]) -> dict[str, Any]:
    """A new payment failing on the payment run's third attempt, modelled on one the generator
    made, updated after everything the first night loaded."""
    template = next(p for p in tenant["payments"] if p["status"] == "Failed")
    return {
        **template,
        "id": "PMT-90001",
        "failed_attempt": 3,
        "retried_attempts": 2,
        "created_date": f"{NEXT_DAY}T23:00:00.000Z",
        "updated_date": f"{NEXT_DAY}T23:00:00.000Z",
    }


def test_webhooks_turn_into_one_targeted_run_that_converges_to_a_full_load_and_alert_once(
    tmp_path: Path, instance: DagsterInstance
) -> None:
    db = tmp_path / "webhooks.sqlite3"
    with (
        SandboxProcess(ARGS) as sandbox,
        ReceiverProcess(db) as receiver,
        WebhookReceiver() as slack,
    ):
        env = night_env(
            sandbox,
            tmp_path / "live",
            NEXT_DAY,
            WEBHOOK_DB_PATH=str(db),
            SLACK_WEBHOOK_URL=slack.url,
        )
        first = run_night(instance, sandbox, env, PARTITION)
        assert first.result.success, first.failure()

        sandbox.set_webhooks(
            {
                "url": receiver.url,
                "headers": {HEADER: SECRET},
                "duplicates": 1,
                "reorder": True,
                "retries": 20,
            }
        )
        advanced = sandbox.advance(1)["webhooks"]
        payment = failed_payment(sandbox.get_tenant())
        # The receiver dies (SIGKILL) before the payment fails and is back 1 s later: the
        # sandbox's deliveries in between are refused and retried until it answers.
        receiver.kill()
        restart = threading.Timer(1.0, receiver.start)
        restart.start()
        upserted = sandbox.upsert("payments", payment)["webhooks"]
        restart.join()
        sent = advanced["envelopes"] + upserted["envelopes"]
        assert advanced["failed"] == upserted["failed"] == 0
        assert upserted["envelopes"] == 2  # the payment and its customer's auto_retrial event
        refused = [a for a in sandbox.webhooks()["log"] if a["status"] == 408]
        assert refused and {a["id"] for a in refused} <= {payment["id"], payment["customer_id"]}

        store = WebhookStore(db)
        counts = store.counts()
        assert counts["events"] == sent  # each change stored once...
        assert counts["deliveries"] == 2 * sent  # ...though delivered twice, out of order
        assert counts["rejected"] == 0

        sync = defs.resolve_sensor_def(SYNC_SENSOR_NAME)
        with environment(env):
            tick = sync(build_sensor_context(instance=instance, definitions=defs))
            assert isinstance(tick, SensorResult) and len(tick.run_requests) == 1
            request = tick.run_requests[0]
            raw = {k.path[-1] for k in request.asset_selection if k.path[0] == "ordway_raw"}
            touched = {e.collections for e in store.events_after(0)}
            assert raw == {c for names in touched for c in names} | {"_ordway_deletions"}
            assert "invoices" not in raw or any("invoices" in t for t in touched)
            result = defs.resolve_job_def(NIGHTLY_JOB_NAME).execute_in_process(
                instance=instance,
                tags=request.tags,
                asset_selection=request.asset_selection,
                raise_on_error=False,
            )
            assert result.success
            # the next tick has nothing new and records the batch as processed
            again = sync(
                build_sensor_context(instance=instance, cursor=tick.cursor, definitions=defs)
            )
            assert isinstance(again, SkipReason)
            assert store.counts()["unprocessed"] == 0
            for _ in range(2):  # a second tick alerts nothing more
                ordway_payment_failure_alert(build_sensor_context(instance=instance))

        with instance_for_test() as reference_instance:
            full_env = night_env(sandbox, tmp_path / "full", NEXT_DAY)
            full = run_night(reference_instance, sandbox, full_env, PARTITION)
            assert full.result.success, full.failure()

    live = tmp_path / "live" / "ordway.duckdb"
    assert table_rows(live) == table_rows(full.working)
    assert published_marts(first.published) == published_marts(full.published)

    titles = [body["blocks"][0]["text"]["text"] for body in slack.bodies]
    assert sorted(titles) == sorted(
        [
            "Ordway payment PMT-90001 failed",
            f"Ordway auto_retrial event on Customer {payment['customer_id']}",
        ]
    ), titles
    assert SECRET not in json.dumps(slack.bodies)
