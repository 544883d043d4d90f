"""Dagster as deployed: deploy/dagster.yaml on a real PostgreSQL, with the processes of
deploy/docker-compose.yml (the code location's `dagster code-server start`, `dagster-webserver`,
`dagster-daemon run`) started here as plain processes with their compose commands (only host,
port and workspace path changed). The nightly job and a three-month backfill are launched through
the webserver's GraphQL API, as the UI launches them; the runs wait in the queue until the daemon
dequeues them and the code server runs them. Then the run history is read back from PostgreSQL.

The warehouse is a DuckDB file (runs execute in the code server's process tree on this one
machine, as in the compose file); production uses Snowflake (deploy/README.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg2
import pytest
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster_graphql import DagsterGraphQLClient

from ordway_sandbox.process import SandboxProcess
from tests.reliability.process_support import PARTITION, RUN_TIMEOUT, job_env, sandbox
from tests.support.paths import REPO_ROOT
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.slow

DEPLOY = REPO_ROOT / "deploy"
LOCATION = "ordway_revenue"
BACKFILL = ("2026-02-01", "2026-03-01", "2026-04-01")  # three monthly partitions
#: A run submitted to the QueuedRunCoordinator is ENQUEUED; the daemon's run queue then launches
#: it (STARTING) through the code server (START, in a new run-worker process).
QUEUE_EVENTS = (
    DagsterEventType.RUN_ENQUEUED,
    DagsterEventType.RUN_STARTING,
    DagsterEventType.RUN_START,
    DagsterEventType.RUN_SUCCESS,
)
BACKFILL_MUTATION = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
"""


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose_command(service: str, replacements: Mapping[str, str]) -> list[str]:
    """A service's command from deploy/docker-compose.yml, with values replaced."""
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    command = [replacements.get(part, part) for part in compose["services"][service]["command"]]
    return [_executable(command[0]), *command[1:]]


def _executable(name: str) -> str:
    """A console script of this virtual environment (its bin/ need not be on PATH)."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def processes(env: Mapping[str, str], logs: Path) -> Iterator[dict[str, Process]]:
    """Starts what `start` is given, each in its own session; stops them all on exit."""
    started: dict[str, Process] = {}

    def start(name: str, command: Sequence[str]) -> Process:
        log = logs / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(command),
                cwd=REPO_ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started[name] = Process(name, popen, log)
        return started[name]

    try:
        yield start  # type: ignore[misc]
    finally:
        for process in reversed(list(started.values())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in started.values():
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=30)


def wait_for(condition: Any, what: str, watched: Sequence[Process], timeout: float) -> Any:
    """Polls `condition` until it returns something truthy; fails naming `what` (with the
    processes' logs) when a watched process died or the time ran out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        dead = [p for p in watched if p.popen.poll() is not None]
        if dead or time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in watched)
            reason = f"{dead[0].name} exited" if dead else "timed out"
            raise AssertionError(f"{reason} waiting for {what}\n{logs}")
        time.sleep(1)


@dataclass
class Deployment:
    instance: DagsterInstance
    postgres: PostgresServer
    tenant: dict[str, Any]
    duckdb_path: Path
    nightly_run_id: str
    backfill_id: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("postgres_deployment")
    with (
        PostgresServer() as postgres,
        sandbox() as server,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        server: SandboxProcess
        env = {**job_env(server, workdir), **postgres.env}
        home = Path(env["DAGSTER_HOME"])
        home.mkdir()
        shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")  # the production file
        grpc_port, web_port = _free_port(), _free_port()
        workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
        (entry,) = workspace["load_from"]
        entry["grpc_server"].update(host="127.0.0.1", port=grpc_port)
        (workdir / "workspace.yaml").write_text(yaml.safe_dump(workspace))
        replacements = {
            "0.0.0.0": "127.0.0.1",
            "4000": str(grpc_port),
            "3000": str(web_port),
            "/opt/dagster/workspace.yaml": str(workdir / "workspace.yaml"),
        }
        for name, value in env.items():
            if name.startswith("DAGSTER_"):
                monkeypatch.setenv(name, value)

        logs = workdir / "logs"
        logs.mkdir()
        with processes(env, logs) as start:
            code = start("code-location", compose_command("code-location", replacements))
            health = [_executable("dagster"), "api", "grpc-health-check", "--port", str(grpc_port)]
            wait_for(
                lambda: subprocess.run(health, capture_output=True, env=env).returncode == 0,
                "the code server",
                [code],
                timeout=300,
            )
            web = start("webserver", compose_command("webserver", replacements))
            daemon = start("daemon", compose_command("daemon", replacements))
            watched = [code, web, daemon]
            client = DagsterGraphQLClient("127.0.0.1", port_number=web_port, timeout=120)
            wait_for(lambda: _server_up(web_port), "the webserver", watched, timeout=300)

            nightly = client.submit_job_execution(
                "ordway_nightly",
                repository_location_name=LOCATION,
                tags={"dagster/partition": PARTITION},
            )
            with DagsterInstance.get() as instance:
                wait_for(
                    lambda: _finished(instance, [nightly]), "the nightly run", watched, RUN_TIMEOUT
                )
                backfill_id = _launch_backfill(web_port)
                wait_for(
                    lambda: _backfill_done(instance, backfill_id),
                    "the backfill",
                    watched,
                    RUN_TIMEOUT,
                )
                yield Deployment(
                    instance,
                    postgres,
                    server.get_tenant(),
                    Path(env["DUCKDB_PATH"]),
                    nightly,
                    backfill_id,
                )


def _server_up(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=5).status_code == 200
    return False


def _finished(instance: DagsterInstance, run_ids: Sequence[str]) -> bool:
    runs = instance.get_runs(filters=RunsFilter(run_ids=list(run_ids)))
    return len(runs) == len(run_ids) and all(run.is_finished for run in runs)


def _launch_backfill(port: int) -> str:
    """What the UI's "Launch backfill" on the ordway_nightly job's partitions does."""
    params = {
        "selector": {
            "partitionSetName": "ordway_nightly_partition_set",
            "repositorySelector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": "__repository__",
            },
        },
        "partitionNames": list(BACKFILL),
    }
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": BACKFILL_MUTATION, "variables": {"params": params}},
        timeout=120,
    )
    response.raise_for_status()
    result = response.json()["data"]["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def _backfill_done(instance: DagsterInstance, backfill_id: str) -> bool:
    backfill = instance.get_backfill(backfill_id)
    runs = instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
    return (
        backfill is not None
        and backfill.status.value.startswith("COMPLETED")
        and bool(runs)
        and all(run.is_finished for run in runs)
    )


def _events(instance: DagsterInstance, run_id: str) -> list[DagsterEventType]:
    return [
        record.dagster_event.event_type
        for record in instance.all_logs(run_id)
        if record.dagster_event is not None
    ]


# ----------------------------------------------------------------------------------- tests


def test_the_instance_keeps_runs_events_and_ticks_in_postgres(deployment: Deployment) -> None:
    instance = deployment.instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    # the run history, read from PostgreSQL itself
    with contextlib.closing(psycopg2.connect(deployment.postgres.url)) as conn:
        cursor = conn.cursor()
        cursor.execute("select run_id, status from runs")
        statuses = dict(cursor.fetchall())
        cursor.execute(
            "select count(*) from event_logs where run_id = %s", (deployment.nightly_run_id,)
        )
        events = cursor.fetchone()[0]
    assert statuses[deployment.nightly_run_id] == "SUCCESS"
    assert len(statuses) == 2 and set(statuses.values()) == {"SUCCESS"}, statuses
    assert events > 50


def test_the_nightly_run_went_through_the_queue_and_the_daemon_and_succeeded(
    deployment: Deployment,
) -> None:
    instance = deployment.instance
    run = instance.get_run_by_id(deployment.nightly_run_id)
    assert run is not None and run.status == DagsterRunStatus.SUCCESS
    assert run.job_name == "ordway_nightly"
    assert run.tags["dagster/partition"] == PARTITION
    assert run.tags["ordway/warehouse"] == "1" and run.tags["ordway/mode"] == "incremental"
    lifecycle = [e for e in _events(instance, run.run_id) if e in QUEUE_EVENTS]
    assert lifecycle == list(QUEUE_EVENTS)
    daemons = instance.get_daemon_heartbeats()
    assert {"QUEUED_RUN_COORDINATOR", "BACKFILL", "SCHEDULER", "SENSOR"} <= set(daemons)
    customers = len(deployment.tenant["customers"])
    with duckdb.connect(str(deployment.duckdb_path), read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_customers").fetchone() == (customers,)


def test_the_backfill_is_one_queued_run_over_the_three_months(deployment: Deployment) -> None:
    instance = deployment.instance
    backfill = instance.get_backfill(deployment.backfill_id)
    assert backfill is not None and backfill.status.value == "COMPLETED_SUCCESS"
    runs = instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": deployment.backfill_id}))
    assert len(runs) == 1  # BackfillPolicy.single_run: one extraction window, one dbt build
    (run,) = runs
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/asset_partition_range_start"] == BACKFILL[0]
    assert run.tags["dagster/asset_partition_range_end"] == BACKFILL[-1]
    assert run.tags["ordway/warehouse"] == "1"
    lifecycle = [e for e in _events(instance, run.run_id) if e in QUEUE_EVENTS]
    assert lifecycle == list(QUEUE_EVENTS)
    materialized = {
        record.partition_key: record.run_id
        for record in instance.fetch_materializations(
            AssetKey(["ordway_raw", "invoices"]), limit=100
        ).records
    }
    assert {month: materialized.get(month) for month in BACKFILL} == {
        month: run.run_id for month in BACKFILL
    }
    assert materialized[PARTITION] == deployment.nightly_run_id
