"""Publishing the marts: what BI reads changes only when a whole build passed its tests, all at
once, and never while it is half-written.

dbt builds and tests the marts where BI does not look (the *working* marts). Once every
error-level test and every blocking check has passed, the orchestrator calls one of these:

- DuckDB, ``publish_duckdb``: the working file (``DUCKDB_PATH``) holds raw, staging,
  intermediate and marts. Every mart is copied (``CREATE TABLE AS``, so column types stay exactly
  as dbt built them) into a *new* file next to the published one, which is checkpointed, synced
  and renamed over the published file with ``os.replace`` (atomic on POSIX). The published file
  (``DUCKDB_PUBLISHED_PATH``) is never opened by this code: a reader connected to it keeps the
  old file (its inode) and so a consistent old snapshot; a new connection opens the new file;
  nobody sees a mix of the two or a half-written file, and an open reader never blocks the
  night. Same schema and table names as the working file (``marts.<model>``). Where that file
  is: ``published_duckdb_path()`` (``pipelines/config/warehouse.py``, re-exported here for the
  readers of the published marts).
- Snowflake, ``publish_snowflake``: dbt builds the marts into ``MARTS_BUILD``
  (``generate_schema_name``), and publishing is ``ALTER SCHEMA <db>.MARTS_BUILD SWAP WITH
  <db>.MARTS``: one atomic rename of both schemas (grants travel with the schemas; see the
  README's Snowflake runbook).

No Dagster here: these are plain functions the Dagster asset (``assets/publish.py``) calls under
the warehouse lock.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config.warehouse import PUBLISHING_INFIX, published_duckdb_path
from pipelines.warehouse import MARTS_BUILD_SCHEMA, MARTS_SCHEMA

#: Schema of the marts in both DuckDB files (working and published).
DUCKDB_MARTS_SCHEMA = "marts"
#: Infix of the file being written before it is renamed over the published file.
STAGING_INFIX = PUBLISHING_INFIX
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class PublishError(RuntimeError):
    """Publishing failed; the published marts are unchanged. The message names what failed."""


@dataclass(frozen=True)
class Publication:
    """What was published: where (file path or ``<db>.<schema>``) and rows per table."""

    location: str
    rows: Mapping[str, int]
    #: Snowflake: tables in the build schema that are not marts of the project (published too,
    #: since the whole schema is swapped; drop them from MARTS_BUILD).
    extra_tables: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------------------- DuckDB


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def publish_duckdb(
    working: Path, published: Path, tables: Sequence[str], *, schema: str = DUCKDB_MARTS_SCHEMA
) -> Publication:
    """Copies ``schema.<table>`` for every table of ``working`` into a new file and renames it
    over ``published``. On any error the published file is untouched and the new file removed.
    """
    import duckdb

    working, published = working.resolve(), published.resolve()
    if not tables:
        raise PublishError("nothing to publish: no mart was given")
    if not working.is_file():
        raise PublishError(f"working warehouse {working} does not exist; nothing to publish")
    stale_wal = wal_path(published)
    if stale_wal.exists():
        raise PublishError(
            f"{stale_wal} exists: a process opened the published file for writing (or crashed "
            "while doing so). BI must connect with read_only=True. Close that process, delete "
            f"{stale_wal.name}, and rerun; {published} was not changed"
        )
    try:
        published.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create directory {published.parent} ({exc.strerror})") from None
    remove_leftovers(published)
    staging = published.with_name(f"{published.name}{STAGING_INFIX}{uuid.uuid4().hex}")
    try:
        with duckdb.connect(str(staging)) as con:
            con.execute(f"ATTACH {_sql_string(str(working))} AS working (READ_ONLY)")
            present = {
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'working' "
                    "AND schema_name = ? UNION ALL SELECT view_name FROM duckdb_views() "
                    "WHERE database_name = 'working' AND schema_name = ?",
                    [schema, schema],
                ).fetchall()
            }
            missing = sorted(set(tables) - present)
            if missing:
                raise PublishError(
                    f"{working} has no {schema}.{', '.join(missing)}: the build did not produce "
                    f"every mart; {published} was not changed"
                )
            con.execute(f'CREATE SCHEMA "{schema}"')
            rows: dict[str, int] = {}
            for table in sorted(tables):
                con.execute(
                    f'CREATE TABLE "{schema}"."{table}" AS '
                    f'SELECT * FROM working."{schema}"."{table}"'
                )
                rows[table] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[
                    0
                ]
            con.execute("DETACH working")
            con.execute("CHECKPOINT")
        if wal_path(staging).exists():
            raise PublishError(f"{staging.name} kept a write-ahead log after its checkpoint")
        _fsync(staging)
        os.replace(staging, published)
        _fsync(published.parent)
    except BaseException:
        remove_leftovers(published)
        raise
    return Publication(location=str(published), rows=rows)


def remove_leftovers(published: Path) -> list[Path]:
    """Deletes files a crashed publish left next to ``published`` (never the published file)."""
    removed = []
    for path in published.parent.glob(f"{published.name}{STAGING_INFIX}*"):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    """Flushes a file (or a directory entry, after a rename) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- Snowflake

#: Runs one SQL statement and returns its rows (empty for DDL).
Execute = Callable[[str], Sequence[Sequence[Any]]]


def _identifier(value: str, what: str) -> str:
    if not _IDENTIFIER.match(value):
        raise PublishError(f"{what} {value!r} is not a plain Snowflake identifier")
    return value.upper()


def swap_statement(database: str, build: str, published: str) -> str:
    """The atomic publish on Snowflake."""
    return f"ALTER SCHEMA {database}.{build} SWAP WITH {database}.{published}"


def publish_snowflake(
    execute: Execute,
    database: str,
    tables: Sequence[str],
    *,
    build_schema: str = MARTS_BUILD_SCHEMA,
    published_schema: str = MARTS_SCHEMA,
) -> Publication:
    """Checks that ``build_schema`` holds every mart, counts their rows, creates
    ``published_schema`` on the very first run (empty: the swap then moves the marts in), and
    swaps the two schemas. Every statement before the swap only reads, so a failure anywhere
    leaves what BI reads unchanged."""
    db = _identifier(database, "database")
    build = _identifier(build_schema, "build schema")
    published = _identifier(published_schema, "published schema")
    wanted = {_identifier(table, "table") for table in tables}
    if not wanted:
        raise PublishError("nothing to publish: no mart was given")
    present = {
        str(row[0]).upper()
        for row in execute(
            f"SELECT table_name FROM {db}.INFORMATION_SCHEMA.TABLES WHERE table_schema = '{build}'"
        )
    }
    missing = sorted(wanted - present)
    if missing:
        raise PublishError(
            f"{db}.{build} has no {', '.join(missing)}: the build did not produce every mart; "
            f"{db}.{published} was not changed"
        )
    rows = {
        table.lower(): int(execute(f"SELECT COUNT(*) FROM {db}.{build}.{table}")[0][0])
        for table in sorted(wanted)
    }
    exists = execute(
        f"SELECT COUNT(*) FROM {db}.INFORMATION_SCHEMA.SCHEMATA WHERE schema_name = '{published}'"
    )[0][0]
    if not exists:
        execute(f"CREATE SCHEMA IF NOT EXISTS {db}.{published}")
    statement = swap_statement(db, build, published)
    try:
        execute(statement)
    except Exception as exc:
        raise PublishError(
            f"{statement} failed ({type(exc).__name__}: {str(exc).splitlines()[0][:300]}); "
            f"{db}.{published} was not changed"
        ) from exc
    return Publication(
        location=f"{db}.{published}", rows=rows, extra_tables=tuple(sorted(present - wanted))
    )


__all__ = [
    "Publication",
    "PublishError",
    "publish_duckdb",
    "publish_snowflake",
    "published_duckdb_path",
    "remove_leftovers",
    "swap_statement",
    "wal_path",
]
