"""The `ordway` dlt source: one resource per Ordway collection, plus the tombstone table.

Incremental collections use `dlt.sources.incremental("updated_date")` with a lookback (`lag`),
ask the API for `updated_date>` = the lag-adjusted cursor start, and merge on `id`
(delete-insert, duplicates within one extract keep the latest `updated_date`). Full-refresh
collections are replaced atomically. Records are typed before dlt sees them: money becomes
`Decimal`, dates/timestamps/numbers/booleans are parsed and `""`/`"-"` become null; a value that
cannot be coerced stops the run with `RecordTypeError` before anything is loaded.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import dlt
from dlt.extract.resource import DltResource

from pipelines.ordway.client import OrdwayAPIError, OrdwayClient, OrdwayError
from pipelines.ordway.settings import (
    COLLECTIONS,
    DELETIONS_TABLE,
    FILTER_TIMESTAMP_FORMAT,
    FULL_REFRESH_COLLECTIONS,
    INCREMENTAL_COLLECTIONS,
    MONEY_PRECISION,
    MONEY_SCALE,
    SOURCE_NAME,
    ChildPath,
    Collection,
    FieldTypes,
    Mode,
    OrdwaySettings,
)

logger = logging.getLogger(__name__)

NULL_MARKERS = ("", "-")
#: invoices -> payments -> invoices is two levels deep; their objects (custom_fields) one more.
MAX_TABLE_NESTING = 3
MERGE = {"disposition": "merge", "strategy": "delete-insert"}
#: How often an incremental listing is read again when records moved while it was read.
MAX_LISTINGS = 3

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


class RecordTypeError(OrdwayError):
    """A field value could not be coerced to its declared type."""

    def __init__(self, collection: str, record_id: Any, field_path: str, value: Any, kind: str):
        self.collection = collection
        self.record_id = record_id
        self.field_path = field_path
        super().__init__(
            f"Cannot load {collection} record id={record_id!s}: field {field_path!r} expected "
            f"{kind}, got a {type(value).__name__} value that is not one"
        )


# ---------------------------------------------------------------------------- type coercion


class _Bad(Exception):
    pass


def _to_money(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise _Bad from None
    else:
        raise _Bad
    exponent = result.as_tuple().exponent
    if not result.is_finite() or (isinstance(exponent, int) and -exponent > MONEY_SCALE):
        raise _Bad
    return result


def _to_date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _Bad
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad from None


def _to_timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or "T" not in value:
        raise _Bad
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad from None
    if parsed.tzinfo is None:
        raise _Bad
    return parsed.astimezone(UTC)


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Bad from None
    raise _Bad


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise _Bad from None
    raise _Bad


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Bad


_CONVERTERS = (
    ("money", _to_money, "a decimal amount"),
    ("dates", _to_date, "a date YYYY-MM-DD"),
    ("timestamps", _to_timestamp, "a timestamp with time zone"),
    ("numbers", _to_number, "a number"),
    ("integers", _to_integer, "an integer"),
    ("booleans", _to_boolean, "a boolean"),
)


@functools.cache
def _plan(types: FieldTypes) -> tuple[tuple[str, tuple[str, ...], str, Any, str], ...]:
    """The typed fields of a table as (name, parent keys, leaf key, converter, kind), worked
    out once per table instead of once per row."""
    plan = []
    for attr, convert, kind in _CONVERTERS:
        for name in getattr(types, attr):
            *parents, leaf = name.split(".")
            plan.append((name, tuple(parents), leaf, convert, kind))
    return tuple(plan)


def _coerce_fields(
    row: dict[str, Any], types: FieldTypes, collection: str, record_id: Any, prefix: str
) -> None:
    for name, parents, leaf, convert, kind in _plan(types):
        container: Any = row
        for parent in parents:
            container = container.get(parent) if isinstance(container, dict) else None
        if not isinstance(container, dict) or leaf not in container:
            continue
        value = container[leaf]
        if value is None or (isinstance(value, str) and value.strip() in NULL_MARKERS):
            container[leaf] = None
            continue
        try:
            container[leaf] = convert(value)
        except _Bad:
            raise RecordTypeError(collection, record_id, prefix + name, value, kind) from None


def coerce_record(collection: Collection, record: dict[str, Any]) -> dict[str, Any]:
    """Types one raw record in place (root and child tables) and returns it."""
    record_id = record.get(collection.primary_key)
    if record_id in (None, ""):
        raise RecordTypeError(
            collection.name, None, collection.primary_key, record_id, "a primary key"
        )
    for path, types in collection.tables.items():
        for row, prefix in _rows_at(record, path):
            _coerce_fields(row, types, collection.name, record_id, prefix)
    if collection.incremental and not isinstance(record.get("updated_date"), datetime):
        raise RecordTypeError(
            collection.name, record_id, "updated_date", record.get("updated_date"), "a timestamp"
        )
    return record


def _rows_at(record: dict[str, Any], path: ChildPath) -> Iterator[tuple[dict[str, Any], str]]:
    """Every dict at `path` (a chain of list keys) with a readable location prefix."""
    if not path:
        yield record, ""
        return
    key, rest = path[0], path[1:]
    children = record.get(key)
    if children in NULL_MARKERS or children is None:
        return
    if not isinstance(children, list):
        return
    for index, child in enumerate(children):
        if isinstance(child, dict):
            for row, prefix in _rows_at(child, rest):
                yield row, f"{key}[{index}]." + prefix


# ----------------------------------------------------------------------------- column hints


def _column_hints(types: FieldTypes) -> dict[str, dict[str, Any]]:
    columns: dict[str, dict[str, Any]] = {}
    for name in types.money:
        column = name.replace(".", "__")
        columns[column] = {
            "name": column,
            "data_type": "decimal",
            "precision": MONEY_PRECISION,
            "scale": MONEY_SCALE,
            "nullable": True,
        }
    for attr, data_type in [
        ("dates", "date"),
        ("timestamps", "timestamp"),
        ("numbers", "double"),
        ("integers", "bigint"),
        ("booleans", "bool"),
    ]:
        for name in getattr(types, attr):
            column = name.replace(".", "__")
            columns[column] = {"name": column, "data_type": data_type, "nullable": True}
    return columns


def _resource_columns(collection: Collection) -> dict[str, dict[str, Any]]:
    columns = _column_hints(collection.tables.get((), FieldTypes()))
    if collection.incremental:
        columns.setdefault("updated_date", {"name": "updated_date", "data_type": "timestamp"})
        columns["updated_date"] = {**columns["updated_date"], "dedup_sort": "desc"}
    return columns


def _nested_hints(collection: Collection) -> dict[tuple[str, ...], dict[str, Any]]:
    return {
        path: {"columns": _column_hints(types)}
        for path, types in collection.tables.items()
        if path and _column_hints(types)
    }


# ------------------------------------------------------------------------------ tombstones


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


def _tombstone_rows(
    collection: str, seen: set[str], snapshot: WarehouseSnapshot, detect_deletes: bool
) -> list[dict[str, Any]]:
    open_tombstones = snapshot.tombstoned.get(collection, set())
    rows = [
        {"collection": collection, "id": record_id, "deleted_at": None}
        for record_id in sorted(seen & open_tombstones)
    ]
    if detect_deletes:
        missing = snapshot.known_ids.get(collection, set()) - seen - open_tombstones
        rows += [
            {"collection": collection, "id": record_id, "deleted_at": snapshot.now}
            for record_id in sorted(missing)
        ]
    return rows


def _mark_tombstones(rows: list[dict[str, Any]]) -> Any:
    return dlt.mark.with_hints(
        rows,
        dlt.mark.make_hints(table_name=DELETIONS_TABLE, **DELETIONS_HINTS),
        create_table_variant=True,
    )


# ------------------------------------------------------------------------------- resources


def _incremental_resource(
    client: OrdwayClient,
    settings: OrdwaySettings,
    collection: Collection,
    mode: Mode,
    start: datetime | None,
    end: datetime | None,
    snapshot: WarehouseSnapshot,
) -> DltResource:
    if mode == "backfill":
        cursor = dlt.sources.incremental(
            "updated_date",
            initial_value=start,
            end_value=end,
            on_cursor_value_missing="include",
        )
    else:
        cursor = dlt.sources.incremental(
            "updated_date",
            initial_value=settings.start_date,
            lag=settings.lookback_seconds or None,
            on_cursor_value_missing="include",
        )
    # on_cursor_value_missing="include" lets tombstone rows (which have no updated_date) pass;
    # coerce_record guarantees every real record has one.
    listing_all = mode in ("full", "sweep")
    loaded = snapshot.loaded_versions.get(collection.name, {})
    size = settings.page_size_for(collection)

    def extract(
        updated_date: dlt.sources.incremental[datetime] = cursor,
    ) -> Iterator[Any]:
        params: dict[str, Any] = {}
        if collection.sort:
            params["sort"] = collection.sort
        if listing_all:
            # list everything and bypass dlt's range filter; the cursor is moved below (full)
            updated_date.advance(None)
        else:
            since = updated_date.start_value
            params["updated_date>"] = since.astimezone(UTC).strftime(FILTER_TIMESTAMP_FORMAT)
        logger.info("%s: extracting (%s) with %s", collection.name, mode, _safe_params(params))
        seen: set[str] = set()
        max_seen: datetime | None = None
        skipped = 0
        for page in _listing(client, collection, params, size):
            rows = [coerce_record(collection, record) for record in page]
            for row in rows:
                seen.add(str(row[collection.primary_key]))
                if max_seen is None or row["updated_date"] > max_seen:
                    max_seen = row["updated_date"]
            if mode == "incremental" and loaded:
                fresh = [r for r in rows if loaded.get(str(r["id"])) != r["updated_date"]]
                skipped += len(rows) - len(fresh)
                rows = fresh
            if rows:
                yield rows
        if listing_all:
            # ids the listing did not serve are checked one by one before being marked deleted
            missing = snapshot.known_ids.get(collection.name, set()) - seen
            missing -= snapshot.tombstoned.get(collection.name, set())
            skipped_by_paging = list(_still_served(client, collection, missing))
            for row in skipped_by_paging:
                seen.add(str(row[collection.primary_key]))
                max_seen = max(max_seen, row["updated_date"]) if max_seen else row["updated_date"]
            if skipped_by_paging:
                yield skipped_by_paging
        if mode == "full" and max_seen is not None:
            previous = updated_date.get_state().get("last_value")
            updated_date.advance(max(max_seen, previous) if previous else max_seen)
        tombstones = _tombstone_rows(collection.name, seen, snapshot, detect_deletes=listing_all)
        if tombstones:
            yield _mark_tombstones(tombstones)
        logger.info(
            "%s: %d records read, %d already loaded unchanged", collection.name, len(seen), skipped
        )

    return dlt.resource(
        extract,
        name=collection.name,
        write_disposition=MERGE,
        primary_key=collection.primary_key,
        columns=_resource_columns(collection),
        nested_hints=_nested_hints(collection),
        max_table_nesting=MAX_TABLE_NESTING,
        parallelized=True,
    )


def _still_served(
    client: OrdwayClient, collection: Collection, ids: set[str]
) -> Iterator[dict[str, Any]]:
    """The records among `ids` that Ordway still serves (`GET /<collection>/<id>`), typed.

    A complete listing that misses an id does not prove a delete: offset paging skips a record
    whenever another record is deleted while the listing is read (the rest slide back by one,
    onto a page already read). Only a 404 on the record itself marks it deleted. Deletes are
    rare, so this costs a handful of requests per sweep.
    """
    if ids:
        logger.info("%s: checking %d ids the listing did not serve", collection.name, len(ids))
    for record_id in sorted(ids):
        path = f"{collection.path.rstrip('/')}/{quote(record_id, safe='')}"
        try:
            record = client.get_json(collection.name, path, {})
        except OrdwayAPIError as exc:
            if exc.status == 404:
                continue
            raise
        if isinstance(record, list) and len(record) == 1:  # tolerated, as Ordway clients do
            record = record[0]
        if not isinstance(record, dict) or str(record.get(collection.primary_key)) != record_id:
            raise OrdwayError(f"{collection.name}: GET {path} did not return record id={record_id}")
        logger.warning(
            "%s: id=%s was skipped by the listing (records moved while it was paged) and is "
            "loaded from its own endpoint",
            collection.name,
            record_id,
        )
        yield coerce_record(collection, record)


def _listing(
    client: OrdwayClient, collection: Collection, params: Mapping[str, Any], size: int
) -> Iterator[list[dict[str, Any]]]:
    """The pages of one listing, read again (up to MAX_LISTINGS times) while records move.

    Ordway pages by offset over `updated_date` order: a record edited while we page moves to
    the end, so it is served twice and the record after it slides onto a page already read,
    where this listing never sees it (and, being older than the cursor, no later nightly run
    would either). A record served twice is the sign; reading the listing again collects what
    slid back. Merging on `id` keeps one row per record, the latest `updated_date` winning.
    """
    for listing in range(1, MAX_LISTINGS + 1):
        served: set[str] = set()
        moved = False
        for page in client.iter_pages(
            collection.name, collection.path, params, size, collection.wrapper_key
        ):
            for record in page:
                key = str(record.get(collection.primary_key)) if isinstance(record, dict) else ""
                moved = moved or key in served
                served.add(key)
            yield page
        if not moved:
            return
        logger.warning(
            "%s: records moved during listing %d of %d (an id was served twice); %s",
            collection.name,
            listing,
            MAX_LISTINGS,
            "listing again" if listing < MAX_LISTINGS else "the next run or sweep catches up",
        )


def _full_refresh_resource(
    client: OrdwayClient, settings: OrdwaySettings, collection: Collection
) -> DltResource:
    size = settings.page_size_for(collection)

    def extract() -> Iterator[list[dict[str, Any]]]:
        params = {"sort": collection.sort} if collection.sort else {}
        count = 0
        for page in client.iter_pages(
            collection.name, collection.path, params, size, collection.wrapper_key
        ):
            count += len(page)
            yield [coerce_record(collection, record) for record in page]
        logger.info("%s: %d records", collection.name, count)

    return dlt.resource(
        extract,
        name=collection.name,
        write_disposition="replace",
        primary_key=collection.primary_key,
        columns=_resource_columns(collection),
        nested_hints=_nested_hints(collection),
        max_table_nesting=MAX_TABLE_NESTING,
        parallelized=True,
    )


def _deletions_resource() -> DltResource:
    def extract() -> Iterator[Any]:
        # materialises the table (even empty) so dbt staging can always read it
        yield dlt.mark.materialize_table_schema()

    return dlt.resource(extract, name=DELETIONS_TABLE, **DELETIONS_HINTS)


def _safe_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "no filter"


def default_resources(mode: Mode) -> tuple[str, ...]:
    """Collections a mode extracts when `resources` is not given."""
    if mode in ("sweep", "backfill"):
        return INCREMENTAL_COLLECTIONS
    return INCREMENTAL_COLLECTIONS + FULL_REFRESH_COLLECTIONS


@dlt.source(
    name=SOURCE_NAME,
    max_table_nesting=MAX_TABLE_NESTING,
    schema_contract={"tables": "evolve", "columns": "evolve", "data_type": "freeze"},
)
def ordway_source(
    settings: OrdwaySettings,
    client: OrdwayClient,
    mode: Mode = "incremental",
    start: datetime | None = None,
    end: datetime | None = None,
    resources: tuple[str, ...] | list[str] | None = None,
    snapshot: WarehouseSnapshot | None = None,
) -> list[DltResource]:
    """Resources for `resources` (default: per `mode`), always with `_ordway_deletions`.

    The caller owns `client` (closing it after the run) so one rate limiter spans the run.
    """
    if mode not in ("incremental", "full", "sweep", "backfill"):
        raise ValueError(f"unknown mode {mode!r}")
    if mode == "backfill" and (start is None or end is None or start >= end):
        raise ValueError("backfill needs start < end")
    names = tuple(resources) if resources else default_resources(mode)
    unknown = [n for n in names if n not in COLLECTIONS]
    if unknown:
        raise ValueError(f"unknown Ordway collections {unknown}; known: {sorted(COLLECTIONS)}")
    # Types are declared, never guessed: no timestamp autodetection on text fields, and
    # data_type="freeze" (above) fails a run instead of creating a variant column.
    dlt.current.source_schema().remove_type_detection("iso_timestamp")
    snapshot = snapshot or WarehouseSnapshot()
    result: list[DltResource] = []
    for name in names:
        collection = COLLECTIONS[name]
        if collection.incremental:
            result.append(
                _incremental_resource(client, settings, collection, mode, start, end, snapshot)
            )
        else:
            result.append(_full_refresh_resource(client, settings, collection))
    result.append(_deletions_resource())
    return result
