"""Two nightly runs started at the same moment on one warehouse, and bad configuration met by a
Dagster run: a DuckDB file locked by another process, a malformed ORDWAY_BASE_URL. Oracles are
the tenant the sandbox serves (rows and Decimal money sums per table) and the sandbox's request
counters."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, instance_for_test

from assets.definitions import defs
from ordway_sandbox.process import SandboxProcess
from pipelines.ordway.contract import INCREMENTAL_COLLECTIONS
from scripts.run_nightly import failure_summary
from tests.reliability.process_support import PARTITION, job_env, sandbox, start_nightly
from tests.support.environment import isolate_environment
from tests.support.source import tenant_summary, warehouse_summary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxProcess]:
    with sandbox() as process:
        yield process


def test_two_runs_started_together_never_write_the_warehouse_at_once(
    server: SandboxProcess, tmp_path: Path
) -> None:
    env = job_env(server, tmp_path)  # one DuckDB file, dlt directory and Dagster instance
    # an instance that has been used before (two processes creating its SQLite tables at the
    # same moment race each other, which only a brand-new DAGSTER_HOME can see)
    home = Path(env["DAGSTER_HOME"])
    home.mkdir()
    DagsterInstance.from_config(str(home)).dispose()
    runs = [start_nightly(env, "first"), start_nightly(env, "second")]
    codes = [run.wait() for run in runs]
    outputs = [run.stdout + run.stderr for run in runs]
    assert 0 in codes, outputs[0][-3000:]
    for code, output in zip(codes, outputs, strict=True):
        # each run either waited for the lock and succeeded, or was refused naming the lock
        assert code == 0 or ("WarehouseBusyError" in output and "ordway.warehouse.lock" in output)
        if code == 0:
            assert "Holding the warehouse lock" in output

    path = tmp_path / "ordway.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        for name in INCREMENTAL_COLLECTIONS:
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT id) FROM ordway_raw.{name}"
            ).fetchone()
            assert total == distinct, name
        customers = con.execute("SELECT count(*) FROM marts.dim_customers").fetchone()[0]
    tenant = server.get_tenant()
    assert warehouse_summary(path) == tenant_summary(tenant)
    assert customers == len(tenant["customers"])


def _nightly_in_process(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):
    isolate_environment(monkeypatch, Path(env["DUCKDB_PATH"]).parent)
    for name in ("ORDWAY_BASE_URL", "ORDWAY_MAX_RPS", "AS_OF_DATE", *credential_names()):
        monkeypatch.setenv(name, env[name])
    with instance_for_test() as instance:
        return defs.resolve_job_def("ordway_nightly").execute_in_process(
            instance=instance, partition_key=PARTITION, raise_on_error=False
        )


def credential_names() -> tuple[str, ...]:
    return ("ORDWAY_API_KEY", "ORDWAY_COMPANY", "ORDWAY_USER_EMAIL", "ORDWAY_USER_TOKEN")


HOLD_LOCK = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('CREATE TABLE held (x INTEGER)')\n"
    "print('holding', flush=True)\n"
    "time.sleep(300)\n"
)


def test_a_duckdb_file_locked_by_another_process_fails_the_run_before_any_request(
    server: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = job_env(server, tmp_path)
    path = Path(env["DUCKDB_PATH"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        server.reset_stats()
        result = _nightly_in_process(monkeypatch, env)
        requests = server.stats()["requests"]
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert not result.success
    summary = failure_summary(result)
    assert "step ordway_raw_incremental failed" in summary
    assert f'"{path}"' in summary and "lock" in summary
    assert sum(requests.values()) == 0, requests
    with duckdb.connect(str(path), read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert not schemas & {"ordway_raw", "staging", "marts"}


def test_a_malformed_base_url_fails_the_run_naming_the_variable_before_any_request(
    server: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = job_env(server, tmp_path, ORDWAY_BASE_URL="htp:/127.0.0.1:port/api/v1")
    server.reset_stats()
    result = _nightly_in_process(monkeypatch, env)
    assert not result.success
    summary = failure_summary(result)
    assert "ORDWAY_BASE_URL" in summary and "before any request" in summary
    assert sum(server.stats()["requests"].values()) == 0
    assert not Path(env["DUCKDB_PATH"]).exists()
