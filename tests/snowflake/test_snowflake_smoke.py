"""`make snowflake-smoke` (scripts/snowflake_smoke.py), run against the emulator as a user runs it
against a real account: it must load, build, compare, and drop its scratch database without
touching SNOWFLAKE_DATABASE. The comparison it relies on must see a one-cent difference, a
missing row and an extra row."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import snowflake.connector

from scripts.snowflake_smoke import (
    SMOKE_DATABASE_PREFIX,
    compare_models,
    compare_raw,
    duckdb_warehouse,
)
from tests.support.snowflake_emulator import (
    EMULATOR_ACCOUNT,
    EMULATOR_PASSWORD,
    EMULATOR_USER,
    REPO_ROOT,
    EmulatorProcess,
)

CUSTOMERS = 6


def _smoke(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORDWAY_", "SNOWFLAKE_", "DBT_", "WAREHOUSE", "DUCKDB_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "scripts.snowflake_smoke", *args],
        cwd=REPO_ROOT,
        env={**clean, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _connect(env: dict[str, str]) -> snowflake.connector.SnowflakeConnection:
    return snowflake.connector.connect(
        account=EMULATOR_ACCOUNT,
        user=EMULATOR_USER,
        password=EMULATOR_PASSWORD,
        database=env["SNOWFLAKE_DATABASE"],
        host=env["SNOWFLAKE_HOST"],
        port=int(env["SNOWFLAKE_PORT"]),
        protocol="http",
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
    )


def _tables(cursor, database: str) -> set[tuple[str, str]]:
    rows = cursor.execute(
        f"select table_schema, table_name from {database}.information_schema.tables "
        "where table_schema <> 'INFORMATION_SCHEMA'"
    ).fetchall()
    return {(schema, table) for schema, table in rows}


@pytest.mark.slow
@pytest.mark.snowflake
def test_snowflake_smoke_against_the_emulator_passes_and_leaves_the_real_database_untouched() -> (
    None
):
    with EmulatorProcess() as emulator:
        env = emulator.env
        with contextlib.closing(_connect(env)) as conn:
            cursor = conn.cursor()
            for schema in ("ORDWAY_RAW", "MARTS"):  # the user's real schemas, with data
                cursor.execute(f"create schema if not exists {schema}")
                cursor.execute(f"create table {schema}.SENTINEL (n number(38,0))")
                cursor.execute(f"insert into {schema}.SENTINEL values (1)")
            before = _tables(cursor, env["SNOWFLAKE_DATABASE"])

        result = _smoke(env, "--emulator", "--customers", str(CUSTOMERS))
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-5000:]
        emulator.check()

        created = re.findall(rf"created scratch database ({SMOKE_DATABASE_PREFIX}\w+)", output)
        assert len(created) == 1, output
        assert f"dropped scratch database {created[0]}" in output
        assert "Snowflake equals DuckDB" in output
        built = re.search(
            r"dbt build on snowflake: (\d+) models, (\d+) data tests, (\d+) unit", output
        )
        assert built and int(built[1]) >= 20 and int(built[2]) >= 50 and int(built[3]) >= 10

        with contextlib.closing(_connect(env)) as conn:
            cursor = conn.cursor()
            databases = {row[1] for row in cursor.execute("show databases").fetchall()}
            assert created[0] not in databases  # dropped
            assert _tables(cursor, env["SNOWFLAKE_DATABASE"]) == before
            for schema in ("ORDWAY_RAW", "MARTS"):
                assert cursor.execute(f"select n from {schema}.SENTINEL").fetchall() == [(1,)]


def test_snowflake_smoke_without_a_role_fails_naming_the_variable_before_connecting() -> None:
    env = {
        "SNOWFLAKE_ACCOUNT": "myorg-myaccount",
        "SNOWFLAKE_USER": "ORDWAY_SVC",
        "SNOWFLAKE_PASSWORD": "not-a-real-password-7Q",
        "SNOWFLAKE_WAREHOUSE": "ORDWAY_WH",
        "SNOWFLAKE_DATABASE": "ORDWAY",
    }
    result = _smoke(env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "SNOWFLAKE_ROLE is not set" in result.stderr
    assert "created scratch database" not in result.stdout
    assert env["SNOWFLAKE_PASSWORD"] not in result.stdout + result.stderr


# ------------------------------------------------------------------ the comparison can fail


def _warehouse(
    path: Path, *, cents: str = "0.10", drop: bool = False, extra: bool = False, ids: str = "ab"
) -> None:
    """A tiny warehouse with the smoke comparison's shape: a raw invoice with one line, and a
    mart."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema ordway_raw; create schema intermediate; create schema marts")
        con.execute(
            "create table ordway_raw.invoices (id varchar, balance decimal(38,10), "
            "_dlt_id varchar, _dlt_load_id varchar)"
        )
        con.execute(
            f"insert into ordway_raw.invoices values ('INV-1', 100{cents[1:]}, '{ids[0]}', 'l')"
        )
        con.execute(
            "create table ordway_raw.invoices__line_items (line_no integer, amount "
            "decimal(38,10), _dlt_root_id varchar, _dlt_parent_id varchar, _dlt_id varchar, "
            "_dlt_list_idx integer)"
        )
        if not drop:
            con.execute(
                "insert into ordway_raw.invoices__line_items values "
                f"(1, 5, '{ids[0]}', '{ids[0]}', '{ids[1]}', 0)"
            )
        con.execute(
            "create table marts.fct_invoice_lines (invoice_id varchar, amount decimal(38,10))"
        )
        con.execute("insert into marts.fct_invoice_lines values ('INV-1', 5)")
        if extra:
            con.execute("insert into marts.fct_invoice_lines values ('INV-1', 5)")


def test_the_smoke_comparison_finds_a_cent_a_missing_row_and_an_extra_duplicate(
    tmp_path: Path,
) -> None:
    _warehouse(tmp_path / "a.duckdb")
    _warehouse(tmp_path / "b.duckdb", cents="0.11", drop=True, extra=True)
    _warehouse(tmp_path / "c.duckdb", ids="xy")  # equal to the first but for dlt's row ids
    with (
        duckdb_warehouse(tmp_path / "a.duckdb") as a,
        duckdb_warehouse(tmp_path / "b.duckdb") as b,
        duckdb_warehouse(tmp_path / "c.duckdb") as c,
    ):
        raw, _ = compare_raw(a, b)
        models, _ = compare_models(a, b)
        assert compare_raw(a, c) == ([], 2) and compare_models(a, c) == ([], 1)
    assert {d.relation: (d.only_duckdb, d.only_snowflake) for d in raw} == {
        "ordway_raw.invoices": (1, 1),
        "ordway_raw.invoices__line_items": (1, 0),
    }
    assert {d.relation: (d.only_duckdb, d.only_snowflake) for d in models} == {
        "marts.fct_invoice_lines": (0, 1)
    }
