"""A published marts file built by a real nightly run (sandbox over loopback, the
``ordway_nightly`` Dagster job, dbt build, publication) on a small multi-currency tenant, shared
by the dashboard and MCP server tests of one session."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import instance_for_test

from ordway_sandbox.process import SandboxProcess
from tests.support.nightly import night_env, run_night

AS_OF = "2026-04-30"
PARTITION = "2026-04-29"
#: 25 customers in USD, EUR, CAD and GBP, open invoices in several buckets, 12-month cohorts.
TENANT = ["--customers", "25", "--seed", "11", "--as-of", AS_OF]
#: A credential the apps must never print, log or answer (the apps do not need it at all).
PLANTED_SECRET = "planted-secret-9f2c4e"


@dataclass(frozen=True)
class PublishedMarts:
    """The published file of one successful night and the environment that names it."""

    path: Path
    #: What a user's .env would hold to point the apps at it (no Ordway credential but the
    #: planted one, which the apps must never reveal).
    env: dict[str, str]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """An independent read of the published marts (the tests' oracle)."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            cursor = con.execute(sql, params or [])
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="session")
def published_marts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishedMarts]:
    workdir = tmp_path_factory.mktemp("published-night")
    with instance_for_test() as instance, SandboxProcess(TENANT) as sandbox:
        night = run_night(instance, sandbox, night_env(sandbox, workdir, AS_OF), PARTITION)
    assert night.result.success, night.failure()
    env = {
        "DUCKDB_PATH": str(night.working),
        "DUCKDB_PUBLISHED_PATH": str(night.published),
        "REPORTING_CURRENCY": "USD",
        "ORDWAY_API_KEY": PLANTED_SECRET,
    }
    yield PublishedMarts(path=night.published, env=env)
