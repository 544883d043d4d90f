"""The published marts: asset ``["published", "marts"]``, what BI reads.

It depends on every mart (every dbt model under ``dbt_project/models/marts/``), so Dagster runs
it only after the dbt step succeeded, which it does only when every error-level dbt test passed
(a failed test fails ``dbt build`` and so the step, and this asset is skipped), and after every
*blocking* asset check on a mart passed (Dagster does not materialize the downstream asset of a
failed blocking check). It then replaces all the marts BI reads at once
(``pipelines/publish.py``): on DuckDB a new file renamed over ``DUCKDB_PUBLISHED_PATH``, on
Snowflake ``ALTER SCHEMA MARTS_BUILD SWAP WITH MARTS``. When it does not run, or fails,
yesterday's published marts stay as they were.

Materialization metadata: where it was published, the tables with their row counts and the
as-of date of the figures.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.dbt_cli import dbt_vars
from assets.locking import warehouse_lock
from assets.metadata import markdown_table
from assets.names import WAREHOUSE_POOL
from assets.warehouse import snowflake_sql_client
from pipelines.config import Warehouse, duckdb_path, published_duckdb_path, warehouse_kind
from pipelines.publish import Publication, publish_duckdb, publish_snowflake

PUBLISHED_MARTS_KEY = AssetKey(["published", "marts"])
PUBLISHED_GROUP = "published"


def mart_keys(dbt_assets: AssetsDefinition) -> list[AssetKey]:
    """Every mart the dbt project builds (keys ``["marts", <model>]``), sorted."""
    return sorted(
        (key for key in dbt_assets.keys if key.path[0] == "marts"),
        key=lambda key: key.to_user_string(),
    )


def publish_marts(tables: list[str]) -> Publication:
    """Publishes ``tables`` from the working marts on the configured warehouse (no lock here:
    the caller holds it)."""
    if warehouse_kind() == "duckdb":
        return publish_duckdb(duckdb_path(), published_duckdb_path(), tables)
    from pipelines.config import snowflake_settings_from_env

    database = snowflake_settings_from_env().database
    with snowflake_sql_client() as client:
        return publish_snowflake(lambda sql: client.execute_sql(sql) or [], database, tables)


def as_of_date(run_started_at: float | None) -> str:
    """The as-of date of the figures: ``AS_OF_DATE``, else dbt's default, the UTC date on which
    the run started (dbt takes the date at its own start, minutes later: the two differ only for
    a run started just before midnight UTC)."""
    explicit = dbt_vars().get("as_of_date")
    if explicit:
        return explicit
    moment = datetime.fromtimestamp(run_started_at, UTC) if run_started_at else datetime.now(UTC)
    return moment.date().isoformat()


def build_published_marts(marts: Sequence[AssetKey], warehouse: Warehouse) -> AssetsDefinition:
    """``published/marts`` after every mart of ``marts`` (``mart_keys(dbt_assets)``)."""

    @asset(
        key=PUBLISHED_MARTS_KEY,
        deps=marts,
        group_name=PUBLISHED_GROUP,
        kinds={warehouse},
        pool=WAREHOUSE_POOL,
        description=(
            "The marts BI reads, replaced all together and atomically once dbt build (every "
            "error-level test) and every blocking check on the marts passed. DuckDB: the file "
            "DUCKDB_PUBLISHED_PATH (default <DUCKDB_PATH stem>_marts.duckdb), schema marts. "
            "Snowflake: schema MARTS (swapped with MARTS_BUILD, where dbt builds)."
        ),
    )
    def published_marts(context: AssetExecutionContext) -> MaterializeResult:
        tables = [key.path[-1] for key in marts]
        with warehouse_lock():
            publication = publish_marts(tables)
        record = context.instance.get_run_record_by_id(context.run_id)
        as_of = as_of_date(record.start_time if record else None)
        rows = dict(sorted(publication.rows.items()))
        if publication.extra_tables:
            context.log.warning(
                f"{publication.location} also holds {', '.join(publication.extra_tables)}, which "
                "no mart of the project builds; drop them from the build schema."
            )
        context.log.info(
            f"Published {len(rows)} marts ({sum(rows.values()):,} rows) to {publication.location}, "
            f"as of {as_of}."
        )
        metadata = {
            "published_to": (
                MetadataValue.path(publication.location)
                if warehouse == "duckdb"
                else MetadataValue.text(publication.location)
            ),
            "as_of_date": as_of,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables_published": len(rows),
            "rows_published": sum(rows.values()),
            "rows_by_table": MetadataValue.md(
                markdown_table(
                    [{"table": t, "rows": n} for t, n in rows.items()], ("table", "rows")
                )
            ),
            "rows_by_table_json": MetadataValue.json(rows),
        }
        if publication.extra_tables:
            metadata["extra_tables"] = ", ".join(publication.extra_tables)
        return MaterializeResult(metadata=metadata)

    return published_marts


__all__ = [
    "PUBLISHED_MARTS_KEY",
    "build_published_marts",
    "mart_keys",
    "publish_marts",
]
