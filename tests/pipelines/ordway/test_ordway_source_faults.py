"""Faults injected by the sandbox: each run either succeeds with exact data or fails clearly,
leaving the warehouse and the cursors unchanged; the next clean run then catches up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordway_sandbox.process import SandboxProcess
from pipelines.ordway.client import OrdwayAPIError
from pipelines.ordway.pipeline import make_pipeline, run_extract
from tests.support.source import (
    cursors,
    generated_sandbox,
    settings_for,
    source_env,
    table_rows,
    tenant_summary,
    warehouse_summary,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ordway_source_faults")]

REPO_ROOT = Path(__file__).resolve().parents[3]
RESOURCES = ["invoices", "payments", "customers"]


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[SandboxProcess]:
    with generated_sandbox() as process:
        yield process


@pytest.fixture
def sandbox(shared_sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    shared_sandbox.set_faults({})
    yield shared_sandbox
    shared_sandbox.set_faults({})


def assert_equals_tenant(sandbox: SandboxProcess, duckdb_path: Path, resources: list[str]) -> None:
    tenant = sandbox.get_tenant()
    expected = {
        table: value
        for table, value in tenant_summary(tenant).items()
        if table.split("__")[0] in resources
    }
    actual = {
        table: value
        for table, value in warehouse_summary(duckdb_path).items()
        if table.split("__")[0] in resources
    }
    assert actual == expected


SUCCEEDS = {
    "429 with Retry-After": {"rate_limit": 15, "burst": 2},
    "429 without Retry-After": {"rate_limit": 15, "burst": 2, "retry_after": False},
    "5xx burst": {"faults": ["error:invoices:2:2", "error503:payments:1:2", "error502:*:1:1"]},
    "timeout": {"faults": ["timeout:invoices:2:1"], "stall_seconds": 3},
    "malformed page": {"faults": ["malformed:invoices:2:1", "malformed:customers:1:1"]},
    "empty body": {"faults": ["empty:payments:2:1"]},
    "short non-final page": {"faults": ["short:invoices:2", "short:payments:1"]},
}


@pytest.mark.parametrize("faults", SUCCEEDS.values(), ids=SUCCEEDS.keys())
def test_transient_faults_end_in_success_with_exact_data(
    sandbox: SandboxProcess, tmp_path: Path, faults: dict
) -> None:
    # rate-limit cases use full pages: fewer requests, so fewer 1 s Retry-After waits
    page_size = "50" if "rate_limit" in faults else "20"
    settings = settings_for(
        sandbox,
        tmp_path,
        ORDWAY_MAX_RETRIES="8",
        ORDWAY_TIMEOUT_SECONDS="1",
        ORDWAY_PAGE_SIZE=page_size,
    )
    sandbox.set_faults(faults)
    sandbox.reset_stats()
    run_extract(settings, resources=RESOURCES, pipeline=make_pipeline(settings))
    statuses = sandbox.stats()["statuses"]
    sandbox.set_faults({})
    if "rate_limit" in faults:
        assert statuses.get("429", 0) > 0  # the fault really fired
    assert_equals_tenant(sandbox, settings.duckdb_path, RESOURCES)


FAILS = {
    "5xx beyond the retries": {"faults": ["error:invoices:2:20"]},
    "malformed beyond the retries": {"faults": ["malformed:invoices:2:20"]},
    "timeouts beyond the retries": {"faults": ["timeout:invoices:2:20"], "stall_seconds": 2},
    "repeating page": {"faults": ["repeat:invoices:2"]},
    "credentials expire": {"auth_fail_after": 3},
}


@pytest.mark.parametrize("faults", FAILS.values(), ids=FAILS.keys())
def test_a_failed_run_leaves_warehouse_and_cursors_unchanged_and_the_next_run_recovers(
    sandbox: SandboxProcess, tmp_path: Path, faults: dict
) -> None:
    settings = settings_for(
        sandbox, tmp_path, ORDWAY_MAX_RETRIES="2", ORDWAY_TIMEOUT_SECONDS="1", ORDWAY_PAGE_SIZE="20"
    )
    pipeline = make_pipeline(settings)
    run_extract(settings, resources=RESOURCES, pipeline=pipeline)
    rows_before = table_rows(settings.duckdb_path)
    cursors_before = cursors(settings.duckdb_path)
    local_before = pipeline.state["sources"]["ordway"]["resources"]

    sandbox.advance(1)  # upstream changes the failing run would otherwise load
    sandbox.set_faults(faults)
    with pytest.raises(Exception) as info:
        run_extract(settings, "full", resources=RESOURCES, pipeline=pipeline)
    sandbox.set_faults({})
    assert isinstance(info.value, OrdwayAPIError) or isinstance(info.value.__cause__, Exception)
    message = str(info.value)
    assert "resource=" in message and "path=/api/v1/" in message

    assert table_rows(settings.duckdb_path) == rows_before
    assert cursors(settings.duckdb_path) == cursors_before
    reopened = make_pipeline(settings)
    assert reopened.state["sources"]["ordway"]["resources"] == local_before
    assert not reopened.has_pending_data

    run_extract(settings, resources=RESOURCES, pipeline=reopened)
    assert_equals_tenant(sandbox, settings.duckdb_path, RESOURCES)


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.ordway", "run", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_process_killed_mid_run_and_rerun_loads_every_record_exactly_once(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    env = source_env(sandbox, tmp_path, ORDWAY_PAGE_SIZE="10")
    # first a complete load, then a day of changes, then a run killed half-way
    first = _cli(env)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    sandbox.advance(1)
    sandbox.set_faults({"latency_ms": 150})
    sandbox.reset_stats()
    victim = _cli(env, "--mode", "full")
    deadline = time.monotonic() + 120
    while sandbox.stats()["statuses"].get("200", 0) < 12:
        assert victim.poll() is None, "the run finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    sandbox.set_faults({})

    rerun = _cli(env)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "ok: mode=incremental" in out

    settings = settings_for(sandbox, tmp_path)
    all_collections = ["invoices", "payments", "credits", "refunds", "subscriptions", "usages"]
    from tests.support.source import connect

    with connect(settings.duckdb_path) as con:
        for name in all_collections:
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT id) FROM ordway_raw.{name}"
            ).fetchone()
            assert total == distinct, name
    tenant = sandbox.get_tenant()
    deleted_free = {
        t: v
        for t, v in tenant_summary(tenant).items()
        if t.split("__")[0] in ("invoices", "payments", "credits", "refunds")
    }
    actual = warehouse_summary(settings.duckdb_path)
    for table, value in deleted_free.items():
        assert actual[table] == value, table


def test_credentials_never_appear_in_logs_or_error_messages(tmp_path: Path) -> None:
    secrets = {
        "ORDWAY_API_KEY": "key-a1b2c3d4e5",
        "ORDWAY_COMPANY": "Hushhush Holdings",
        "ORDWAY_USER_EMAIL": "robot@hushhush.example",
        "ORDWAY_USER_TOKEN": "tok-f6e5d4c3b2",
    }
    with SandboxProcess(
        ["--customers", "30", "--seed", "3", "--as-of", "2025-01-31"], env=secrets
    ) as sandbox:
        env = {**source_env(sandbox, tmp_path), **secrets}
        ok = _cli(env, "-v", "--resources", "invoices,customers")
        ok_out, ok_err = ok.communicate(timeout=300)
        assert ok.returncode == 0, ok_err
        bad = _cli({**env, "ORDWAY_USER_TOKEN": "tok-wrong-0000"}, "-v")
        bad_out, bad_err = bad.communicate(timeout=300)
        assert bad.returncode == 1
        assert "status=401" in bad_err
        sandbox.set_faults({"faults": ["error:invoices:1:50"]})
        failing = _cli({**env, "ORDWAY_MAX_RETRIES": "1"}, "-v", "--resources", "invoices")
        fail_out, fail_err = failing.communicate(timeout=300)
        assert failing.returncode == 1
        assert "status=500" in fail_err
    for text in (ok_out, ok_err, bad_out, bad_err, fail_out, fail_err):
        for value in [*secrets.values(), "tok-wrong-0000"]:
            assert value not in text
