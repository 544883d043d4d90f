"""Helpers for the dbt tests: run `dbt build` as a subprocess against a temporary DuckDB file.

Each run gets its own target and log directories, so tests can run in parallel (pytest-xdist)
without sharing dbt's partial-parse state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


@dataclass
class DbtRun:
    """The outcome of one dbt invocation."""

    returncode: int
    output: str
    results: list[dict[str, Any]]

    def failures(self) -> list[str]:
        """`unique_id: status` of every node that did not pass (warnings are fine)."""
        return [
            f"{result['unique_id']}: {result['status']}"
            for result in self.results
            if result["status"] not in ("success", "pass", "warn")
        ]

    def statuses(self, prefix: str) -> dict[str, str]:
        """Status per node whose unique_id starts with `prefix` (e.g. `test.`, `unit_test.`)."""
        return {
            r["unique_id"]: r["status"] for r in self.results if r["unique_id"].startswith(prefix)
        }


def run_dbt(command: str, duckdb_path: Path, workdir: Path, as_of: str, *args: str) -> DbtRun:
    """`dbt <command>` on the project with DUCKDB_PATH=duckdb_path and var as_of_date."""
    target = workdir / "dbt_target"
    env = {
        **os.environ,
        "DUCKDB_PATH": str(duckdb_path),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        [
            str(DBT),
            command,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(workdir / "dbt_logs"),
            "--vars",
            json.dumps({"as_of_date": as_of}),
            *args,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, results)


def query(duckdb_path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of a read-only query against the warehouse file."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()
