"""The plain publish functions (``pipelines/publish.py``) on real DuckDB files, a real reader
process, and the Snowflake emulator as far as it goes (fakesnow cannot parse ``SWAP WITH``)."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.config import ConfigError
from pipelines.publish import (
    PublishError,
    publish_duckdb,
    publish_snowflake,
    published_duckdb_path,
    swap_statement,
    wal_path,
)

MARTS = ("fct_money", "dim_things")

WORKING_DDL = """
CREATE SCHEMA ordway_raw;
CREATE TABLE ordway_raw.invoices AS SELECT 1 AS id;
CREATE SCHEMA marts;
CREATE TABLE marts.fct_money (
    month DATE, customer_id VARCHAR, amount DECIMAL(38, 10), ratio DOUBLE,
    closed BOOLEAN, seen_at TIMESTAMP WITH TIME ZONE, n BIGINT, tags VARCHAR[]
);
CREATE TABLE marts.dim_things (thing_id VARCHAR, price DECIMAL(18, 2));
"""


def make_working(path: Path, version: int) -> None:
    """A working warehouse whose marts carry ``version`` in every row (so two versions differ
    in every table)."""
    with duckdb.connect(str(path)) as con:
        if not _has_marts(con):
            con.execute(WORKING_DDL)
        con.execute("DELETE FROM marts.fct_money")
        con.execute("DELETE FROM marts.dim_things")
        con.execute(
            "INSERT INTO marts.fct_money VALUES "
            "(DATE '2026-01-01', 'C-1', 1234.5678901234, 0.25, true, "
            "TIMESTAMPTZ '2026-01-31 23:59:59+00', ?, ['a', 'b']), "
            "(DATE '2026-02-01', 'C-2', -0.0000000001, NULL, NULL, NULL, ?, NULL), "
            "(DATE '2026-02-01', 'C-2', -0.0000000001, NULL, NULL, NULL, ?, NULL)",
            [version, version, version],
        )
        con.execute(
            "INSERT INTO marts.dim_things SELECT 'T-' || i, i * 1.25 + ? FROM range(?) t(i)",
            [version, 10 + version],
        )


def _has_marts(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'marts'").fetchone()[
            0
        ]
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def column_types(path: Path, schema: str, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()


def rows_differing(left: Path, right: Path, table: str) -> tuple[int, int]:
    """Rows only in ``left`` and only in ``right`` (EXCEPT ALL both ways)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        a, b = f"l.marts.{table}", f"r.marts.{table}"
        only_left = con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchone()
        only_right = con.execute(f"SELECT count(*) FROM (FROM {b} EXCEPT ALL FROM {a})").fetchone()
    return only_left[0], only_right[0]


@pytest.fixture
def working(tmp_path: Path) -> Path:
    path = tmp_path / "ordway.duckdb"
    make_working(path, 1)
    return path


# ------------------------------------------------------------------------------ DuckDB


def test_publishing_copies_every_mart_with_the_same_rows_and_exact_column_types(
    working: Path, tmp_path: Path
) -> None:
    published = tmp_path / "ordway_marts.duckdb"
    publication = publish_duckdb(working, published, MARTS)
    assert publication.location == str(published)
    assert dict(publication.rows) == {"fct_money": 3, "dim_things": 11}
    for table in MARTS:
        assert rows_differing(working, published, table) == (0, 0), table
        assert column_types(published, "marts", table) == column_types(working, "marts", table)
    assert ("amount", "DECIMAL(38,10)") in column_types(published, "marts", "fct_money")
    with duckdb.connect(str(published), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
    assert tables == [("marts", "dim_things"), ("marts", "fct_money")]  # no raw, nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ordway.duckdb", "ordway_marts.duckdb"]


def test_a_missing_mart_fails_naming_it_and_leaves_the_published_file_byte_identical(
    working: Path, tmp_path: Path
) -> None:
    published = tmp_path / "ordway_marts.duckdb"
    publish_duckdb(working, published, MARTS)
    before = sha256(published)
    make_working(working, 2)
    with pytest.raises(PublishError, match=r"marts\.fct_gone") as failure:
        publish_duckdb(working, published, (*MARTS, "fct_gone"))
    assert str(published) in str(failure.value)
    assert sha256(published) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ordway.duckdb", "ordway_marts.duckdb"]


def test_a_stale_write_ahead_log_next_to_the_published_file_stops_the_publish(
    working: Path, tmp_path: Path
) -> None:
    """DuckDB refuses to open a file whose .wal belongs to another file ("WAL does not match
    database file"), so renaming a new file under someone's write-ahead log would lock every
    reader out: the publish stops, naming the log, and the published file stays."""
    published = tmp_path / "ordway_marts.duckdb"
    publish_duckdb(working, published, MARTS)
    before = sha256(published)
    wal_path(published).write_bytes(b"left by a read-write connection")
    with pytest.raises(PublishError, match=r"ordway_marts\.duckdb\.wal exists.*read_only=True"):
        publish_duckdb(working, published, MARTS)
    assert sha256(published) == before


def test_files_left_by_a_crashed_publish_are_removed_by_the_next_one(
    working: Path, tmp_path: Path
) -> None:
    published = tmp_path / "ordway_marts.duckdb"
    leftovers = [
        tmp_path / "ordway_marts.duckdb.publishing-0123",
        tmp_path / "ordway_marts.duckdb.publishing-0123.wal",
    ]
    for path in leftovers:
        path.write_bytes(b"half-written")
    publish_duckdb(working, published, MARTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ordway.duckdb", "ordway_marts.duckdb"]


READER = """
import duckdb, sys
path, tables = sys.argv[1], sys.argv[2].split(",")

def fingerprint(con):
    return ";".join(
        f"{t}:" + str(con.execute(f"SELECT count(*), sum(hash(x)) FROM marts.{t} x").fetchone())
        for t in tables
    )

held = duckdb.connect(path, read_only=True)
print(fingerprint(held), flush=True)
sys.stdin.readline()  # the test publishes meanwhile
print(fingerprint(held), flush=True)
# DuckDB shares one database instance per path within a process: a new connection opened while
# `held` is open would still be the old file. Once the process's last connection is closed, the
# next one opens the file now at the path.
held.close()
with duckdb.connect(path, read_only=True) as fresh:
    print(fingerprint(fresh), flush=True)
"""


@contextlib.contextmanager
def reader(published: Path, tables: Sequence[str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), ",".join(tables)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_a_reader_holding_the_published_file_keeps_the_old_marts_and_never_blocks_the_publish(
    working: Path, tmp_path: Path
) -> None:
    published = tmp_path / "ordway_marts.duckdb"
    publish_duckdb(working, published, MARTS)
    with reader(published, MARTS) as process:
        assert process.stdout is not None and process.stdin is not None
        old = process.stdout.readline().strip()
        assert old.startswith("fct_money:(3, "), process.stderr.read() if process.stderr else ""
        make_working(working, 2)
        publish_duckdb(working, published, MARTS)  # while the reader is connected
        process.stdin.write("go\n")
        process.stdin.flush()
        held_after = process.stdout.readline().strip()
        fresh = process.stdout.readline().strip()
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    assert held_after == old  # the open connection keeps one consistent old snapshot
    assert fresh != old
    for old_table, new_table in zip(old.split(";"), fresh.split(";"), strict=True):
        assert old_table != new_table  # every mart changed between the versions
    assert fresh.startswith("fct_money:(3, ") and "dim_things:(12, " in fresh
    for table in MARTS:
        assert rows_differing(working, published, table) == (0, 0)


# ----------------------------------------------------------------------------- setting


def test_the_published_file_defaults_to_a_sibling_of_the_working_file(tmp_path: Path) -> None:
    assert (
        published_duckdb_path(tmp_path / "ordway.duckdb", {})
        == (tmp_path / "ordway_marts.duckdb").resolve()
    )
    explicit = {"DUCKDB_PUBLISHED_PATH": str(tmp_path / "bi" / "finance.duckdb")}
    assert published_duckdb_path(tmp_path / "ordway.duckdb", explicit) == (
        tmp_path / "bi" / "finance.duckdb"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{dir}/ordway.duckdb", "is DUCKDB_PATH itself"),
        ("{dir}", "is a directory"),
        ("{dir}/ordway_marts.duckdb.wal", "side file"),
    ],
)
def test_a_published_path_that_cannot_work_is_refused_naming_the_variable(
    tmp_path: Path, value: str, message: str
) -> None:
    env = {"DUCKDB_PUBLISHED_PATH": value.format(dir=tmp_path)}
    with pytest.raises(ConfigError, match=rf"^DUCKDB_PUBLISHED_PATH=.*{message}"):
        published_duckdb_path(tmp_path / "ordway.duckdb", env)


# --------------------------------------------------------------------------- Snowflake


class Recorder:
    """Runs each statement on a cursor (or answers from ``canned``) and records it."""

    def __init__(self, cursor: Any = None, canned: dict[str, list[tuple[Any, ...]]] | None = None):
        self.cursor, self.canned = cursor, canned or {}
        self.statements: list[str] = []
        self.results: dict[str, list[tuple[Any, ...]]] = {}

    def __call__(self, sql: str) -> list[tuple[Any, ...]]:
        self.statements.append(sql)
        if self.cursor is not None:
            rows = self.cursor.execute(sql).fetchall()
        else:
            rows = next((r for p, r in self.canned.items() if sql.startswith(p)), [])
        self.results[sql] = rows
        return rows


def test_snowflake_publish_checks_the_build_counts_rows_then_swaps_once() -> None:
    execute = Recorder(
        canned={
            "SELECT table_name": [("FCT_MONEY",), ("DIM_THINGS",), ("OLD_MODEL",)],
            "SELECT COUNT(*) FROM ORDWAY.MARTS_BUILD.FCT_MONEY": [(3,)],
            "SELECT COUNT(*) FROM ORDWAY.MARTS_BUILD.DIM_THINGS": [(11,)],
            "SELECT COUNT(*) FROM ORDWAY.INFORMATION_SCHEMA.SCHEMATA": [(1,)],
        }
    )
    publication = publish_snowflake(execute, "ordway", MARTS)
    assert execute.statements[-1] == "ALTER SCHEMA ORDWAY.MARTS_BUILD SWAP WITH ORDWAY.MARTS"
    assert [s for s in execute.statements if not s.startswith("SELECT")] == [execute.statements[-1]]
    assert dict(publication.rows) == {"dim_things": 11, "fct_money": 3}
    assert publication.location == "ORDWAY.MARTS"
    assert publication.extra_tables == ("OLD_MODEL",)


def test_on_the_first_snowflake_publish_marts_is_created_empty_then_swapped_in() -> None:
    execute = Recorder(
        canned={
            "SELECT table_name": [("FCT_MONEY",), ("DIM_THINGS",)],
            "SELECT COUNT(*)": [(0,)],
        }
    )
    publish_snowflake(execute, "ORDWAY", MARTS)
    assert execute.statements[-2:] == [
        "CREATE SCHEMA IF NOT EXISTS ORDWAY.MARTS",
        swap_statement("ORDWAY", "MARTS_BUILD", "MARTS"),
    ]


def test_snowflake_publish_refuses_a_build_missing_a_mart_before_any_ddl() -> None:
    execute = Recorder(canned={"SELECT table_name": [("FCT_MONEY",)]})
    with pytest.raises(PublishError, match=r"ORDWAY\.MARTS_BUILD has no DIM_THINGS"):
        publish_snowflake(execute, "ORDWAY", MARTS)
    assert all(s.startswith("SELECT") for s in execute.statements)


def test_snowflake_names_must_be_plain_identifiers() -> None:
    with pytest.raises(PublishError, match="database 'ord-way'"):
        publish_snowflake(Recorder(), "ord-way", MARTS)
    with pytest.raises(PublishError, match="table 'x; drop'"):
        publish_snowflake(Recorder(), "ORDWAY", ["x; drop"])


@pytest.mark.snowflake
def test_on_the_emulator_every_statement_before_the_swap_runs_and_the_swap_is_not_supported() -> (
    None
):
    """fakesnow 0.12 cannot parse ``ALTER SCHEMA ... SWAP WITH`` (nor rename schemas), so the
    swap itself is not exercised here (README, Snowflake section). What runs on the emulator:
    the catalog queries, the row counts, the first-run CREATE SCHEMA; the failed swap is
    reported naming the statement."""
    fakesnow = pytest.importorskip("fakesnow")
    import snowflake.connector

    with fakesnow.patch(), contextlib.closing(snowflake.connector.connect()) as conn:
        cursor = conn.cursor()
        cursor.execute("CREATE DATABASE ORDWAY")
        cursor.execute("CREATE SCHEMA ORDWAY.MARTS_BUILD")
        cursor.execute("CREATE TABLE ORDWAY.MARTS_BUILD.FCT_MONEY (AMOUNT NUMBER(38,10))")
        cursor.execute("INSERT INTO ORDWAY.MARTS_BUILD.FCT_MONEY VALUES (1.5), (2.25), (NULL)")
        cursor.execute("CREATE TABLE ORDWAY.MARTS_BUILD.DIM_THINGS (THING_ID VARCHAR)")
        execute = Recorder(cursor)
        with pytest.raises(PublishError, match=r"^ALTER SCHEMA ORDWAY\.MARTS_BUILD SWAP WITH"):
            publish_snowflake(execute, "ORDWAY", MARTS)
        counts = {
            sql.rsplit(".", 1)[1]: rows[0][0]
            for sql, rows in execute.results.items()
            if sql.startswith("SELECT COUNT(*) FROM ORDWAY.MARTS_BUILD.")
        }
        schemas = cursor.execute("SELECT schema_name FROM ORDWAY.INFORMATION_SCHEMA.SCHEMATA")
        schemas = {row[0] for row in schemas.fetchall()}
    assert counts == {"DIM_THINGS": 0, "FCT_MONEY": 3}
    assert {"MARTS", "MARTS_BUILD"} <= schemas  # MARTS created for the first swap
