"""Helpers for the reliability tests that run the nightly Dagster job as a real process.

A run is ``python -m scripts.run_nightly`` (what ``make run`` does: the ``ordway_nightly`` job
definition the schedule launches) in its own process group, with its own DAGSTER_HOME, DuckDB
file, dlt directory and dbt target directory under one work directory, and its output in files
(so a killed run leaves them readable). Warehouses are compared table by table: raw tables as
row sets keyed by record id (``tests.support.source.table_rows``), marts with
``EXCEPT ALL`` in both directions between two attached DuckDB files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ordway_sandbox.process import SandboxProcess
from tests.support.environment import ORCHESTRATION_VARIABLES
from tests.support.paths import REPO_ROOT

CUSTOMERS = 20
SEED = 23
AS_OF = "2026-05-31"
PARTITION = "2026-05-01"  # the monthly partition of the nightly runs (May 2026)
RUN_TIMEOUT = 900.0  # generous: two runs in a row on a busy 2-core machine
PARTIAL_PARSE = REPO_ROOT / "dbt_project" / "target" / "partial_parse.msgpack"


def sandbox(*args: str, env: Mapping[str, str] | None = None) -> SandboxProcess:
    """A sandbox serving a small generated tenant (20 customers)."""
    tenant = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF]
    return SandboxProcess([*tenant, *args], env=env)


def job_env(sandbox: SandboxProcess, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a run: this one without any ORDWAY_* or orchestration variable, the
    sandbox's credentials, and every writable path under ``workdir``.

    dbt gets its own target directory there, seeded with the project's partial-parse file
    (dagster-dbt copies it into each invocation's directory), so a run does not parse again.
    """
    target = workdir / "dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    if PARTIAL_PARSE.exists() and not (target / PARTIAL_PARSE.name).exists():
        shutil.copy(PARTIAL_PARSE, target / PARTIAL_PARSE.name)
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORDWAY_", "DAGSTER_", "DBT_", "SNOWFLAKE_"))
        and k not in ORCHESTRATION_VARIABLES
    }
    return {
        **base,
        **sandbox.env,
        "ORDWAY_BASE_URL": sandbox.base_url,
        "ORDWAY_MAX_RPS": "0",
        "AS_OF_DATE": AS_OF,
        "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
        "DLT_PIPELINES_DIR": str(workdir / "dlt"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        "DBT_TARGET_PATH": str(target),
        "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"),
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@dataclass
class JobRun:
    """One ``scripts.run_nightly`` process; stdout and stderr go to files next to each other."""

    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL the whole process group (the run and its dbt child)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def succeed(self, timeout: float = RUN_TIMEOUT) -> JobRun:
        code = self.wait(timeout)
        assert code == 0, f"run failed ({code}):\n{self.stdout}\n{self.stderr[-4000:]}"
        return self


def start_nightly(env: Mapping[str, str], name: str = "run") -> JobRun:
    """Starts the nightly job for PARTITION in a new process group (a new session)."""
    logs = Path(env["DAGSTER_HOME"]).parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / f"{name}.out", logs / f"{name}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-W", "ignore", "-m", "scripts.run_nightly", "--partition", PARTITION],
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    return JobRun(process, stdout_path, stderr_path)


def wait_until(run: JobRun, condition: Callable[[], bool], what: str, timeout: float = 240) -> None:
    """Polls ``condition`` every 20 ms while the run is alive; fails naming ``what`` if the run
    ended first or the time ran out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if run.process.poll() is not None:
            raise AssertionError(
                f"the run ended ({run.process.returncode}) before {what}:\n{run.stderr[-3000:]}"
            )
        if time.monotonic() > deadline:
            run.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -------------------------------------------------------------------------- comparisons


def schema_tables(path: Path, schema: str) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND table_type = 'BASE TABLE' ORDER BY 1",
            [schema],
        ).fetchall()
    return [r[0] for r in rows]


def differing_rows(left: Path, right: Path, schema: str) -> dict[str, tuple[int, int]]:
    """Per table of ``schema``: rows only in ``left`` and rows only in ``right`` (multisets,
    ``EXCEPT ALL`` both ways); only tables that differ, or exist on one side only."""
    tables = schema_tables(left, schema)
    assert tables, f"no tables in {schema} of {left}"
    missing = set(schema_tables(right, schema)) ^ set(tables)
    result: dict[str, tuple[int, int]] = {t: (-1, -1) for t in missing}
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        for table in tables:
            if table in missing:
                continue
            a, b = f'l.{schema}."{table}"', f'r.{schema}."{table}"'
            only_left = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
            ).fetchone()[0]
            only_right = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a})"
            ).fetchone()[0]
            if only_left or only_right:
                result[table] = (only_left, only_right)
    return result


def load_packages(pipelines_dir: Path, stage: str) -> list[Path]:
    """dlt's load packages of pipeline ``ordway`` in ``stage`` (``normalized`` = being loaded,
    ``loaded`` = done)."""
    root = pipelines_dir / "ordway" / "load" / stage
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
