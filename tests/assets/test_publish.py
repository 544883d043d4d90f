"""Write, audit, publish, through real runs of the ``ordway_nightly`` job definition against the
sandbox (20 customers) on a temporary DuckDB warehouse and Dagster instance.

One story, in order (each test then checks one part of it):

1. a first night publishes the marts;
2. the tenant advances a day and a second night runs while one process holds a read-only
   connection to the published file for the whole run and another keeps reconnecting to it;
3. a job with an extra *blocking* check on a mart that fails (what ``assets/checks.py`` checks
   become when they are made blocking) builds the marts but must not publish them;
4. a night on which the customers endpoint no longer lists two customers that have revenue
   (their invoices, subscriptions and revenue schedules stay: orphans, like the issue's 175
   orphan rows in ``fct_revenue_monthly``) fails ``dbt build`` on its relationships tests and
   must not publish. Two of 20 is a 10 % drop, under the row-count cliff's 20 %, so the dbt
   tests, not the cliff check, are what stops it.

The oracle for "every mart" is the model files under ``dbt_project/models/marts/``; for "the
same rows" ``EXCEPT ALL`` both ways against the working marts of the same run.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import (
    AssetCheckResult,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    asset_check,
    instance_for_test,
)

from assets.definitions import defs as code_location
from assets.jobs import NIGHTLY_JOB_NAME
from assets.publish import PUBLISHED_MARTS_KEY, publish_marts
from ordway_sandbox.process import SandboxProcess
from pipelines.publish import PublishError
from scripts.run_nightly import failure_summary, run_nightly
from tests.support.environment import environment, isolate_environment
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.xdist_group("publish")

CUSTOMERS = 20
SEED = 11
AS_OF = date(2026, 4, 30)
MART_MODELS = sorted(p.stem for p in (REPO_ROOT / "dbt_project/models/marts").rglob("*.sql"))
FINGERPRINT = "SELECT count(*), sum(hash(x)) FROM marts.{table} x"

HOLDER = """
import duckdb, sys
path, tables, fingerprint = sys.argv[1], sys.argv[2].split(","), sys.argv[3]

def marts(con):
    return "|".join(str(con.execute(fingerprint.format(table=t)).fetchone()) for t in tables)

held = duckdb.connect(path, read_only=True)
print(marts(held), flush=True)
sys.stdin.readline()  # the nightly run happens meanwhile
print(marts(held), flush=True)
held.close()
with duckdb.connect(path, read_only=True) as fresh:
    print(marts(fresh), flush=True)
"""

POLLER = """
import duckdb, os, sys, time
path, tables, fingerprint, stop = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4]
while not os.path.exists(stop):
    with duckdb.connect(path, read_only=True) as con:
        print("|".join(str(con.execute(fingerprint.format(table=t)).fetchone()) for t in tables),
              flush=True)
    time.sleep(0.05)
"""


@dataclass
class Story:
    workdir: Path
    published: Path
    first: ExecuteInProcessResult
    second: ExecuteInProcessResult
    blocked: ExecuteInProcessResult
    failed: ExecuteInProcessResult
    #: copies taken right after the second night: its working and published files
    working_after_second: Path
    published_after_second: Path
    held_before: str
    held_after: str
    fresh_after: str
    polled: list[str]
    sha_before_blocked: str
    sha_after_blocked: str
    sha_before_failed: str
    sha_after_failed: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprints(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return "|".join(
            str(con.execute(FINGERPRINT.format(table=t)).fetchone()) for t in MART_MODELS
        )


def python(script: str, *args: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], text=True, stderr=subprocess.PIPE, **popen
    )


ALWAYS_FAILS = AssetKey(["marts", "fct_revenue_monthly"])


@asset_check(asset=ALWAYS_FAILS, name="test_blocking_check_that_fails", blocking=True)
def blocking_check_that_fails() -> AssetCheckResult:
    return AssetCheckResult(passed=False, metadata={"explanation": "fails on purpose"})


def run_with_a_failing_blocking_check(instance: DagsterInstance) -> ExecuteInProcessResult:
    """The nightly job, without the extraction, in a code location with one more check: a
    blocking one on a mart that always fails."""
    defs = Definitions.merge(code_location, Definitions(asset_checks=[blocking_check_that_fails]))
    graph = defs.resolve_asset_graph()
    selection = [k for k in graph.get_all_asset_keys() if k.path[0] != "ordway_raw"]
    return defs.resolve_job_def(NIGHTLY_JOB_NAME).execute_in_process(
        instance=instance,
        partition_key=AS_OF.replace(day=1).isoformat(),
        asset_selection=selection,
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    workdir = tmp_path_factory.mktemp("publish")
    args = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF.isoformat()]
    with SandboxProcess(args) as sandbox, instance_for_test() as instance:
        env = {
            **sandbox.env,
            "ORDWAY_BASE_URL": sandbox.base_url,
            "ORDWAY_MAX_RPS": "0",
            "AS_OF_DATE": AS_OF.isoformat(),
            "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
            "DLT_PIPELINES_DIR": str(workdir / "dlt"),
        }
        published = workdir / "ordway_marts.duckdb"
        with environment(env):
            first = run_nightly(instance, (AS_OF - timedelta(days=1)).isoformat())
        assert first.success, failure_summary(first)

        # 2. a reader holds the published file for the whole second night; another reconnects
        sandbox.advance(1)
        env["AS_OF_DATE"] = (AS_OF + timedelta(days=1)).isoformat()
        stop = workdir / "stop-polling"
        tables = ",".join(MART_MODELS)
        reader_args = (str(published), tables, FINGERPRINT)
        holder = python(HOLDER, *reader_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        with (workdir / "polled.txt").open("w") as polled_file:
            poller = python(POLLER, *reader_args, str(stop), stdout=polled_file)
        try:
            assert holder.stdout is not None and holder.stdin is not None
            held_before = holder.stdout.readline().strip()
            assert held_before, holder.stderr.read() if holder.stderr else ""
            with environment(env):
                second = run_nightly(instance, AS_OF.isoformat())
            time.sleep(0.5)  # a few polls of the new file
            stop.touch()
            holder.stdin.write("go\n")
            holder.stdin.flush()
            held_after = holder.stdout.readline().strip()
            fresh_after = holder.stdout.readline().strip()
            assert holder.wait(timeout=60) == 0, holder.stderr.read() if holder.stderr else ""
            assert poller.wait(timeout=60) == 0, poller.stderr.read() if poller.stderr else ""
        finally:
            for process in (holder, poller):
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)
        polled = (workdir / "polled.txt").read_text().splitlines()
        working_after_second = workdir / "copies" / "working.duckdb"
        working_after_second.parent.mkdir()
        shutil.copy(workdir / "ordway.duckdb", working_after_second)
        published_after_second = workdir / "copies" / "published.duckdb"
        shutil.copy(published, published_after_second)

        # 3. a blocking check on a mart fails
        sha_before_blocked = sha256(published)
        with environment(env):
            blocked = run_with_a_failing_blocking_check(instance)
        sha_after_blocked = sha256(published)

        # 4. two customers with revenue vanish from the customers endpoint
        tenant = sandbox.get_tenant()
        gone = sorted({schedule["customer_id"] for schedule in tenant["revenue_schedules"]})[:2]
        tenant["customers"] = [c for c in tenant["customers"] if c["id"] not in gone]
        sandbox.put_tenant(tenant)
        sha_before_failed = sha256(published)
        with environment(env):
            failed = run_nightly(instance, AS_OF.isoformat())
        sha_after_failed = sha256(published)

        yield Story(
            workdir=workdir,
            published=published,
            first=first,
            second=second,
            blocked=blocked,
            failed=failed,
            working_after_second=working_after_second,
            published_after_second=published_after_second,
            held_before=held_before,
            held_after=held_after,
            fresh_after=fresh_after,
            polled=polled,
            sha_before_blocked=sha_before_blocked,
            sha_after_blocked=sha_after_blocked,
            sha_before_failed=sha_before_failed,
            sha_after_failed=sha_after_failed,
        )


def published_materializations(result: ExecuteInProcessResult) -> list[Any]:
    return [
        event.event_specific_data.materialization
        for event in result.all_events
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION
        and event.event_specific_data.materialization.asset_key == PUBLISHED_MARTS_KEY
    ]


def step_events(result: ExecuteInProcessResult, step: str) -> set[str]:
    return {e.event_type_value for e in result.all_events if e.step_key == step}


@pytest.mark.slow
def test_a_successful_run_publishes_every_mart_with_the_working_rows_and_column_types(
    story: Story,
) -> None:
    assert len(MART_MODELS) >= 14
    working, published = story.working_after_second, story.published_after_second
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{working}' AS w (READ_ONLY)")
        con.execute(f"ATTACH '{published}' AS p (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'p' "
            "ORDER BY 1, 2"
        ).fetchall()
        assert tables == [("marts", model) for model in MART_MODELS]
        rows: dict[str, int] = {}
        for model in MART_MODELS:
            w, p = f"w.marts.{model}", f"p.marts.{model}"
            only_working = con.execute(f"SELECT count(*) FROM (FROM {w} EXCEPT ALL FROM {p})")
            differing = [only_working.fetchone()[0]]
            only_published = con.execute(f"SELECT count(*) FROM (FROM {p} EXCEPT ALL FROM {w})")
            differing.append(only_published.fetchone()[0])
            assert differing == [0, 0], model
            types = (
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                "AND schema_name = 'marts' AND table_name = ? ORDER BY column_index"
            )
            working_types = con.execute(types, ["w", model]).fetchall()
            assert con.execute(types, ["p", model]).fetchall() == working_types, model
            rows[model] = con.execute(f"SELECT count(*) FROM {p}").fetchone()[0]
    assert rows["dim_customers"] > 0 and rows["fct_revenue_monthly"] > 0
    (materialization,) = published_materializations(story.second)
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["rows_by_table_json"] == rows
    assert metadata["published_to"] == str(story.published)
    assert metadata["as_of_date"] == (AS_OF + timedelta(days=1)).isoformat()
    assert metadata["tables_published"] == len(MART_MODELS)


@pytest.mark.slow
def test_published_money_columns_stay_decimal(story: Story) -> None:
    with duckdb.connect(str(story.published_after_second), read_only=True) as con:
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name = 'marts' AND table_name = 'fct_revenue_monthly'"
            ).fetchall()
        )
    assert types["recognized_revenue"].startswith("DECIMAL(38,")


@pytest.mark.slow
def test_a_reader_connected_during_the_whole_run_never_blocks_it_and_never_sees_a_mix(
    story: Story,
) -> None:
    assert story.first.success and story.second.success, failure_summary(story.second)
    old, new = story.held_before, fingerprints(story.published_after_second)
    changed = [
        model
        for model, before, after in zip(MART_MODELS, old.split("|"), new.split("|"), strict=True)
        if before != after
    ]
    assert len(changed) >= 5, changed  # a day later most marts differ, so a mix would show
    assert story.held_after == old  # the held connection: one consistent old snapshot
    assert story.fresh_after == new  # its next connection: the new marts
    assert story.polled, "the poller never read the published file"
    assert set(story.polled) <= {old, new}, "a reconnecting reader saw a mix of two versions"
    assert story.polled[0] == old and story.polled[-1] == new


@pytest.mark.slow
def test_a_failing_blocking_check_on_a_mart_stops_the_publication(story: Story) -> None:
    result = story.blocked
    assert not result.success
    assert "STEP_SUCCESS" in step_events(result, "ordway_dbt_assets")
    assert published_materializations(result) == []
    assert "STEP_START" not in step_events(result, "published__marts")
    assert story.sha_after_blocked == story.sha_before_blocked


@pytest.mark.slow
def test_a_failing_dbt_test_leaves_the_published_file_byte_identical_and_names_the_tests(
    story: Story,
) -> None:
    result = story.failed
    assert not result.success
    summary = failure_summary(result)
    assert "step ordway_dbt_assets failed: DbtBuildFailed" in summary, summary
    assert "the marts were not published" in summary
    assert (
        "test relationships_fct_revenue_monthly_customer_id__customer_id__ref_dim_customers_"
        in (summary)
    )
    assert "failing rows" in summary
    assert published_materializations(result) == []
    assert "STEP_START" not in step_events(result, "published__marts")
    assert story.sha_after_failed == story.sha_before_failed
    assert story.sha_after_failed == sha256(story.published_after_second)
    leftovers = sorted(p.name for p in story.workdir.iterdir() if "ordway_marts" in p.name)
    assert leftovers == ["ordway_marts.duckdb"]
    orphans = (
        "SELECT count(*) FROM marts.fct_revenue_monthly r "
        "WHERE r.customer_id NOT IN (SELECT customer_id FROM marts.dim_customers)"
    )
    with duckdb.connect(str(story.workdir / "ordway.duckdb"), read_only=True) as con:
        working_orphans = con.execute(orphans).fetchone()[0]
    with duckdb.connect(str(story.published), read_only=True) as con:
        published_orphans = con.execute(orphans).fetchone()[0]
    assert working_orphans > 0  # dbt replaced the working marts before their tests ran
    assert published_orphans == 0  # BI still reads the last tested marts


@pytest.mark.snowflake
def test_on_snowflake_the_asset_publishes_through_the_dlt_client_up_to_the_swap(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The asset's Snowflake path (settings, dlt's sql_client, ``publish_snowflake``) against the
    emulator. fakesnow cannot parse ``SWAP WITH``: the run stops there, naming the statement,
    after checking the build, counting rows and creating MARTS for the first swap."""
    import snowflake.connector

    from tests.support.snowflake_emulator import running_emulator

    with running_emulator() as env:
        isolate_environment(monkeypatch, tmp_path)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with contextlib.closing(
            snowflake.connector.connect(
                account=env["SNOWFLAKE_ACCOUNT"],
                user=env["SNOWFLAKE_USER"],
                password=env["SNOWFLAKE_PASSWORD"],
                host=env["SNOWFLAKE_HOST"],
                port=int(env["SNOWFLAKE_PORT"]),
                protocol="http",
                database=env["SNOWFLAKE_DATABASE"],
            )
        ) as conn:
            cursor = conn.cursor()
            cursor.execute("CREATE SCHEMA ORDWAY.MARTS_BUILD")
            cursor.execute("CREATE TABLE ORDWAY.MARTS_BUILD.FCT_MRR (MRR NUMBER(38,10))")
            with pytest.raises(PublishError, match=r"ORDWAY\.MARTS_BUILD has no DIM_CUSTOMERS"):
                publish_marts(["fct_mrr", "dim_customers"])
            schemas = cursor.execute("SELECT schema_name FROM ORDWAY.INFORMATION_SCHEMA.SCHEMATA")
            assert "MARTS" not in {row[0] for row in schemas.fetchall()}  # nothing done
            cursor.execute("CREATE TABLE ORDWAY.MARTS_BUILD.DIM_CUSTOMERS (ID VARCHAR)")
            with pytest.raises(PublishError, match=r"^ALTER SCHEMA ORDWAY\.MARTS_BUILD SWAP WITH"):
                publish_marts(["fct_mrr", "dim_customers"])
            schemas = cursor.execute("SELECT schema_name FROM ORDWAY.INFORMATION_SCHEMA.SCHEMATA")
            assert "MARTS" in {row[0] for row in schemas.fetchall()}


def test_the_dbt_failure_message_names_each_failed_test_with_its_rows_and_each_failed_model():
    from assets.transform import dbt_failure_message

    run_results = {
        "results": [
            {"unique_id": "model.ordway_revenue.fct_mrr", "status": "success"},
            {
                "unique_id": "test.ordway_revenue.relationships_fct_revenue_monthly_customer_id"
                "__customer_id__ref_dim_customers_.5ea5d4f4c1",
                "status": "fail",
                "failures": 175,
                "message": "Got 175 results, configured to fail if != 0",
            },
            {
                "unique_id": "model.ordway_revenue.fct_ar_aging",
                "status": "error",
                "failures": None,
                "message": "Runtime Error in model fct_ar_aging\nBinder Error: column x",
            },
            {"unique_id": "test.ordway_revenue.assert_arr_bridge_balances", "status": "warn"},
            {"unique_id": "model.ordway_revenue.fct_retention", "status": "skipped"},
        ]
    }
    message = dbt_failure_message(run_results)
    assert message.startswith("dbt build failed, so the marts were not published")
    assert (
        "2 failed: test relationships_fct_revenue_monthly_customer_id__customer_id__ref_dim_"
        "customers_ (175 failing rows); model fct_ar_aging (Runtime Error in model fct_ar_aging)"
    ) in message
    assert "assert_arr_bridge_balances" not in message  # warn-level tests do not fail a build
    assert message.endswith("1 nodes skipped.")
    assert "see the dbt output" in dbt_failure_message(None)
