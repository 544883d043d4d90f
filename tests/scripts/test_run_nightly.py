"""`make run` (`scripts/run_nightly.py`): it reads `.env` the way `dagster dev` does, and a run
against an Ordway URL nobody listens on fails naming the host and what to check."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.run_nightly import load_env_file, main
from tests.support.environment import ORCHESTRATION_VARIABLES
from tests.support.paths import REPO_ROOT


def make_dry_run(target: str) -> str:
    """The last command `make -n <target>` prints, as a top-level make would (without the
    flags of a make that runs this test, e.g. `make test`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    run = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.splitlines()[-1]


def test_make_run_passes_the_project_env_file_and_make_ui_runs_from_the_project_root():
    """`make -n` prints the commands without running them (nothing is installed)."""
    assert make_dry_run("run").endswith("python -m scripts.run_nightly --env-file .env")
    # dagster dev loads .env from its working directory: make runs it from the project root
    assert make_dry_run("ui").endswith("dagster dev -w workspace.yaml")


def test_the_env_file_wins_over_the_environment_and_a_missing_file_sets_nothing(
    tmp_path, monkeypatch
):
    env_file = tmp_path / ".env"
    env_file.write_text(
        '# comment\nORDWAY_COMPANY="Demo Company"\nORDWAY_MAX_RPS=0\n# FRESHNESS_HOURS=1\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ORDWAY_MAX_RPS", "5")
    monkeypatch.delenv("ORDWAY_COMPANY", raising=False)
    monkeypatch.delenv("FRESHNESS_HOURS", raising=False)
    assert load_env_file(env_file) == ["ORDWAY_COMPANY", "ORDWAY_MAX_RPS"]
    assert os.environ["ORDWAY_COMPANY"] == "Demo Company"
    assert os.environ["ORDWAY_MAX_RPS"] == "0"
    assert "FRESHNESS_HOURS" not in os.environ
    assert load_env_file(tmp_path / "absent.env") == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DAGSTER_WEBSERVER_URL", "localhost:3000", "DAGSTER_WEBSERVER_URL='localhost:3000' must"),
        ("SLACK_BOT_TOKEN", "xoxb-not-a-real-token", "SLACK_CHANNEL is not"),
    ],
)
def test_a_malformed_alert_setting_fails_before_the_run_naming_it(
    monkeypatch, capsys, tmp_path, name, value, message
):
    for other in ORCHESTRATION_VARIABLES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "never_created"))
    monkeypatch.setenv(name, value)
    assert main(["--partition", "2026-03-01"]) == 1
    err = capsys.readouterr().err
    assert message in err and "xoxb-not-a-real-token" not in err
    assert not (tmp_path / "never_created").exists()  # no run was started


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_make_run_reads_the_env_file_and_a_refused_connection_names_the_host(tmp_path: Path):
    port = closed_port()
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ORDWAY_API_KEY=k\n"
        'ORDWAY_COMPANY="Demo Company"\n'
        "ORDWAY_USER_EMAIL=ops@example.com\n"
        "ORDWAY_USER_TOKEN=t\n"
        f"ORDWAY_BASE_URL=http://127.0.0.1:{port}/api/v1\n"
        "ORDWAY_MAX_RETRIES=0\n",
        encoding="utf-8",
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORDWAY_", "DAGSTER_")) and k not in ORCHESTRATION_VARIABLES
    }
    env.update(
        {
            # the file wins over the environment, as with dagster dev
            "ORDWAY_BASE_URL": "http://127.0.0.1:1/api/v1",
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            "DUCKDB_PATH": str(tmp_path / "ordway.duckdb"),
            "DLT_PIPELINES_DIR": str(tmp_path / "dlt"),
            "PYTHONPATH": str(REPO_ROOT),
        }
    )
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "scripts.run_nightly",
            "--partition",
            "2026-03-01",
            "--env-file",
            str(env_file),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    assert f"Settings: environment + 6 variables from {env_file}" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    expected = (
        r"error: step ordway_raw_(?:incremental|full_refresh) failed: Failure: "
        r"Extraction failed at dlt step extract: "
        r"Ordway API error \(resource=(\w+) path=/api/v1/\1 page=1\): cannot connect to "
        rf"127\.0\.0\.1:{port} \(ORDWAY_BASE_URL\): connection refused; is the server running "
        r"and ORDWAY_BASE_URL right\?"
    )
    assert re.fullmatch(expected, errors[0]), errors
    assert "generator already executing" not in "\n".join(errors)
    assert errors[-1].startswith("error: run ") and "http://127.0.0.1:3000/runs/" in errors[-1]
