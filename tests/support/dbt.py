"""Running dbt in tests: `dbt build` as a subprocess against a temporary DuckDB file (the dbt
suite, the reliability suite and the Snowflake emulator tests share these).

Each run gets its own target and log directories, so tests can run in parallel (pytest-xdist)
without sharing dbt's partial-parse state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from scripts.snowflake_smoke import DbtRun as _DbtRun
from tests.support.paths import REPO_ROOT

PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


class DbtRun(_DbtRun):
    """The outcome of one dbt invocation (``make snowflake-smoke``'s), with the status per node."""

    def statuses(self, prefix: str) -> dict[str, str]:
        """Status per node whose unique_id starts with `prefix` (e.g. `test.`, `unit_test.`)."""
        return {
            r["unique_id"]: r["status"] for r in self.results if r["unique_id"].startswith(prefix)
        }


def invoke_dbt(
    command: str,
    workdir: Path,
    env: Mapping[str, str],
    dbt_vars: Mapping[str, Any],
    *args: str,
    profiles_dir: Path = PROJECT_DIR,
    timeout: float = 900,
) -> DbtRun:
    """`dbt <command>` on the project with its own target and log directories under `workdir`
    (shared by the DuckDB tests here and the Snowflake emulator tests)."""
    target = workdir / "target"
    completed = subprocess.run(
        [
            str(DBT),
            command,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(profiles_dir),
            "--target-path",
            str(target),
            "--log-path",
            str(workdir / "logs"),
            "--vars",
            json.dumps(dict(dbt_vars)),
            *args,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, results)


def run_dbt(
    command: str,
    duckdb_path: Path,
    workdir: Path,
    as_of: str,
    *args: str,
    dbt_vars: Mapping[str, Any] | None = None,
) -> DbtRun:
    """`dbt <command>` on the DuckDB target with DUCKDB_PATH=duckdb_path, var as_of_date and
    any further `dbt_vars`."""
    env = {
        "DUCKDB_PATH": str(duckdb_path),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET": "duckdb",
    }
    return invoke_dbt(
        command, workdir / "dbt", env, {"as_of_date": as_of, **(dbt_vars or {})}, *args
    )


def query(duckdb_path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of a read-only query against the warehouse file."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


IDENTITY_TESTS = frozenset(
    {
        "assert_deferred_revenue_rolls_forward",
        "assert_deferred_balance_equals_cumulative_billings_minus_revenue",
        "assert_arr_bridge_balances",
        "assert_mrr_movements_follow_their_definition",
        "assert_revenue_schedule_lines_sum_to_total_revenue",
        "assert_revenue_monthly_matches_deferred_recognized",
    }
)


def assert_build_passed(run: DbtRun) -> None:
    """`dbt build` exited 0 with every model, data test, unit test and identity test passing."""
    assert run.returncode == 0, run.output[-4000:]
    assert run.failures() == []
    tests = run.statuses("test.")
    passed = {name.split(".")[2] for name, status in tests.items() if status == "pass"}
    assert passed >= IDENTITY_TESTS, IDENTITY_TESTS - passed
    assert set(run.statuses("unit_test.").values()) == {"pass"}


@dataclass
class BuiltTenant:
    """A DuckDB warehouse dbt built from a tenant loaded as raw tables."""

    duckdb_path: Path
    tenant: dict[str, Any]
    run: DbtRun

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return query(self.duckdb_path, sql)
