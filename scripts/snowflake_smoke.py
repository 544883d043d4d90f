"""`make snowflake-smoke`: the whole pipeline once against your real Snowflake account, in a
scratch database that is dropped at the end.

    python -m scripts.snowflake_smoke [--customers 20] [--seed 7] [--as-of 2026-06-30]

With the `SNOWFLAKE_*` variables of the README (the same the nightly job uses), it:

1. connects and creates a new database `ORDWAY_SMOKE_<UTC time>_<hex>` (never an existing one:
   `CREATE DATABASE` without `IF NOT EXISTS`), so `SNOWFLAKE_DATABASE`'s `ORDWAY_RAW`,
   `STAGING`, `INTERMEDIATE` and `MARTS` are never read or written;
2. serves a small generated tenant from the local Ordway sandbox and loads it with the
   project's dlt pipeline (dlt's Snowflake destination, production settings) into the scratch
   database's `ORDWAY_RAW`, and into a temporary DuckDB file;
3. runs `dbt build` (models, data tests and unit tests) on both;
4. compares every raw table (rows keyed by record id, without dlt's load ids) and every
   intermediate model and mart (multisets of rows, in both directions, money as exact
   Decimal) between the two;
5. drops the scratch database, also when a step failed.

Exit code 0 when everything passed and matched, 1 otherwise (what differs is printed), 2 for a
configuration error. The role needs `CREATE DATABASE` on the account (e.g. run it with
`SNOWFLAKE_ROLE=SYSADMIN`). Secrets are never printed.

`--emulator` is for the test that runs this command against the local emulator
(tests/snowflake/): it turns persist_docs off and compares the `decimal_divide` columns to 1e-9,
the two things fakesnow cannot do (see the README's Snowflake section).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pipelines.warehouse import MARTS_BUILD_SCHEMA

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO_ROOT / "dbt_project"
RAW_SCHEMA = "ordway_raw"
MODEL_SCHEMAS = ("intermediate", "marts")
SMOKE_DATABASE_PREFIX = "ORDWAY_SMOKE_"

#: Columns computed by the `decimal_divide` macro. Snowflake and DuckDB both divide exactly, so
#: they are compared exactly on a real account. The emulator runs Snowflake's SQL on DuckDB,
#: where NUMBER / NUMBER is a DOUBLE: with `--emulator` they are compared to 1e-9.
DIVISION_COLUMNS: dict[str, frozenset[str]] = {
    "int_mrr_lines_monthly": frozenset({"mrr", "gross_mrr", "document_mrr", "document_gross_mrr"}),
    "int_revenue_schedules_recomputed": frozenset({"recomputed_revenue"}),
    "fct_revenue_reconciliation": frozenset({"recomputed_revenue", "difference"}),
    "fct_retention": frozenset({"nrr", "grr"}),
    "fct_arr_movements": frozenset({"logo_churn_rate"}),
    "bi_retention": frozenset({"nrr", "grr"}),
    "bi_arr_movements": frozenset({"logo_churn_rate"}),
}
DIVISION_TOLERANCE = Decimal("1e-9")


# ------------------------------------------------------------------------------ warehouses

Rows = tuple[list[str], list[tuple[Any, ...]]]


@dataclass
class Warehouse:
    """A warehouse to compare: its kind (identifier case) and a function running one query."""

    kind: str  # "duckdb" | "snowflake"
    run: Callable[[str], Rows]

    def ident(self, name: str) -> str:
        """A quoted identifier as dlt and dbt created it (Snowflake: upper case)."""
        return '"' + (name.upper() if self.kind == "snowflake" else name.lower()) + '"'

    def relation(self, schema: str, table: str) -> str:
        return f"{self.ident(schema)}.{self.ident(table)}"

    def query(self, sql: str) -> Rows:
        columns, rows = self.run(sql)
        return [c.lower() for c in columns], rows

    def tables(self, schema: str) -> dict[str, list[str]]:
        """Base tables of `schema` -> their columns in order (names lower-cased)."""
        literal = schema.upper() if self.kind == "snowflake" else schema.lower()
        _, rows = self.query(
            "select c.table_name, c.column_name from information_schema.columns c "
            "join information_schema.tables t on t.table_schema = c.table_schema "
            "and t.table_name = c.table_name "
            f"where c.table_schema = '{literal}' and t.table_type = 'BASE TABLE' "
            "order by c.table_name, c.ordinal_position"
        )
        result: dict[str, list[str]] = {}
        for table, column in rows:
            result.setdefault(table.lower(), []).append(column.lower())
        return result


@contextlib.contextmanager
def duckdb_warehouse(path: Path) -> Iterator[Warehouse]:
    """The DuckDB file, read-only."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as connection:

        def run(sql: str) -> Rows:
            cursor = connection.execute(sql)
            return [d[0] for d in cursor.description or []], cursor.fetchall()

        yield Warehouse("duckdb", run)


@contextlib.contextmanager
def snowflake_warehouse(pipeline: Any) -> Iterator[Warehouse]:
    """The Snowflake database of a dlt pipeline, through its sql_client (one session)."""
    with pipeline.sql_client() as client:

        def run(sql: str) -> Rows:
            with client.execute_query(sql) as cursor:
                return [d[0] for d in cursor.description or []], list(cursor.fetchall())

        yield Warehouse("snowflake", run)


# ------------------------------------------------------------------------------ comparison


@dataclass
class Difference:
    """Rows of one relation found in one warehouse and not the other (multisets)."""

    relation: str
    only_duckdb: int
    only_snowflake: int
    examples: list[str]

    def __str__(self) -> str:
        lines = [
            f"{self.relation}: {self.only_duckdb} rows only in DuckDB, "
            f"{self.only_snowflake} only in Snowflake"
        ]
        return "\n    ".join(lines + self.examples)


def normalise(value: Any) -> Any:
    """One cell as a comparable value: timestamps in UTC, JSON text parsed; everything else as
    it comes (Decimal, int, date, str and bool compare exactly; Decimal('1.50') == 1.5)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _difference(label: str, columns: list[str], duck: Counter, snow: Counter) -> list[Difference]:
    only_duckdb, only_snowflake = duck - snow, snow - duck
    if not only_duckdb and not only_snowflake:
        return []
    examples = [
        f"only in {side}: {dict(zip(columns, row, strict=True))}"
        for side, rows in (("DuckDB", only_duckdb), ("Snowflake", only_snowflake))
        for row in sorted(rows, key=repr)[:2]
    ]
    return [Difference(label, only_duckdb.total(), only_snowflake.total(), examples)]


def _raw_select(warehouse: Warehouse, table: str, columns: list[str]) -> tuple[list[str], str]:
    """Columns and SQL of one raw table: data columns keyed by the root record's id (dlt's row
    ids and load ids differ between two loads of the same data); `deleted_at` of the tombstone
    table as a flag (it is the time the sweep ran)."""
    from pipelines.ordway.contract import COLLECTIONS, DELETIONS_TABLE

    data = [c for c in columns if not c.startswith("_dlt_") or c == "_dlt_list_idx"]
    if table == DELETIONS_TABLE:
        select = [
            "deleted_at is not null" if c == "deleted_at" else f"t.{warehouse.ident(c)}"
            for c in data
        ]
        return data, f"select {', '.join(select)} from {warehouse.relation(RAW_SCHEMA, table)} t"
    root = table.split("__", 1)[0]
    select = ", ".join(f"t.{warehouse.ident(c)}" for c in data)
    source = f"{warehouse.relation(RAW_SCHEMA, table)} t"
    if root not in COLLECTIONS:  # other bookkeeping (the company the warehouse holds)
        return data, f"select {select} from {source}"
    key = warehouse.ident(COLLECTIONS[root].primary_key)
    if table == root:
        return ["_root", *data], f"select t.{key}, {select} from {source}"
    link = "_dlt_root_id" if "_dlt_root_id" in columns else "_dlt_parent_id"
    return ["_root", *data], (
        f"select r.{key}, {select} from {source} join "
        f"{warehouse.relation(RAW_SCHEMA, root)} r "
        f"on t.{warehouse.ident(link)} = r.{warehouse.ident('_dlt_id')}"
    )


def compare_raw(duck: Warehouse, snow: Warehouse) -> tuple[list[Difference], int]:
    """Every raw data table (dlt's own `_dlt_*` tables left out) in both warehouses; returns the
    differences and the number of rows compared."""
    duck_tables = {t: c for t, c in duck.tables(RAW_SCHEMA).items() if not t.startswith("_dlt_")}
    snow_tables = {t: c for t, c in snow.tables(RAW_SCHEMA).items() if not t.startswith("_dlt_")}
    differences = [
        Difference(f"{RAW_SCHEMA}.{t}", -1, -1, ["table missing in one warehouse"])
        for t in sorted(set(duck_tables) ^ set(snow_tables))
    ]
    compared = 0
    for table in sorted(set(duck_tables) & set(snow_tables)):
        if sorted(duck_tables[table]) != sorted(snow_tables[table]):
            missing = sorted(set(duck_tables[table]) ^ set(snow_tables[table]))
            differences.append(
                Difference(f"{RAW_SCHEMA}.{table}", -1, -1, [f"columns differ: {missing}"])
            )
            continue
        columns, duck_sql = _raw_select(duck, table, duck_tables[table])
        _, snow_sql = _raw_select(snow, table, duck_tables[table])
        duck_rows = Counter(tuple(map(normalise, r)) for r in duck.query(duck_sql)[1])
        snow_rows = Counter(tuple(map(normalise, r)) for r in snow.query(snow_sql)[1])
        differences += _difference(f"{RAW_SCHEMA}.{table}", columns, duck_rows, snow_rows)
        compared += duck_rows.total()
    return differences, compared


def built_in(warehouse: Warehouse, schema: str) -> str:
    """Where dbt builds a schema's models: on Snowflake the marts go to MARTS_BUILD (publishing
    swaps it with MARTS, which BI reads); DuckDB's working file keeps them in `marts`."""
    if warehouse.kind == "snowflake" and schema == "marts":
        return MARTS_BUILD_SCHEMA
    return schema


def compare_models(
    duck: Warehouse, snow: Warehouse, *, approximate_division: bool = False
) -> tuple[list[Difference], int]:
    """Every table of the intermediate and marts schemas (as DuckDB has them), row for row, in
    both directions. Returns the differences and the number of rows compared."""
    differences: list[Difference] = []
    compared = 0
    for schema in MODEL_SCHEMAS:
        duck_tables, snow_tables = duck.tables(schema), snow.tables(built_in(snow, schema))
        for table, columns in sorted(duck_tables.items()):
            label = f"{schema}.{table}"
            if snow_tables.get(table) != columns:
                differences.append(
                    Difference(label, -1, -1, [f"columns {snow_tables.get(table)} != {columns}"])
                )
                continue
            rounded = DIVISION_COLUMNS.get(table, frozenset()) if approximate_division else ()
            duck_rows, snow_rows = (
                _model_rows(w, built_in(w, schema), table, columns, rounded) for w in (duck, snow)
            )
            differences += _difference(label, columns, duck_rows, snow_rows)
            compared += duck_rows.total()
    return differences, compared


def _model_rows(
    warehouse: Warehouse, schema: str, table: str, columns: list[str], rounded: Any
) -> Counter:
    select = ", ".join(warehouse.ident(c) for c in columns)
    _, rows = warehouse.query(f"select {select} from {warehouse.relation(schema, table)}")
    return Counter(_model_row(columns, row, rounded) for row in rows)


def _model_row(columns: list[str], row: tuple[Any, ...], rounded: Any) -> tuple[Any, ...]:
    return tuple(
        Decimal(str(value)).quantize(DIVISION_TOLERANCE, ROUND_HALF_UP)
        if column in rounded and value is not None
        else normalise(value)
        for column, value in zip(columns, row, strict=True)
    )


# ------------------------------------------------------------------------------------- dbt


@dataclass
class DbtRun:
    """The outcome of one dbt invocation."""

    returncode: int
    output: str
    results: list[dict[str, Any]]

    def failures(self) -> list[str]:
        """`unique_id: status message` of every node that did not pass (warnings are fine, and
        so are exposures and saved queries, which `dbt build` reports as no-op)."""
        return [
            f"{r['unique_id']}: {r['status']} {r.get('message') or ''}".strip()
            for r in self.results
            if r["status"] not in ("success", "pass", "warn", "no-op")
        ]

    def count(self, prefix: str) -> int:
        """Nodes whose unique_id starts with `prefix` (`model.`, `test.`, `unit_test.`)."""
        return sum(1 for r in self.results if r["unique_id"].startswith(prefix))


def dbt_build(
    workdir: Path, env: Mapping[str, str], dbt_vars: Mapping[str, Any], *args: str
) -> DbtRun:
    """`dbt build` of the project with its own target and log directories under `workdir`."""
    executable = Path(sys.executable).with_name("dbt")
    target = workdir / "target"
    completed = subprocess.run(
        [
            str(executable) if executable.exists() else "dbt",
            "build",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
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
        timeout=1800,
        check=False,
    )
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, results)


# ------------------------------------------------------------------------------ the command


def scratch_database_name(now: datetime | None = None) -> str:
    """`ORDWAY_SMOKE_<YYYYMMDDHHMMSS>_<4 hex>`: new on every run."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{SMOKE_DATABASE_PREFIX}{stamp}_{secrets.token_hex(2).upper()}"


class SmokeFailure(RuntimeError):
    """A step failed or the warehouses differ; the message says which."""


def _say(message: str) -> None:
    print(f"snowflake-smoke: {message}", flush=True)


def run_smoke(
    *,
    customers: int = 20,
    seed: int = 7,
    as_of: str = "2026-06-30",
    emulator: bool = False,
    workdir: Path,
) -> None:
    """The steps of the module docstring; raises SmokeFailure (or ConfigError)."""
    import dlt

    from ordway_sandbox.process import SandboxProcess
    from pipelines.config import OrdwaySettings, snowflake_settings_from_env
    from pipelines.ordway.pipeline import make_pipeline, run_extract
    from pipelines.warehouse import dbt_env, dlt_snowflake_destination

    settings = snowflake_settings_from_env()  # validated before anything is created
    scratch = scratch_database_name()
    if scratch == settings.database:  # cannot happen with the prefix; kept as a last guard
        raise SmokeFailure(f"scratch database {scratch} is SNOWFLAKE_DATABASE")
    _say(
        f"account {settings.account}, user {settings.user}, role {settings.role}, "
        f"warehouse {settings.warehouse} ({settings.authentication} authentication)"
    )
    admin = dlt.pipeline(
        pipeline_name="ordway_smoke_admin",
        destination=dlt_snowflake_destination(settings),
        dataset_name="ordway_smoke_admin",
        pipelines_dir=str(workdir / "dlt_admin"),
    )
    with admin.sql_client() as client:
        client.execute_sql(f"CREATE DATABASE {scratch}")
    _say(f"created scratch database {scratch}")
    previous_database = os.environ.get("SNOWFLAKE_DATABASE")
    try:
        scratch_settings = dataclasses.replace(settings, database=scratch)
        tenant = ["--customers", str(customers), "--seed", str(seed), "--as-of", as_of]
        with SandboxProcess(tenant) as sandbox:
            base = {
                **sandbox.env,
                "ORDWAY_BASE_URL": sandbox.base_url,
                "ORDWAY_MAX_RPS": "0",
            }
            os.environ["SNOWFLAKE_DATABASE"] = scratch  # this process only: dlt reads it
            snow = OrdwaySettings.from_env(
                {**base, "WAREHOUSE": "snowflake", "DLT_PIPELINES_DIR": str(workdir / "dlt_sf")}
            )
            snow_pipeline = make_pipeline(snow)
            run_extract(snow, "full", pipeline=snow_pipeline)
            _say(f"loaded the sandbox tenant ({customers} customers) into {scratch}.ORDWAY_RAW")
            duck_path = workdir / "ordway.duckdb"
            duck = OrdwaySettings.from_env(
                {
                    **base,
                    "WAREHOUSE": "duckdb",
                    "DUCKDB_PATH": str(duck_path),
                    "DLT_PIPELINES_DIR": str(workdir / "dlt_duckdb"),
                }
            )
            run_extract(duck, "full", pipeline=make_pipeline(duck))
            _say(f"loaded the same tenant into DuckDB ({duck_path.name})")

        dbt_vars: dict[str, Any] = {"as_of_date": as_of}
        if emulator:
            dbt_vars["persist_docs"] = False
        with ThreadPoolExecutor(max_workers=2) as pool:  # two dbt processes side by side
            snowflake_build = pool.submit(
                dbt_build, workdir / "dbt_snowflake", dbt_env(scratch_settings), dbt_vars
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
            if build.returncode != 0 or not build.results:
                failures = "\n  ".join(build.failures()[:20]) or build.output[-3000:]
                raise SmokeFailure(f"dbt build on {name} failed:\n  {failures}")
            unit_tests = build.count("unit_test.")
            _say(
                f"dbt build on {name}: {build.count('model.')} models, {build.count('test.')} "
                f"data tests"
                + (f", {unit_tests} unit tests" if unit_tests else " (unit tests: Snowflake only)")
                + " passed"
            )

        with duckdb_warehouse(duck_path) as d, snowflake_warehouse(snow_pipeline) as s:
            raw, raw_rows = compare_raw(d, s)
            models, model_rows = compare_models(d, s, approximate_division=emulator)
        if raw or models:
            listed = "\n  ".join(str(x) for x in raw + models)
            raise SmokeFailure(f"Snowflake differs from DuckDB:\n  {listed}")
        _say(
            f"Snowflake equals DuckDB: {raw_rows} raw rows, {model_rows} rows of intermediate "
            "models and marts"
        )
    finally:
        if previous_database is not None:
            os.environ["SNOWFLAKE_DATABASE"] = previous_database
        try:
            with admin.sql_client() as client:
                client.execute_sql(f"DROP DATABASE IF EXISTS {scratch}")
        except Exception as exc:
            raise SmokeFailure(
                f"could not drop the scratch database ({type(exc).__name__}); "
                f"drop it by hand: DROP DATABASE {scratch}"
            ) from exc
        _say(f"dropped scratch database {scratch}")


def main(argv: Sequence[str] | None = None) -> int:
    from pipelines.config import ConfigError

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20, help="size of the served tenant")
    parser.add_argument("--seed", type=int, default=7, help="tenant generator seed")
    parser.add_argument("--as-of", default="2026-06-30", help="tenant date and dbt as_of_date")
    parser.add_argument("--emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="ordway-smoke-") as tmp:
            run_smoke(
                customers=args.customers,
                seed=args.seed,
                as_of=args.as_of,
                emulator=args.emulator,
                workdir=Path(tmp),
            )
    except ConfigError as exc:
        print(f"snowflake-smoke: configuration error: {exc}", file=sys.stderr)
        return 2
    except SmokeFailure as exc:
        print(f"snowflake-smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    _say("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
