"""Reading the warehouse from checks, sensors and metadata: ``query()`` (read-only; the working
file or, with ``published=True``, what BI reads), where dbt builds the marts
(``working_marts_schema()``), and the DuckDB path dbt must be given (absolute)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.config import duckdb_path, pipelines_dir, published_duckdb_path, warehouse_kind
from pipelines.ordway.contract import DATASET_NAME, PIPELINE_NAME
from pipelines.warehouse import MARTS_BUILD_SCHEMA


class WarehouseUnavailableError(RuntimeError):
    """The warehouse cannot be read (file missing, relation missing); names what is missing."""


@contextmanager
def absolute_duckdb_path() -> Iterator[Path]:
    """Sets DUCKDB_PATH to its absolute form for the block (dbt subprocesses inherit it; dbt
    runs from dbt_project/, where a relative path would point elsewhere)."""
    previous = os.environ.get("DUCKDB_PATH")
    path = duckdb_path()
    os.environ["DUCKDB_PATH"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("DUCKDB_PATH", None)
        else:
            os.environ["DUCKDB_PATH"] = previous


def working_marts_schema() -> str:
    """Where dbt builds and tests the marts before they are published: schema ``marts`` of the
    working DuckDB file, or ``MARTS_BUILD`` on Snowflake. Checks that audit a build read this."""
    return MARTS_BUILD_SCHEMA.lower() if warehouse_kind() == "snowflake" else "marts"


def query(sql: str, params: Sequence[Any] = (), *, published: bool = False) -> list[dict[str, Any]]:
    """Runs one read-only query and returns rows as dicts (column names lowercased).

    DuckDB: a read-only connection to DUCKDB_PATH, or with ``published=True`` to the published
    file BI reads (``published_duckdb_path()``). Snowflake: the dlt pipeline's sql_client with
    the project's SNOWFLAKE_* settings; there ``marts.<table>`` is the published schema and
    ``working_marts_schema()`` the build. Tables are named ``<schema>.<table>`` (``ordway_raw``,
    ``marts``); parameters use ``?`` placeholders. Callers that read the working file and may
    overlap a writer hold ``warehouse_lock()`` around it; the published file is never written in
    place, so its readers need no lock.
    """
    if warehouse_kind() == "duckdb":
        import duckdb

        path = published_duckdb_path() if published else duckdb_path()
        if not path.exists():
            what = "published marts file" if published else "DuckDB warehouse"
            raise WarehouseUnavailableError(
                f"{what} {path} does not exist yet; run the nightly job first"
            )
        with duckdb.connect(str(path), read_only=True) as connection:
            try:
                cursor = connection.execute(sql, list(params))
            except duckdb.CatalogException as exc:
                raise WarehouseUnavailableError(f"{path}: {exc}".splitlines()[0]) from None
            columns = [d[0].lower() for d in cursor.description or []]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    with (
        snowflake_sql_client() as client,
        client.execute_query(sql.replace("?", "%s"), *params) as cursor,
    ):
        columns = [d[0].lower() for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def snowflake_sql_client() -> Iterator[Any]:
    """dlt's Snowflake sql_client for the project's validated SNOWFLAKE_* settings."""
    import dlt

    from pipelines.config import snowflake_settings_from_env
    from pipelines.warehouse import dlt_snowflake_destination

    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt_snowflake_destination(snowflake_settings_from_env()),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(pipelines_dir()),
    )
    with pipeline.sql_client() as client:
        yield client


__all__ = [
    "WarehouseUnavailableError",
    "absolute_duckdb_path",
    "query",
    "snowflake_sql_client",
    "working_marts_schema",
]
