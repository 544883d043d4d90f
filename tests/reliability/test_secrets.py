"""Secrets never leave the environment: a failing nightly run (credentials rejected with 401
mid-run) and a succeeding one, in one ``scripts.run_nightly`` process with recognisable fake
secrets (the sandbox accepts the fake Ordway credentials). Afterwards no secret string, nor its
URL-encoded or base64 form, appears in the process output, the Dagster event log of either run,
any file under the run's directories (Dagster instance, dlt working directory with its trace and
state, dbt target and logs), the dlt state stored in the warehouse, or any value of any table or
view of the warehouse."""

from __future__ import annotations

import base64
import gzip
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import pytest
from dagster import DagsterInstance, serialize_value
from dlt.common.versioned_state import decompress_state

from tests.reliability.process_support import PARTITION, RUN_TIMEOUT, job_env, sandbox
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.slow

ORDWAY_SECRETS = {
    "ORDWAY_API_KEY": "apikey-S3CR3T-7f3a9c1e",
    "ORDWAY_COMPANY": "Hushhush Holdings Q8Z",
    "ORDWAY_USER_EMAIL": "robot.q8z@hushhush.example",
    "ORDWAY_USER_TOKEN": "usertoken-S3CR3T-4b8e2d6a",
}
OTHER_SECRETS = {
    # make run posts the failed run's alert here: nothing listens, so delivery fails, and
    # neither the failure message nor slack_sdk's logging may show the URL
    "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/TQ8Z/BQ8Z/webhooksecret5e1d",
    "SLACK_BOT_TOKEN": "xoxb-S3CR3T-9d2c-bottoken",
    "SNOWFLAKE_PASSWORD": "sfpassword-S3CR3T-3c9d",
    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "sfpassphrase-S3CR3T-8a1b",
}
SECRETS = {**ORDWAY_SECRETS, **OTHER_SECRETS}

#: The failing run, then the succeeding one; the sandbox expires the credentials after 5
#: requests for the first run only.
SCRIPT = """
import sys, httpx
from scripts.run_nightly import main
admin, partition = sys.argv[1], sys.argv[2]
httpx.post(admin + "/faults", json={"auth_fail_after": 5}).raise_for_status()
first = main(["--partition", partition])
httpx.post(admin + "/faults", json={}).raise_for_status()
second = main(["--partition", partition])
print("exit codes", first, second)
"""


def forms(value: str) -> set[bytes]:
    """The secret and the encodings it could be written in."""
    encoded = {
        value,
        quote(value, safe=""),
        quote_plus(value),
        base64.b64encode(value.encode()).decode(),
        base64.urlsafe_b64encode(value.encode()).decode(),
    }
    return {form.encode() for form in encoded}


NEEDLES = {form: name for name, value in SECRETS.items() for form in forms(value)}


def leaks(data: bytes) -> set[str]:
    return {name for needle, name in NEEDLES.items() if needle in data}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    workdir = tmp_path_factory.mktemp("secrets")
    with sandbox(env=ORDWAY_SECRETS) as server:
        env = job_env(server, workdir, **OTHER_SECRETS)
        assert all(env[name] == value for name, value in SECRETS.items())
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", SCRIPT, server.admin_url, PARTITION],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            timeout=2 * RUN_TIMEOUT,
        )
        statuses = server.stats()["statuses"]
    output = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    assert done.returncode == 0, output[-4000:]
    assert "exit codes 1 0" in output, output[-4000:]
    assert "401" in output and "resource=" in output  # the failure was the expired credentials
    assert "warning: alert not delivered: Slack webhook unreachable" in output  # it tried
    assert statuses.get("401", 0) >= 1 and statuses.get("200", 0) > 5
    (workdir / "output.bin").write_bytes(done.stdout + done.stderr)
    yield workdir, output


def test_process_output_names_the_failure_but_no_secret(runs) -> None:
    workdir, _ = runs
    assert leaks((workdir / "output.bin").read_bytes()) == set()


def test_dagster_event_logs_of_both_runs_hold_no_secret(runs) -> None:
    workdir, _ = runs
    with DagsterInstance.from_config(str(workdir / "dagster_home")) as instance:
        all_runs = instance.get_runs()
        assert sorted(r.status.value for r in all_runs) == ["FAILURE", "SUCCESS"]
        for run in all_runs:
            assert leaks(serialize_value(run).encode()) == set(), run.run_id
            events = instance.all_logs(run.run_id)
            assert len(events) > 10
            for event in events:
                assert leaks(serialize_value(event).encode()) == set(), event.message


def test_no_file_written_by_the_runs_holds_a_secret(runs) -> None:
    """Every file under the work directory: Dagster's storage (run and event databases, compute
    logs), the dlt working directory (trace pickle, state, load packages), dbt's target and logs
    and the DuckDB file; gzip files are read decompressed."""
    workdir, _ = runs
    files = [p for p in workdir.rglob("*") if p.is_file() and p.name != "output.bin"]
    names = {p.name for p in files}
    assert {"ordway.duckdb", "trace.pickle", "dbt.log", "run_results.json"} <= names
    found = {}
    for path in files:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if hit := leaks(data):
            found[str(path.relative_to(workdir))] = hit
    assert found == {}


def test_no_value_in_the_warehouse_holds_a_secret(runs) -> None:
    """Every column of every table and view of every schema, read as text, and every version of
    the dlt state stored in the warehouse (compressed, so decoded here)."""
    workdir, _ = runs
    found = set()
    with duckdb.connect(str(workdir / "ordway.duckdb"), read_only=True) as con:
        relations = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()"
        ).fetchall()
        assert len(relations) > 50
        for schema, table in relations:
            for row in con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall():
                if hit := leaks(repr(row).encode()):
                    found.add((schema, table, *sorted(hit)))
        states = con.execute("SELECT state FROM ordway_raw._dlt_pipeline_state").fetchall()
    assert states
    for (state,) in states:
        decoded = repr(decompress_state(state)).encode()
        found |= {("_dlt_pipeline_state", name) for name in leaks(decoded)}
    assert found == set()
