"""A clean process environment for tests that run the pipeline in process: no Ordway
credentials or orchestration settings from the developer's shell, and a temporary warehouse."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

#: Settings a developer's shell may carry that would change what a test run does.
ORCHESTRATION_VARIABLES = (
    "SLACK_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL",
    "DAGSTER_WEBSERVER_URL",
    "TIEOUT_TOLERANCE",
    "AS_OF_DATE",
    "REPORTING_CURRENCY",
    "FRESHNESS_HOURS",
    "ROW_COUNT_DROP_PCT",
    "OVERDUE_ALERT_DAYS",
    "WAREHOUSE_LOCK_TIMEOUT_SECONDS",
    "WAREHOUSE",
    "DUCKDB_PUBLISHED_PATH",
)


def isolate_environment(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> dict[str, str]:
    """No ORDWAY_* variable, a temporary DuckDB file and dlt directory (and so lock file)."""
    for name in list(os.environ):
        if name.startswith("ORDWAY_") or name in ORCHESTRATION_VARIABLES:
            monkeypatch.delenv(name, raising=False)
    env = {
        "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
        "DLT_PIPELINES_DIR": str(workdir / "dlt"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """The isolated environment plus ``env`` (which must name DUCKDB_PATH) for one block."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        isolate_environment(monkeypatch, Path(env["DUCKDB_PATH"]).parent)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield
    finally:
        monkeypatch.undo()
