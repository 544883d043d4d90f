"""Metadata of the dbt assets, read from the warehouse once ``dbt build`` has finished, and
``markdown_table`` for every markdown table in asset and check metadata.

- Every model: ``dagster/column_schema`` (column names and types) and, for tables,
  ``dagster/row_count``. dagster-dbt's ``fetch_row_counts()`` / ``fetch_column_metadata()``
  query through the dbt adapter *while* dbt runs; on DuckDB the dbt process holds the file, so
  those queries cannot open it. Reading after dbt exits, under the same warehouse lock, works on
  both warehouses and costs one query counting every table.
- Headline figures, as plain numbers so the UI plots them run after run:
  ``fct_arr_movements``: ``closing_arr_<reporting currency>`` (the newest month's closing ARR);
  ``fct_revenue_monthly``: ``recognized_revenue_last_closed_month_<reporting currency>`` (the
  month before the as-of month); ``fct_deferred_revenue``: ``closing_deferred_<currency>`` per
  document currency (the mart has no reporting-currency column; currencies are never summed);
  ``fct_ar_aging``: ``open_ar_<currency>`` per document currency and ``open_invoices``.
  Each comes with the month or date it describes. The floats are for the trend plots; the
  marts hold the exact decimals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dagster import AssetKey, MetadataValue, TableColumn, TableSchema

from assets.dbt_cli import dbt_vars
from assets.warehouse import query, working_marts_schema

#: dbt_project.yml's default of the reporting_currency var (REPORTING_CURRENCY overrides it).
DEFAULT_REPORTING_CURRENCY = "USD"
DBT_SCHEMAS = ("staging", "intermediate", "marts")

ARR_MOVEMENTS = AssetKey(["marts", "fct_arr_movements"])
REVENUE_MONTHLY = AssetKey(["marts", "fct_revenue_monthly"])
DEFERRED_REVENUE = AssetKey(["marts", "fct_deferred_revenue"])
AR_AGING = AssetKey(["marts", "fct_ar_aging"])
HEADLINE_ASSETS = (ARR_MOVEMENTS, REVENUE_MONTHLY, DEFERRED_REVENUE, AR_AGING)


def as_of_date() -> date:
    """dbt's as_of_date: AS_OF_DATE, else today (UTC), as the dbt macro does."""
    value = dbt_vars().get("as_of_date")
    return date.fromisoformat(value) if value else datetime.now(UTC).date()


def reporting_currency() -> str:
    return dbt_vars().get("reporting_currency", DEFAULT_REPORTING_CURRENCY)


def last_closed_month(as_of: date) -> date:
    """The first day of the month before the as-of month."""
    return date(as_of.year - 1, 12, 1) if as_of.month == 1 else date(as_of.year, as_of.month - 1, 1)


def _number(value: Any) -> MetadataValue:
    return MetadataValue.float(float(Decimal(str(value if value is not None else 0))))


def headline_metadata(key: AssetKey) -> dict[str, Any]:
    """The headline figures of one mart (empty for any other asset), read from the working marts
    dbt just built (`marts`, or `marts_build` on Snowflake)."""
    currency = reporting_currency()
    marts = working_marts_schema()
    if key == ARR_MOVEMENTS:
        rows = query(
            f"SELECT month, closing_arr FROM {marts}.fct_arr_movements ORDER BY month DESC LIMIT 1"
        )
        if not rows:
            return {}
        return {
            f"closing_arr_{currency}": _number(rows[0]["closing_arr"]),
            "closing_arr_month": str(rows[0]["month"]),
        }
    if key == REVENUE_MONTHLY:
        month = last_closed_month(as_of_date())
        rows = query(
            f"SELECT sum(recognized_revenue_reporting) AS revenue FROM {marts}.fct_revenue_monthly "
            "WHERE month = ?",
            [month],
        )
        return {
            f"recognized_revenue_last_closed_month_{currency}": _number(rows[0]["revenue"]),
            "last_closed_month": month.isoformat(),
        }
    if key == DEFERRED_REVENUE:
        rows = query(
            "SELECT month, currency, sum(closing_deferred) AS deferred "
            f"FROM {marts}.fct_deferred_revenue "
            f"WHERE month = (SELECT max(month) FROM {marts}.fct_deferred_revenue) "
            "GROUP BY month, currency ORDER BY currency"
        )
        result: dict[str, Any] = {
            f"closing_deferred_{row['currency']}": _number(row["deferred"]) for row in rows
        }
        if rows:
            result["closing_deferred_month"] = str(rows[0]["month"])
        return result
    if key == AR_AGING:
        rows = query(
            "SELECT currency, sum(balance) AS balance, count(*) AS invoices "
            f"FROM {marts}.fct_ar_aging GROUP BY currency ORDER BY currency"
        )
        result = {f"open_ar_{row['currency']}": _number(row["balance"]) for row in rows}
        result["open_invoices"] = MetadataValue.int(sum(int(row["invoices"]) for row in rows))
        result["open_ar_as_of"] = as_of_date().isoformat()
        return result
    return {}


def table_metadata(keys: Iterable[AssetKey]) -> dict[AssetKey, dict[str, Any]]:
    """``dagster/column_schema`` of every model in ``keys`` and ``dagster/row_count`` of the
    tables among them (views are not counted: that would run their query)."""
    # where each schema's models are built (Snowflake: the marts in marts_build)
    physical = {schema: schema for schema in DBT_SCHEMAS} | {"marts": working_marts_schema()}
    wanted = {
        (physical[key.path[0]], key.path[-1]): key
        for key in keys
        if len(key.path) == 2 and key.path[0] in DBT_SCHEMAS
    }
    if not wanted:
        return {}
    placeholders = ", ".join("?" for _ in DBT_SCHEMAS)
    columns: dict[tuple[str, str], list[TableColumn]] = defaultdict(list)
    for row in query(
        "SELECT lower(table_schema) AS s, lower(table_name) AS t, lower(column_name) AS c, "
        "data_type AS d FROM information_schema.columns "
        f"WHERE lower(table_schema) IN ({placeholders}) ORDER BY 1, 2, ordinal_position",
        list(physical.values()),
    ):
        if (row["s"], row["t"]) in wanted:
            columns[(row["s"], row["t"])].append(TableColumn(row["c"], str(row["d"]).lower()))
    kinds = {
        (row["s"], row["t"]): str(row["k"]).upper()
        for row in query(
            "SELECT lower(table_schema) AS s, lower(table_name) AS t, table_type AS k "
            f"FROM information_schema.tables WHERE lower(table_schema) IN ({placeholders})",
            list(physical.values()),
        )
    }
    counts = _row_counts([r for r in wanted if kinds.get(r) == "BASE TABLE"])
    result: dict[AssetKey, dict[str, Any]] = {}
    for relation, key in wanted.items():
        metadata: dict[str, Any] = {}
        if columns.get(relation):
            metadata["dagster/column_schema"] = MetadataValue.table_schema(
                TableSchema(columns=columns[relation])
            )
        if relation in counts:
            metadata["dagster/row_count"] = MetadataValue.int(counts[relation])
        result[key] = metadata
    return result


def _row_counts(relations: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``count(*)`` of each table, in one query (one connection, one round trip)."""
    if not relations:
        return {}
    union = " UNION ALL ".join(
        f"SELECT {i} AS i, count(*) AS n FROM {schema}.{table}"
        for i, (schema, table) in enumerate(relations)
    )
    return {relations[int(row["i"])]: int(row["n"]) for row in query(union)}


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A small markdown table for asset metadata (None shown as empty)."""
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = [
        "| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in columns) + " |"
        for row in rows
    ]
    return "\n".join([header, rule, *body])


def dbt_asset_metadata(keys: Iterable[AssetKey]) -> Mapping[AssetKey, dict[str, Any]]:
    """Column schema, row count and, on the four marts, the headline figures."""
    keys = list(keys)
    result = table_metadata(keys)
    for key in keys:
        if key in HEADLINE_ASSETS:
            result.setdefault(key, {}).update(headline_metadata(key))
    return result


__all__ = [
    "HEADLINE_ASSETS",
    "as_of_date",
    "dbt_asset_metadata",
    "headline_metadata",
    "last_closed_month",
    "markdown_table",
    "table_metadata",
]
