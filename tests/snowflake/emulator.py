"""Test support for the Snowflake emulator run: start fakesnow's server, copy a DuckDB raw dataset
into it through the Snowflake connector, run dbt's Snowflake target, and read marts back.

The raw tables are created with the DDL that dlt's own Snowflake destination generates for the
pipeline's schema (`CREATE TABLE "ORDWAY_RAW"."INVOICES__LINE_ITEMS" (... NUMBER(38,10),
TIMESTAMP_TZ ...)`), then filled the way dlt fills them on Snowflake: each table is written to a
parquet file, `PUT` into the table stage and `COPY INTO ... MATCH_BY_COLUMN_NAME`. dlt itself
cannot load into the emulator (see the README's Snowflake section, "What the emulator cannot do").
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import dlt
import duckdb
import snowflake.connector
import yaml

from pipelines.warehouse import SnowflakeSettings, dlt_snowflake_destination
from scripts.snowflake_emulator import READY_LINE
from tests.dbt_project.conftest import DbtRun, invoke_dbt

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "dbt_project"
RAW_DATASET = "ordway_raw"

#: Profile lines the Snowflake target needs to reach an emulator or proxy. Added to a copy of
#: dbt_project/profiles.yml when it does not have them yet (see the README's Snowflake section).
ENDPOINT_PROFILE_FIELDS = {
    "host": "{{ env_var('SNOWFLAKE_HOST', '') }}",
    "port": "{{ env_var('SNOWFLAKE_PORT', '0') | int }}",
    "protocol": "{{ env_var('SNOWFLAKE_PROTOCOL', '') }}",
}


class EmulatorError(RuntimeError):
    """The emulator process failed to start or died."""


@contextlib.contextmanager
def emulator_process(timeout: float = 60.0) -> Iterator[dict[str, str]]:
    """`python -m scripts.snowflake_emulator --port 0` as a subprocess; yields its env lines."""
    with tempfile.TemporaryDirectory(prefix="snowflake-emulator-") as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "scripts.snowflake_emulator", "--port", "0"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        try:
            yield _read_settings(process, stderr_path, timeout)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


def _read_settings(process: subprocess.Popen[str], stderr: Path, timeout: float) -> dict[str, str]:
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    settings: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1).strip()
        except queue.Empty:
            if process.poll() is not None:
                raise EmulatorError(
                    f"emulator exited with code {process.returncode}: {stderr.read_text()[-2000:]}"
                ) from None
            continue
        if line == READY_LINE:
            return settings
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            settings[name] = value
    raise EmulatorError(f"emulator not ready within {timeout:g} s: {stderr.read_text()[-2000:]}")


def connect(settings: SnowflakeSettings, schema: str | None = None) -> Any:
    """A snowflake-connector connection for these settings (password auth: the emulator)."""
    return snowflake.connector.connect(
        account=settings.account,
        user=settings.user,
        password=settings.password,
        database=settings.database,
        schema=schema,
        host=settings.host,
        port=settings.port,
        protocol=settings.protocol,
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        network_timeout=60,
    )


def copy_raw_dataset(
    duckdb_path: Path, pipeline_name: str, pipelines_dir: Path, settings: SnowflakeSettings
) -> dict[str, int]:
    """Copies every table of the DuckDB raw dataset into `<database>.ORDWAY_RAW`; returns rows
    per Snowflake table name."""
    source = dlt.attach(pipeline_name, pipelines_dir=str(pipelines_dir))
    schema = source.default_schema.clone()
    with tempfile.TemporaryDirectory(prefix="snowflake-copy-") as tmp:
        pipeline = dlt.pipeline(
            pipeline_name="snowflake_copy",
            destination=dlt_snowflake_destination(settings),
            dataset_name=RAW_DATASET,
            pipelines_dir=tmp,
        )
        pipeline._inject_schema(schema)  # DDL for the source schema
        client: Any = pipeline.destination_client()
        sql = client.sql_client
        copied: dict[str, int] = {}
        with (
            duckdb.connect(str(duckdb_path), read_only=True) as duck,
            contextlib.closing(connect(settings)) as conn,
        ):
            cursor = conn.cursor()
            dataset = sql.fully_qualified_dataset_name()
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
            cursor.execute(f"USE SCHEMA {dataset}")
            present = {
                row[0]
                for row in duck.execute(
                    "select table_name from information_schema.tables where table_schema = ?",
                    [RAW_DATASET],
                ).fetchall()
            }
            for name in schema.tables:
                table = client.prepare_load_table(name)
                columns = [c for c, spec in table["columns"].items() if spec.get("data_type")]
                if name not in present or not columns:
                    continue
                specs = [table["columns"][c] for c in columns]
                for statement in client._get_table_update_sql(name, specs, False):
                    cursor.execute(statement)
                qualified = sql.make_qualified_table_name(name)
                parquet = Path(tmp) / f"{name}.parquet"
                selected = ", ".join(f'"{c}"' for c in columns)
                duck.execute(
                    f'copy (select {selected} from {RAW_DATASET}."{name}") '
                    f"to '{parquet}' (format parquet)"
                )
                stage = "@%" + name.upper()
                cursor.execute(f"PUT 'file://{parquet}' {stage}")
                cursor.execute(
                    f"COPY INTO {qualified} FROM {stage} "
                    "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
                )
                count = cursor.execute(f"select count(*) from {qualified}").fetchone()[0]
                copied[qualified] = int(count)
        return copied


def profiles_dir(workdir: Path) -> Path:
    """dbt_project/profiles.yml, with the endpoint fields added to the Snowflake target when it
    lacks them."""
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    target = profiles["ordway"]["outputs"]["snowflake"]
    for key, value in ENDPOINT_PROFILE_FIELDS.items():
        target.setdefault(key, value)
    target["connect_retries"] = 0
    directory = workdir / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.yml").write_text(yaml.safe_dump(profiles, sort_keys=False))
    return directory


def run_dbt(
    command: str,
    workdir: Path,
    env: Mapping[str, str],
    as_of: str,
    *args: str,
    profiles: Path = PROJECT_DIR,
) -> DbtRun:
    """`dbt <command>` in its own target and log directories; persist_docs off because fakesnow
    cannot parse its COMMENT statements (see the README's Snowflake section)."""
    dbt_vars = {"as_of_date": as_of, "persist_docs": False}
    return invoke_dbt(command, workdir, env, dbt_vars, *args, profiles_dir=profiles, timeout=300)


def normalise(value: Any) -> Any:
    """One cell as a comparable value: timestamps in UTC; everything else as it comes (Decimal,
    int, date, str, bool compare exactly; Decimal('1.50') == Decimal('1.5'))."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


#: Columns computed by `decimal_divide`, which the emulator cannot compute exactly: fakesnow
#: executes on DuckDB, where DECIMAL / DECIMAL is a DOUBLE (Snowflake keeps NUMBER). They are
#: compared to 1e-9 (ROUND_HALF_UP on both sides); every other column is compared exactly.
EMULATOR_DIVISION_COLUMNS: dict[str, frozenset[str]] = {
    "int_mrr_lines_monthly": frozenset({"mrr", "gross_mrr"}),
    "int_revenue_schedules_recomputed": frozenset({"recomputed_revenue"}),
    "fct_revenue_reconciliation": frozenset({"recomputed_revenue", "difference"}),
    "fct_retention": frozenset({"nrr", "grr"}),
}
DIVISION_TOLERANCE = Decimal("1e-9")


def _row(table: str, columns: list[str], row: tuple[Any, ...]) -> tuple[Any, ...]:
    division = EMULATOR_DIVISION_COLUMNS.get(table, frozenset())
    return tuple(
        Decimal(str(value)).quantize(DIVISION_TOLERANCE, ROUND_HALF_UP)
        if column in division and value is not None
        else normalise(value)
        for column, value in zip(columns, row, strict=True)
    )


def duckdb_rows(duckdb_path: Path, schema: str, table: str) -> tuple[list[str], Counter]:
    """Column names and the multiset of rows of one DuckDB relation."""
    with duckdb.connect(str(duckdb_path), read_only=True) as duck:
        cursor = duck.execute(f'select * from {schema}."{table}"')
        columns = [d[0] for d in cursor.description]
        rows = Counter(_row(table, columns, row) for row in cursor.fetchall())
    return columns, rows


def snowflake_rows(conn: Any, schema: str, table: str, columns: list[str]) -> Counter:
    """The multiset of rows of the same relation on Snowflake, columns in DuckDB's order."""
    selected = ", ".join(c.upper() for c in columns)
    cursor = conn.cursor().execute(f"select {selected} from {schema.upper()}.{table.upper()}")
    return Counter(_row(table, columns, row) for row in cursor.fetchall())
