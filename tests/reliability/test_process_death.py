"""A real ``SIGKILL`` of the nightly Dagster job (``scripts.run_nightly``, what ``make run`` and
the schedule execute) during its dlt load and during its ``dbt build``; the next plain run, with
no clean-up, must leave the warehouse equal to an undisturbed run of the same job on the same
tenant: every raw table the same row set, the cursors the same, and no row of any intermediate or
mart table differing in either direction."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from ordway_sandbox.process import SandboxProcess
from tests.reliability.process_support import (
    differing_rows,
    job_env,
    load_packages,
    sandbox,
    schema_tables,
    start_nightly,
    wait_until,
)
from tests.support.source import cursors, table_rows

pytestmark = pytest.mark.slow


@dataclass
class Reference:
    sandbox: SandboxProcess
    workdir: Path

    @property
    def duckdb_path(self) -> Path:
        return self.workdir / "ordway.duckdb"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """One sandbox for the module and one undisturbed nightly run into a fresh warehouse."""
    workdir = tmp_path_factory.mktemp("undisturbed")
    with sandbox() as server:
        start_nightly(job_env(server, workdir)).succeed()
        yield Reference(server, workdir)


def assert_equals_reference(path: Path, reference: Reference) -> None:
    assert table_rows(path) == table_rows(reference.duckdb_path)
    assert cursors(path) == cursors(reference.duckdb_path)
    for schema in ("intermediate", "marts"):
        assert differing_rows(path, reference.duckdb_path, schema) == {}, schema


def test_sigkill_during_the_load_step_then_a_plain_rerun_equals_an_undisturbed_run(
    reference: Reference, tmp_path: Path
) -> None:
    env = job_env(reference.sandbox, tmp_path)
    pipelines_dir = Path(env["DLT_PIPELINES_DIR"])

    def loading() -> bool:
        """A normalized package with at least one job already loaded into the warehouse."""
        return any(
            any((package / "completed_jobs").iterdir())
            for package in load_packages(pipelines_dir, "normalized")
            if (package / "completed_jobs").is_dir()
        )

    victim = start_nightly(env, "killed")
    wait_until(victim, loading, "dlt started loading")
    victim.kill()
    assert victim.process.returncode == -signal.SIGKILL
    # killed mid-load: the package is still pending with jobs in flight, dbt never ran
    pending = load_packages(pipelines_dir, "normalized")
    assert pending and any(any((p / "started_jobs").iterdir()) for p in pending)
    assert not load_packages(pipelines_dir, "loaded")
    assert schema_tables(tmp_path / "ordway.duckdb", "marts") == []

    rerun = start_nightly(env, "rerun").succeed()
    assert "succeeded" in rerun.stdout
    assert not load_packages(pipelines_dir, "normalized")
    assert_equals_reference(tmp_path / "ordway.duckdb", reference)


def test_sigkill_during_dbt_build_then_a_plain_rerun_equals_an_undisturbed_run(
    reference: Reference, tmp_path: Path
) -> None:
    # the undisturbed warehouse and dlt state, with every dbt relation dropped: the killed run
    # has the marts to build from nothing
    shutil.copy(reference.duckdb_path, tmp_path / "ordway.duckdb")
    shutil.copytree(reference.workdir / "dlt", tmp_path / "dlt")
    with duckdb.connect(str(tmp_path / "ordway.duckdb")) as con:
        for schema in ("staging", "intermediate", "marts"):
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    marts = schema_tables(reference.duckdb_path, "marts")
    env = job_env(reference.sandbox, tmp_path)

    victim = start_nightly(env, "killed")
    wait_until(victim, lambda: "OK created sql table model" in victim.stdout, "dbt built a table")
    victim.kill()
    assert victim.process.returncode == -signal.SIGKILL
    assert "Finished running" not in victim.stdout
    # the kill landed mid-build: some marts are not there yet
    assert len(schema_tables(tmp_path / "ordway.duckdb", "marts")) < len(marts)

    start_nightly(env, "rerun").succeed()
    assert schema_tables(tmp_path / "ordway.duckdb", "marts") == marts
    assert_equals_reference(tmp_path / "ordway.duckdb", reference)
