"""dlt's own Snowflake load path and dbt-snowflake, end to end, against the local emulator.

One sandbox tenant feeds two warehouses through the project's dlt pipeline: a DuckDB file, and
the Snowflake emulator (`WAREHOUSE=snowflake`: `pipelines/warehouse.py`'s
`dlt_snowflake_destination`, production settings unchanged: JSON-lines files PUT into the table
stages, `COPY INTO`, `REMOVE`, delete-insert merges through `ORDWAY_RAW_STAGING`, the state
tables, query tags). After each of three stages,

1. a full load,
2. an incremental night: the tenant advances a day, then the nightly-consistency scenario's
   upstream edits (tests/support/upstream_edits.py: back-dated edits inside and outside the
   lookback, an embedded list emptied, a payment and an invoice deleted),
3. the delete sweep,

`dbt build` runs on both (on the emulator with dbt's unit tests), and every raw table (rows keyed
by record id), intermediate model and mart must hold the same rows in both warehouses, in both
directions, money as exact Decimal. Direct observations on the emulator check that the stages
did what the scenario says (so two equally wrong warehouses cannot pass). Then a fresh local dlt
directory restores the pipeline state from the emulator and continues incrementally.

Any unhandled exception in the emulator fails the test at once, naming the statement
(tests/support/snowflake_emulator.py). What the emulator cannot prove is listed in the README's
Snowflake section.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from ordway_sandbox.process import SandboxProcess
from pipelines.config import OrdwaySettings, snowflake_settings_from_env
from pipelines.ordway.pipeline import make_pipeline, run_extract
from pipelines.warehouse import dbt_env
from scripts.snowflake_smoke import (
    DbtRun,
    Difference,
    compare_models,
    compare_raw,
    dbt_build,
    duckdb_warehouse,
    snowflake_warehouse,
)
from tests.support.snowflake_emulator import EmulatorProcess
from tests.support.source import cursors
from tests.support.upstream_edits import edit_upstream

pytestmark = [pytest.mark.slow, pytest.mark.snowflake, pytest.mark.xdist_group("snowflake")]

CUSTOMERS = 30
SEED = 11
#: Mid-month, so the night after it stays in the same month and the scenario finds an invoice of
#: the current month already loaded to delete.
AS_OF = "2025-03-14"
STAGES = ("full load", "incremental night", "sweep")


@dataclass
class Edits:
    """The scenario's upstream edits (filled by `edit_upstream`)."""

    as_of: str = ""
    edited_inside: dict[str, Any] = field(default_factory=dict)
    edited_outside: dict[str, Any] = field(default_factory=dict)
    reopened: dict[str, Decimal] = field(default_factory=dict)
    deleted: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Stage:
    as_of: str
    builds: dict[str, DbtRun]
    raw: list[Difference]
    raw_rows: int
    models: list[Difference]
    model_rows: int
    requests: int  # to the sandbox by the Snowflake run
    #: what the emulator holds for the edited and deleted records after this stage
    observed: dict[str, Any]


@dataclass
class World:
    edits: Edits
    stages: dict[str, Stage] = field(default_factory=dict)
    column_types: dict[str, str] = field(default_factory=dict)
    local_cursors: dict[str, Any] = field(default_factory=dict)
    restored_cursors: dict[str, Any] = field(default_factory=dict)
    restored_requests: int = 0
    restored_raw: list[Difference] = field(default_factory=list)
    compiled: Path | None = None


def _run(sandbox: SandboxProcess, settings: OrdwaySettings, mode: str) -> int:
    """One extract run as a scheduled job does it (a fresh pipeline object on the same working
    directory); returns the requests it made."""
    sandbox.reset_stats()
    run_extract(settings, mode, pipeline=make_pipeline(settings))  # type: ignore[arg-type]
    return sum(sandbox.stats()["requests"].values())


def _observe(pipeline: Any, edits: Edits) -> dict[str, Any]:
    """Balances of the edited invoices and the tombstones, as the emulator holds them."""
    observed: dict[str, Any] = {"tombstones": {}}
    with pipeline.sql_client() as client:
        for name in ("edited_inside", "edited_outside"):
            record = getattr(edits, name)
            if record:
                rows = client.execute_sql(
                    "select balance from ORDWAY_RAW.INVOICES where id = %s", record["id"]
                )
                observed[name] = [row[0] for row in rows]
        for collection, record_id in client.execute_sql(
            "select collection, id from ORDWAY_RAW._ORDWAY_DELETIONS where deleted_at is not null"
        ):
            observed["tombstones"].setdefault(collection, set()).add(record_id)
    return observed


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("snowflake_e2e")
    duck_path = workdir / "ordway.duckdb"
    tenant = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF]
    world = World(Edits(as_of=AS_OF))
    with (
        EmulatorProcess() as emulator,
        SandboxProcess(tenant) as sandbox,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        # dlt's destination reads the SNOWFLAKE_* variables, as in production
        for name, value in emulator.env.items():
            if name.startswith("SNOWFLAKE_"):
                monkeypatch.setenv(name, value)
        snowflake = snowflake_settings_from_env(emulator.env)
        base = {**sandbox.env, "ORDWAY_BASE_URL": sandbox.base_url, "ORDWAY_MAX_RPS": "0"}
        snow = OrdwaySettings.from_env(
            {**base, "WAREHOUSE": "snowflake", "DLT_PIPELINES_DIR": str(workdir / "dlt_sf")}
        )
        duck = OrdwaySettings.from_env(
            {
                **base,
                "DUCKDB_PATH": str(duck_path),
                "DLT_PIPELINES_DIR": str(workdir / "dlt_duckdb"),
            }
        )
        as_of = AS_OF
        for stage in STAGES:
            if stage == "incremental night":
                as_of = world.edits.as_of = sandbox.advance(1)["as_of"]
                edit_upstream(sandbox, world.edits, cursors(duck_path)["invoices"])
            mode = {"full load": "full", "incremental night": "incremental"}.get(stage, "sweep")
            requests = _run(sandbox, snow, mode)
            emulator.check()
            _run(sandbox, duck, mode)
            world.stages[stage] = _build_and_compare(
                workdir / stage.replace(" ", "_"), duck_path, snow, snowflake, as_of, requests
            )
            emulator.check()
            world.stages[stage].observed = _observe(make_pipeline(snow), world.edits)

        pipeline = make_pipeline(snow)
        world.local_cursors = _cursors(pipeline.state)
        world.column_types = _column_types(pipeline)
        # a new machine: an empty local dlt directory, the same warehouse
        fresh = OrdwaySettings.from_env(
            {**base, "WAREHOUSE": "snowflake", "DLT_PIPELINES_DIR": str(workdir / "dlt_fresh")}
        )
        restored = make_pipeline(fresh)
        restored.sync_destination()
        world.restored_cursors = _cursors(restored.state)
        world.restored_requests = _run(sandbox, fresh, "incremental")
        emulator.check()
        with duckdb_warehouse(duck_path) as d, snowflake_warehouse(make_pipeline(fresh)) as s:
            world.restored_raw = compare_raw(d, s)[0]
        world.compiled = workdir / "sweep" / "dbt_snowflake" / "target" / "compiled"
        yield world


def _build_and_compare(
    workdir: Path,
    duck_path: Path,
    snow: OrdwaySettings,
    snowflake: Any,
    as_of: str,
    requests: int,
) -> Stage:
    """dbt build on both warehouses side by side (DuckDB without the unit tests, which run in
    tests/dbt_project/), then the comparisons."""
    dbt_vars = {"as_of_date": as_of, "persist_docs": False}  # fakesnow cannot COMMENT
    with ThreadPoolExecutor(max_workers=2) as pool:
        snowflake_build = pool.submit(
            dbt_build, workdir / "dbt_snowflake", dbt_env(snowflake), dbt_vars
        )
        duckdb_build = pool.submit(
            dbt_build,
            workdir / "dbt_duckdb",
            {"DBT_TARGET": "duckdb", "DUCKDB_PATH": str(duck_path)},
            dbt_vars,
            "--exclude",
            "resource_type:unit_test",
        )
        builds = {"snowflake": snowflake_build.result(), "duckdb": duckdb_build.result()}
    for name, build in builds.items():
        assert build.returncode == 0 and build.results, (name, build.output[-4000:])
    with duckdb_warehouse(duck_path) as d, snowflake_warehouse(make_pipeline(snow)) as s:
        raw, raw_rows = compare_raw(d, s)
        models, model_rows = compare_models(d, s, approximate_division=True)
    return Stage(as_of, builds, raw, raw_rows, models, model_rows, requests, {})


def _cursors(state: Any) -> dict[str, Any]:
    resources = state.get("sources", {}).get("ordway", {}).get("resources", {})
    return {
        name: value.get("incremental", {}).get("updated_date", {}).get("last_value")
        for name, value in resources.items()
        if value.get("incremental")
    }


def _column_types(pipeline: Any) -> dict[str, str]:
    with pipeline.sql_client() as client:
        rows = client.execute_sql(
            "select table_name || '.' || column_name, data_type || coalesce('(' || "
            "numeric_precision || ',' || numeric_scale || ')', '') from information_schema.columns"
            " where table_schema = 'ORDWAY_RAW'"
        )
    return {name: kind for name, kind in rows}


# ----------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("stage", STAGES)
def test_dbt_build_on_the_emulator_passes_every_model_data_test_and_unit_test(
    world: World, stage: str
) -> None:
    builds = world.stages[stage].builds
    assert builds["snowflake"].failures() == [], builds["snowflake"].output[-3000:]
    assert builds["duckdb"].failures() == [], builds["duckdb"].output[-3000:]
    models = {r["unique_id"] for r in builds["snowflake"].results if r["unique_id"][:6] == "model."}
    assert models == {
        r["unique_id"] for r in builds["duckdb"].results if r["unique_id"][:6] == "model."
    }
    assert len(models) >= 20
    assert builds["snowflake"].count("test.") >= 50
    assert builds["snowflake"].count("unit_test.") >= 10


@pytest.mark.parametrize("stage", STAGES)
def test_raw_tables_loaded_by_dlt_into_the_emulator_equal_the_duckdb_run(
    world: World, stage: str
) -> None:
    result = world.stages[stage]
    assert result.raw == [], "\n".join(map(str, result.raw))
    assert result.raw_rows > 1000


@pytest.mark.parametrize("stage", STAGES)
def test_every_intermediate_model_and_mart_on_the_emulator_equals_the_duckdb_run(
    world: World, stage: str
) -> None:
    result = world.stages[stage]
    assert result.models == [], "\n".join(map(str, result.models))
    assert result.model_rows > 1000


def test_the_night_merged_the_edits_inside_the_lookback_and_the_sweep_the_rest(
    world: World,
) -> None:
    edits, stages = world.edits, world.stages
    inside, outside = edits.edited_inside, edits.edited_outside
    assert inside and outside and edits.deleted and edits.reopened
    night, sweep = stages["incremental night"], stages["sweep"]
    # an incremental night reads only what changed
    assert 0 < night.requests < stages["full load"].requests / 2
    assert night.observed["edited_inside"] == [inside["new"]]
    assert night.observed["edited_outside"] == [outside["old"]]  # outside the lookback
    assert night.observed["tombstones"] == {}
    assert sweep.observed["edited_outside"] == [outside["new"]]
    assert sweep.observed["tombstones"] == edits.deleted


def test_a_fresh_dlt_directory_restores_the_cursors_from_the_emulator_and_continues(
    world: World,
) -> None:
    assert world.local_cursors and all(world.local_cursors.values())
    assert world.restored_cursors == world.local_cursors
    # incremental from the restored cursors, not a first load from ORDWAY_START_DATE
    assert 0 < world.restored_requests < world.stages["full load"].requests / 2
    assert world.restored_raw == [], "\n".join(map(str, world.restored_raw))


def test_raw_tables_are_uppercase_with_exact_money_and_timestamp_tz(world: World) -> None:
    types = world.column_types
    assert types["INVOICES.INVOICE_AMOUNT"] == "NUMBER(38,10)"
    assert types["INVOICES__LINE_ITEMS.EFFECTIVE_PRICE"] == "NUMBER(38,10)"
    assert types["INVOICES.UPDATED_DATE"].startswith("TIMESTAMP_TZ")
    assert types["INVOICES.INVOICE_DATE"] == "DATE"


def test_every_compiled_model_and_test_parses_in_snowflakes_dialect(world: World) -> None:
    assert world.compiled is not None
    files = sorted(world.compiled.rglob("*.sql"))
    assert len(files) >= 50
    errors = {}
    for path in files:
        try:
            sqlglot.parse(path.read_text(), read="snowflake", error_level=ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as exc:
            errors[str(path.relative_to(world.compiled))] = str(exc)[:300]
    assert errors == {}
