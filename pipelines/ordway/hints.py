"""dlt hints derived from the contract: the declared columns of every root and child table with
their one type (``contract.KIND_DATA_TYPES``), dlt's link columns on child tables, and the hints
of the two bookkeeping tables (``_ordway_deletions``, ``_ordway_company``)."""

from __future__ import annotations

from typing import Any

from pipelines.ordway.contract import KIND_DATA_TYPES, Collection, FieldTypes

#: invoices -> payments -> invoices is two levels deep; their objects (custom_fields) one more.
MAX_TABLE_NESTING = 3
MERGE = {"disposition": "merge", "strategy": "delete-insert"}

DELETIONS_COLUMNS: dict[str, Any] = {
    "collection": {"data_type": "text", "nullable": False},
    "id": {"data_type": "text", "nullable": False},
    "deleted_at": {"data_type": "timestamp", "nullable": True},
}
DELETIONS_HINTS = {
    "write_disposition": "merge",
    "primary_key": ["collection", "id"],
    "columns": DELETIONS_COLUMNS,
}
COMPANY_COLUMNS: dict[str, Any] = {
    "company_fingerprint": {"data_type": "text", "nullable": False},
    "api_host": {"data_type": "text", "nullable": False},
}

#: dlt's own columns on a nested (child) table, as its normalizer adds them; declared so an
#: empty child table can be created with them. Merge tables also carry `_dlt_root_id`.
_NESTED_COLUMNS: dict[str, dict[str, Any]] = {
    "_dlt_parent_id": {"data_type": "text", "nullable": False, "parent_key": True},
    "_dlt_list_idx": {"data_type": "bigint", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False, "unique": True, "row_key": True},
}
_ROOT_KEY_COLUMN: dict[str, dict[str, Any]] = {
    "_dlt_root_id": {"data_type": "text", "nullable": False, "root_key": True},
}


def column_hints(types: FieldTypes) -> dict[str, dict[str, Any]]:
    """The declared columns of one table (dotted object fields become ``a__b`` columns)."""
    columns: dict[str, dict[str, Any]] = {}
    for kind, data_type in KIND_DATA_TYPES.items():
        for name in sorted(getattr(types, kind)):
            column = name.replace(".", "__")
            columns[column] = {"name": column, **data_type, "nullable": True}
    return columns


def resource_columns(collection: Collection) -> dict[str, dict[str, Any]]:
    """The root table's columns; an incremental collection's cursor (``updated_date``) also
    decides which duplicate of an id within one extract is kept (the latest)."""
    columns = column_hints(collection.tables.get((), FieldTypes()))
    cursor = collection.cursor_field
    if cursor:
        columns.setdefault(cursor, {"name": cursor, "data_type": "timestamp"})
        columns[cursor] = {**columns[cursor], "dedup_sort": "desc"}
    return columns


def nested_hints(collection: Collection) -> dict[tuple[str, ...], dict[str, Any]]:
    """The child tables' columns, with dlt's link columns, by path."""
    link = {**_NESTED_COLUMNS, **(_ROOT_KEY_COLUMN if collection.incremental else {})}
    link_columns = {name: {"name": name, **column} for name, column in link.items()}
    return {
        path: {"columns": {**column_hints(types), **link_columns}}
        for path, types in collection.tables.items()
        if path
    }


__all__ = [
    "COMPANY_COLUMNS",
    "DELETIONS_COLUMNS",
    "DELETIONS_HINTS",
    "MAX_TABLE_NESTING",
    "MERGE",
    "column_hints",
    "nested_hints",
    "resource_columns",
]
