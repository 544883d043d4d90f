"""The Dagster UI of a healthy warehouse, seen in Debian's headless chromium.

Three nightly runs through ``make run``'s entry point (``python -m scripts.run_nightly``) over a
sandbox tenant advanced a day between runs, then ``dagster dev`` (webserver and daemon, on an
ephemeral port and a temporary DAGSTER_HOME with the repository's ``dagster.yaml``), a fourth
nightly launched through the GraphQL API and run by the daemon's queue, and the asset page of
``marts/fct_arr_movements`` opened in chromium with its metadata plots shown. The page must show
the plotted ARR (one numeric point per run) and nothing "missing"; every monthly partition of
the incremental collections is materialized. The screenshot is saved under
``test-output/dagster-ui/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ordway_sandbox.process import SandboxProcess
from pipelines.ordway.contract import INCREMENTAL_COLLECTIONS
from tests.support.browser import CHROMIUM, TEST_OUTPUT, DagsterGraphQL, chromium
from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

OUTPUT = TEST_OUTPUT / "dagster-ui"
ARR_KEY = ["marts", "fct_arr_movements"]
RUN_TIMEOUT = 900
CLEARED = ("ORDWAY_", "SLACK_", "AS_OF_DATE", "REPORTING_CURRENCY", "DAGSTER_HOME", "WAREHOUSE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def month_key(day: date) -> str:
    return day.replace(day=1).isoformat()


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    assert CHROMIUM.exists(), "chromium is missing: `make chromium` (or apt-get install chromium)"
    workdir = tmp_path_factory.mktemp("ui")
    home = workdir / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (REPO_ROOT / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    today = datetime.now(UTC).date()
    first = today - timedelta(days=4)
    args = ["--customers", "20", "--seed", "5", "--as-of", first.isoformat()]
    with SandboxProcess(args) as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
        env.update(
            {
                **sandbox.env,
                "ORDWAY_BASE_URL": sandbox.base_url,
                "ORDWAY_MAX_RPS": "0",
                "ORDWAY_BACKFILL_START": month_key(today - timedelta(days=62)),
                "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
                "DLT_PIPELINES_DIR": str(workdir / "dlt"),
                "DAGSTER_HOME": str(home),
                "PYTHONPATH": str(REPO_ROOT),
                "DBT_PROFILES_DIR": str(REPO_ROOT / "dbt_project"),
            }
        )
        for day in range(3):
            env["AS_OF_DATE"] = (first + timedelta(days=day)).isoformat()
            done = subprocess.run(
                [sys.executable, "-W", "ignore", "-m", "scripts.run_nightly"],
                cwd=REPO_ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
            )
            assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
            sandbox.advance(1)
        env["AS_OF_DATE"] = (first + timedelta(days=3)).isoformat()
        port = free_port()
        server = subprocess.Popen(
            [
                *(str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml"),
                *("-h", "127.0.0.1", "-p", str(port)),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=(workdir / "dagster-dev.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            graphql = DagsterGraphQL(f"http://127.0.0.1:{port}/graphql")
            wait_until_loaded(graphql, server, workdir)
            run_id = launch_nightly(graphql, month_key(today))
            status = wait_for_run(graphql, run_id)
            assert status == "SUCCESS", (workdir / "dagster-dev.log").read_text()[-4000:]
            graphql("mutation { setNuxSeen }")  # as "Skip" on Dagster's community dialog
            yield {
                "sandbox": sandbox,
                "month": month_key(today),
                "graphql": graphql,
                "url": f"http://127.0.0.1:{port}",
                "daemon_run": run_id,
                "duckdb": workdir / "ordway.duckdb",
            }
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def wait_until_loaded(graphql: DagsterGraphQL, server: subprocess.Popen, workdir: Path) -> None:
    query = (
        "{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name "
        "location { name } } } } }"
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert server.poll() is None, (workdir / "dagster-dev.log").read_text()[-4000:]
        try:
            nodes = graphql(query)["repositoriesOrError"].get("nodes") or []
            if any(n["location"]["name"] == "ordway_revenue" for n in nodes):
                return
        except Exception:
            pass
        time.sleep(2)
    raise TimeoutError("dagster dev did not load the ordway_revenue location in 300 s")


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""


def launch_nightly(graphql: DagsterGraphQL, month: str) -> str:
    """Launches ordway_nightly as the UI's launchpad does; the daemon dequeues it."""
    params = {
        "selector": {
            "repositoryLocationName": "ordway_revenue",
            "repositoryName": "__repository__",
            "jobName": "ordway_nightly",
        },
        "executionMetadata": {
            "tags": [
                {"key": "dagster/asset_partition_range_start", "value": month},
                {"key": "dagster/asset_partition_range_end", "value": month},
            ]
        },
    }
    result = graphql(LAUNCH, params=params)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def wait_for_run(graphql: DagsterGraphQL, run_id: str) -> str:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        status = graphql(query, id=run_id)["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(3)
    raise TimeoutError(f"run {run_id} did not finish in {RUN_TIMEOUT} s")


def run_messages(graphql: DagsterGraphQL, run_id: str) -> list[str]:
    query = """
    query($id: ID!, $cursor: String) {
      logsForRun(runId: $id, afterCursor: $cursor, limit: 1000) {
        ... on EventConnection { events { __typename ... on MessageEvent { message } }
                                 cursor hasMore }
      }
    }"""
    messages: list[str] = []
    cursor = None
    while True:
        page = graphql(query, id=run_id, cursor=cursor)["logsForRun"]
        messages += [e.get("message") or "" for e in page["events"]]
        if not page["hasMore"]:
            return messages
        cursor = page["cursor"]


def test_a_daemon_launched_run_has_the_sources_progress_in_its_log(ui):
    messages = run_messages(ui["graphql"], ui["daemon_run"])
    done = [m for m in messages if m.startswith("pipelines.ordway.progress: listing done: ")]
    # every collection's listing, logged from dlt's worker threads in the run worker process
    assert {m.split(": ")[2] for m in done} >= set(INCREMENTAL_COLLECTIONS), messages[-50:]
    assert any("extraction summary" in m for m in messages)


ARR_POINTS = """
query($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    ... on Asset {
      assetMaterializations(limit: 20) {
        runId
        metadataEntries { label __typename ... on FloatMetadataEntry { floatValue } }
      }
    }
  }
}
"""

PARTITIONS = """
query($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    partitionStats { numMaterialized numPartitions numFailed numMaterializing }
  }
}
"""


def test_every_run_plotted_one_numeric_arr_point(ui):
    data = ui["graphql"](ARR_POINTS, key={"path": ARR_KEY})
    materializations = data["assetOrError"]["assetMaterializations"]
    points = [
        entry
        for m in materializations
        for entry in m["metadataEntries"]
        if entry["label"] == "closing_arr_USD"
    ]
    assert len(materializations) == 4
    assert [p["__typename"] for p in points] == ["FloatMetadataEntry"] * 4
    with duckdb.connect(str(ui["duckdb"]), read_only=True) as con:
        (latest,) = con.execute(
            "select closing_arr from marts.fct_arr_movements order by month desc limit 1"
        ).fetchone()
    assert points[0]["floatValue"] == float(latest) > 0  # newest first


def test_every_monthly_partition_of_the_incremental_collections_is_materialized(ui):
    keys = [{"path": ["ordway_raw", name]} for name in INCREMENTAL_COLLECTIONS]
    nodes = ui["graphql"](PARTITIONS, keys=keys)["assetNodes"]
    assert len(nodes) == len(INCREMENTAL_COLLECTIONS)
    for node in nodes:
        stats = node["partitionStats"]
        assert stats["numPartitions"] >= 3, node
        assert stats["numMaterialized"] == stats["numPartitions"], node
        assert stats["numFailed"] == 0, node
    customers = ui["graphql"](PARTITIONS, keys=[{"path": ["ordway_raw", "customers"]}])
    assert customers["assetNodes"][0]["partitionStats"] is None  # unpartitioned


CLICK_BUTTON = (
    "(() => {{ const b = [...document.querySelectorAll('button')]"
    ".find(x => x.innerText.trim() === '{label}'); if (b) {{ b.click(); return true; }}"
    " return false; }})()"
)
#: The plot card of closing_arr_USD: the smallest ancestor of a canvas that names the key.
ARR_PLOT = """(() => {
  for (const canvas of document.querySelectorAll('canvas')) {
    for (let node = canvas.parentElement; node; node = node.parentElement) {
      const text = node.innerText || '';
      if (text.includes('closing_arr_USD')) {
        if (text.length > 400) break;
        node.scrollIntoView({block: 'center'});
        return true;
      }
    }
  }
  return false;
})()"""


def test_the_asset_page_shows_the_arr_plot_and_nothing_missing(ui, tmp_path):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / "fct_arr_movements.png"
    with chromium(tmp_path / "profile", 1440, 1100, bypass_csp=True) as context:
        page = context.new_page()
        page.goto(f"{ui['url']}/assets/{'/'.join(ARR_KEY)}")
        page.wait_for_function(
            "document.body.innerText.includes('closing_arr_USD')", timeout=120_000
        )
        # the metadata section's Table / Plots toggle, then the ARR plot in view
        page.wait_for_function(CLICK_BUTTON.format(label="Plots"), timeout=120_000)
        page.wait_for_function(ARR_PLOT, timeout=60_000)
        page.wait_for_timeout(2000)  # let the charts finish their first draw (and any dialog)
        page.screenshot(path=str(shot))
        text = page.evaluate("document.body.innerText")
        dialog = page.evaluate("!!document.querySelector('[role=dialog]')")
    assert not dialog
    assert "closing_arr_USD" in text
    assert "missing" not in text.lower(), text[:3000]
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


# ------------------------------------------------------------------------------- backfills
# These run last: the failing backfill leaves the current month failed.

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""
BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
}
"""
RUNS = """
query($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""


def job_backfill(ui: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """A backfill of the current month launched from ordway_nightly's page (its partition set),
    as the UI does; waits for the backfill daemon to finish it."""
    graphql = ui["graphql"]
    params = {
        "selector": {
            "partitionSetName": "ordway_nightly_partition_set",
            "repositorySelector": {
                "repositoryLocationName": "ordway_revenue",
                "repositoryName": "__repository__",
            },
        },
        "partitionNames": [ui["month"]],
        "fromFailure": False,
        "tags": [],
    }
    result = graphql(LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    backfill_id = result["backfillId"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        status = graphql(BACKFILL_STATUS, id=backfill_id)["partitionBackfillOrError"]["status"]
        if status not in ("REQUESTED", "CANCELING", "FAILING"):
            runs = graphql(
                RUNS, filter={"tags": [{"key": "dagster/backfill", "value": backfill_id}]}
            )
            return status, runs["runsOrError"]["results"]
        time.sleep(3)
    raise TimeoutError(f"backfill {backfill_id} did not finish in {RUN_TIMEOUT} s")


def test_a_backfill_from_the_job_page_carries_the_nightly_tags_and_reports_success(ui):
    status, runs = job_backfill(ui)
    assert status == "COMPLETED_SUCCESS"
    (run,) = runs
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert (run["jobName"], run["status"]) == ("ordway_nightly", "SUCCESS")
    # the same queue limit as the nightly job (dagster.yaml) and a backfill of the month
    assert tags["ordway/warehouse"] == "1" and tags["ordway/mode"] == "incremental"
    messages = run_messages(ui["graphql"], run["runId"])
    assert any(f"mode backfill [{ui['month']}T00:00:00+00:00" in m for m in messages), messages[:40]


def test_a_backfill_whose_run_fails_is_reported_failed(ui):
    ui["sandbox"].set_faults({"auth_fail_after": 0})  # every request: 401
    try:
        status, runs = job_backfill(ui)
    finally:
        ui["sandbox"].set_faults({})
    (run,) = runs
    assert run["status"] == "FAILURE"
    assert status == "COMPLETED_FAILED"
