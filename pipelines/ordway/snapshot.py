"""What the warehouse held before a run (``WarehouseSnapshot``): read once by ``run_extract``
before it extracts, used by the resources to skip records already loaded unchanged and to write
the tombstones of ``_ordway_deletions``. Also the row counts the progress estimates start from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from pipelines.ordway.contract import COLLECTIONS, DELETIONS_TABLE


@dataclass
class WarehouseSnapshot:
    """What the warehouse held before this run.

    `known_ids[c]`: ids currently in table `c` (delete detection); `tombstoned[c]`: ids with an
    open tombstone; `loaded_versions[c]`: `{id: updated_date}` of the rows near the cursor, so an
    incremental run can skip records re-read through the lookback that are already loaded
    unchanged (same id and same `updated_date`).
    """

    known_ids: Mapping[str, set[str]] = field(default_factory=dict)
    tombstoned: Mapping[str, set[str]] = field(default_factory=dict)
    loaded_versions: Mapping[str, Mapping[str, datetime]] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def sightings(self, collection: str) -> Sightings:
        """A tally of the ids a run serves for `collection` (see `Sightings`)."""
        return Sightings(
            self.known_ids.get(collection, set()), self.tombstoned.get(collection, set())
        )

    def tombstone_rows(
        self, collection: str, seen: set[str], detect_deletes: bool
    ) -> list[dict[str, Any]]:
        """Rows for ``_ordway_deletions``: an open tombstone is closed (``deleted_at`` null) for
        every id seen again; with ``detect_deletes`` (a complete listing), every known id the
        listing did not serve gets one, stamped ``now``."""
        open_tombstones = self.tombstoned.get(collection, set())
        rows = [
            {"collection": collection, "id": record_id, "deleted_at": None}
            for record_id in sorted(seen & open_tombstones)
        ]
        if detect_deletes:
            missing = self.known_ids.get(collection, set()) - seen - open_tombstones
            rows += [
                {"collection": collection, "id": record_id, "deleted_at": self.now}
                for record_id in sorted(missing)
            ]
        return rows


class Sightings:
    """The records a run serves for one collection: how many, and the ids among them that the
    tombstones depend on (`ids`: those the warehouse holds or has tombstoned; any other id
    changes neither `seen & tombstoned` nor `known - seen`). Memory then follows the
    warehouse's ids, not the listing's: a first full load keeps none."""

    def __init__(self, known: set[str], tombstoned: set[str]) -> None:
        self._known = known
        self._tombstoned = tombstoned
        self.ids: set[str] = set()
        self.count = 0

    def saw(self, record_id: str) -> None:
        self.count += 1
        if record_id in self._known or record_id in self._tombstoned:
            self.ids.add(record_id)


def read_warehouse_snapshot(
    pipeline: dlt.Pipeline,
    collections: Sequence[str],
    lookback_seconds: float,
    with_ids: bool = True,
) -> WarehouseSnapshot:
    """Per incremental collection: ids in the warehouse (only `with_ids`: the modes that detect
    deletes need them, and reading every id costs time in proportion to the history), open
    tombstones, and the `{id: updated_date}` of rows within the lookback of the table's newest
    `updated_date`."""
    known: dict[str, set[str]] = {}
    tombstoned: dict[str, set[str]] = {}
    versions: dict[str, dict[str, datetime]] = {}
    try:
        with pipeline.sql_client() as client:
            for name in collections:
                collection = COLLECTIONS[name]
                if not collection.incremental:
                    continue
                table = client.make_qualified_table_name(name)
                if with_ids:
                    rows = query(client, f"SELECT {collection.primary_key} FROM {table}")
                    known[name] = {str(row[0]) for row in rows}
                if collection.cursor_field is None:  # per customer: no versions to compare
                    continue
                newest_rows = query(client, f"SELECT max(updated_date) FROM {table}")
                newest = newest_rows[0][0] if newest_rows else None
                if newest is None:
                    continue
                since = newest - timedelta(seconds=lookback_seconds)
                rows = query(
                    client,
                    f"SELECT id, updated_date FROM {table} WHERE updated_date >= %s",
                    since,
                )
                versions[name] = {str(row[0]): _utc(row[1]) for row in rows}
            table = client.make_qualified_table_name(DELETIONS_TABLE)
            rows = query(client, f"SELECT collection, id FROM {table} WHERE deleted_at IS NOT NULL")
            for collection_name, record_id in rows:
                tombstoned.setdefault(collection_name, set()).add(record_id)
    except DatabaseUndefinedRelation:
        pass  # the dataset does not exist yet: first run
    return WarehouseSnapshot(known_ids=known, tombstoned=tombstoned, loaded_versions=versions)


def table_row_counts(pipeline: dlt.Pipeline, tables: Sequence[str]) -> dict[str, int]:
    """Rows each table of the dataset holds now (0 for a table that does not exist yet)."""
    counts = dict.fromkeys(tables, 0)
    if not tables:
        return counts
    try:
        with pipeline.sql_client() as client:
            for table in tables:
                rows = query(
                    client, f"SELECT count(*) FROM {client.make_qualified_table_name(table)}"
                )
                counts[table] = int(rows[0][0]) if rows else 0
    except DatabaseUndefinedRelation:
        pass  # the dataset does not exist yet: first run
    return counts


def query(client: Any, sql: str, *args: Any) -> list[Any]:
    """Rows of one statement through dlt's sql_client; none when the relation is missing."""
    try:
        return list(client.execute_sql(sql, *args) or [])
    except DatabaseUndefinedRelation:
        return []


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["Sightings", "WarehouseSnapshot", "query", "read_warehouse_snapshot", "table_row_counts"]
