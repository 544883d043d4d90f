"""Runs the ``ordway_nightly`` job definition (what the schedule and ``make run`` launch) in
process against a sandbox tenant, on a temporary warehouse and Dagster instance, and reads back
what the run left: the working warehouse, the published marts, the requests it made."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from dagster import DagsterInstance, ExecuteInProcessResult

from ordway_sandbox.process import SandboxProcess
from pipelines.publish import published_duckdb_path
from scripts.run_nightly import failure_summary, run_nightly
from tests.support.environment import environment
from tests.support.source import tenant_summary, warehouse_summary


def night_env(sandbox: SandboxProcess, workdir: Path, as_of: str, **extra: str) -> dict[str, str]:
    """The variables a user sets to point the pipeline at this sandbox and a fresh warehouse."""
    workdir.mkdir(parents=True, exist_ok=True)
    return {
        **sandbox.env,
        "ORDWAY_BASE_URL": sandbox.base_url,
        "ORDWAY_MAX_RPS": "0",
        "ORDWAY_MAX_RETRIES": "2",
        "AS_OF_DATE": as_of,
        "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
        "DLT_PIPELINES_DIR": str(workdir / "dlt"),
        **extra,
    }


@dataclass
class Night:
    """One run of the nightly job and what it left behind."""

    result: ExecuteInProcessResult
    env: dict[str, str]
    #: the tenant the sandbox served during the run
    tenant: dict[str, Any]
    #: sandbox requests per collection made by the run
    requests: dict[str, int]

    @property
    def working(self) -> Path:
        return Path(self.env["DUCKDB_PATH"])

    @property
    def published(self) -> Path:
        return published_duckdb_path(self.working, self.env)

    def failure(self) -> str:
        return "" if self.result.success else failure_summary(self.result)

    def marts(self, table: str, where: str = "true") -> list[dict[str, Any]]:
        """Rows of a published mart as dicts."""
        with duckdb.connect(str(self.published), read_only=True) as con:
            cursor = con.execute(f"SELECT * FROM marts.{table} WHERE {where}")
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def raw_summary(self) -> dict[str, tuple[int, dict[str, Decimal]]]:
        """Rows and money sums per raw table (tables with rows only)."""
        return warehouse_summary(self.working)

    def served_summary(self, collections: set[str] | None = None) -> dict[str, Any]:
        """Rows and money sums per raw table as the served tenant implies them, restricted to
        ``collections`` (root names; their child tables included)."""
        summary = tenant_summary(self.tenant)
        if collections is None:
            return summary
        return {t: v for t, v in summary.items() if t.split("__", 1)[0] in collections}


def run_night(
    instance: DagsterInstance, sandbox: SandboxProcess, env: dict[str, str], partition: str
) -> Night:
    """Runs the nightly job once with ``env`` and returns what it did (never raises on a failed
    run: the caller asserts the documented outcome)."""
    sandbox.reset_stats()
    tenant = sandbox.get_tenant()
    with environment(env):
        result = run_nightly(instance, partition)
    requests = {k: v for k, v in sandbox.stats()["requests"].items() if v}
    return Night(result=result, env=env, tenant=tenant, requests=requests)
