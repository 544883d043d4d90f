"""The `ordway` dlt source: one resource per Ordway collection, plus the tombstone table.

Incremental collections use `dlt.sources.incremental("updated_date")` with a lookback (`lag`),
ask the API for `updated_date>` = the lag-adjusted cursor start, and merge on `id`
(delete-insert, duplicates within one extract keep the latest `updated_date`). Full-refresh
collections are replaced atomically. Records are typed before dlt sees them (`records.py`);
a value that cannot be coerced stops the run with `RecordTypeError` before anything is loaded.

Every declared table (`contract.py`) exists after a run that extracted its collection, with its
declared columns (`hints.py`), even when no record had a value: an empty root table is
materialised with `dlt.mark.materialize_table_schema()`, and `contract.declared_tables` lists the
child tables that `pipeline.py` then creates from the schema's nested hints.

A collection whose list endpoint answers 403 or 404 on its first page (a module the Ordway
plan does not include) is skipped: it yields nothing, its tables and cursor stay as they were,
a WARNING says how to leave it out, and the resource records the fact in its dlt metrics
(`UNAVAILABLE_METRIC`), which `pipeline.unavailable_collections` reads.

Per-customer collections (`customer_notes`, `payment_methods`: `GET /customers/{id}/<name>`)
are read for the customers whose `updated_date` moved since the last run (the customers listed
with `updated_date>` = that cursor minus the lookback, filtered again here), every customer in
`full` and `sweep`; see `_per_customer_resource`.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import dlt
from dlt.common.schema.utils import has_table_seen_data
from dlt.extract.resource import DltResource

from pipelines.config import OrdwaySettings
from pipelines.ordway.client import OrdwayAPIError, OrdwayClient, OrdwayError
from pipelines.ordway.contract import (
    COLLECTIONS,
    COMPANY_TABLE,
    CURSOR_FIELD,
    DELETIONS_TABLE,
    FILTER_TIMESTAMP_FORMAT,
    PARENT_ID_COLUMN,
    SOURCE_NAME,
    Collection,
)
from pipelines.ordway.hints import (
    COMPANY_COLUMNS,
    DELETIONS_HINTS,
    MAX_TABLE_NESTING,
    MERGE,
    nested_hints,
    resource_columns,
)
from pipelines.ordway.modes import Mode, collections_to_extract, detects_deletes
from pipelines.ordway.records import RecordTypeError, coerce_record, parse_ordway_timestamp
from pipelines.ordway.snapshot import WarehouseSnapshot

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: HTTP statuses of a list endpoint's first page that mean "not in this account's plan".
UNAVAILABLE_STATUSES = frozenset({403, 404})
#: Key of the resource's dlt custom metrics that records an unavailable collection.
UNAVAILABLE_METRIC = "ordway_unavailable"
#: How often an incremental listing is read again when records moved while it was read.
MAX_LISTINGS = 3


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
    listing_all = detects_deletes(mode)
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
        pages = _available_pages(collection, _listing(client, collection, params, size))
        if pages is None:
            return  # unavailable: nothing yielded, the cursor is not moved
        seen = snapshot.sightings(collection.name)
        max_seen: datetime | None = None
        skipped = 0
        yielded = False
        for page in pages:
            rows = [coerce_record(collection, record) for record in page]
            for row in rows:
                seen.saw(str(row[collection.primary_key]))
                if max_seen is None or row["updated_date"] > max_seen:
                    max_seen = row["updated_date"]
            if mode == "incremental" and loaded:
                fresh = [r for r in rows if loaded.get(str(r["id"])) != r["updated_date"]]
                skipped += len(rows) - len(fresh)
                rows = fresh
            if rows:
                yielded = True
                yield rows
        if listing_all:
            # ids the listing did not serve are checked one by one before being marked deleted
            missing = snapshot.known_ids.get(collection.name, set()) - seen.ids
            missing -= snapshot.tombstoned.get(collection.name, set())
            skipped_by_paging = list(_still_served(client, collection, missing))
            for row in skipped_by_paging:
                seen.saw(str(row[collection.primary_key]))
                max_seen = max(max_seen, row["updated_date"]) if max_seen else row["updated_date"]
            if skipped_by_paging:
                yielded = True
                yield skipped_by_paging
        if not yielded and _unmaterialized(collection):
            yield dlt.mark.materialize_table_schema()
        if mode == "full" and max_seen is not None:
            previous = updated_date.get_state().get("last_value")
            updated_date.advance(max(max_seen, previous) if previous else max_seen)
        tombstones = snapshot.tombstone_rows(collection.name, seen.ids, listing_all)
        if tombstones:
            yield _mark_tombstones(tombstones)
        logger.info(
            "%s: %d records read, %d already loaded unchanged", collection.name, seen.count, skipped
        )

    return _merged_resource(collection, extract)


def _merged_resource(collection: Collection, extract: Any) -> Any:
    """The dlt resource of an incremental collection: merged on its key, columns declared."""
    return dlt.resource(
        extract,
        name=collection.name,
        write_disposition=MERGE,
        primary_key=collection.primary_key,
        columns=resource_columns(collection),
        nested_hints=nested_hints(collection),
        max_table_nesting=MAX_TABLE_NESTING,
        parallelized=True,
    )


def _per_customer_resource(
    client: OrdwayClient,
    settings: OrdwaySettings,
    collection: Collection,
    mode: Mode,
    start: datetime | None,
    end: datetime | None,
    snapshot: WarehouseSnapshot,
) -> DltResource:
    """A customer sub-resource, `GET /customers/{id}/<name>`, merged on `id`.

    Which customers are read: every customer in `full` and `sweep` (which then tombstone the ids
    no customer serves any more); in `incremental`, the customers whose `updated_date` is at or
    after the previous run's maximum minus the lookback, except those already read at that same
    `updated_date` (a rerun without change requests only the customers listing); in `backfill`,
    the customers updated in `[start, end)`. The customers listing asks the server for
    `updated_date>` and filters again here, so a server that ignores the filter costs requests,
    never records. This relies on Ordway bumping a customer's `updated_date` when one of its notes
    or payment methods changes (unverified, ordway-api.md §16): if it does not, such a change
    waits for the next sweep or full run, which re-reads every customer.

    The cursor (the customers' maximum `updated_date`) and the customers read within the lookback
    live in the resource's dlt state, committed with the data like every cursor. Each record
    gets `ordway_customer_id`, the customer whose sub-resource served it.
    """
    parent = COLLECTIONS[collection.parent or "customers"]
    size = settings.page_size_for(collection)
    lag = timedelta(seconds=settings.lookback_seconds)
    listing_all = detects_deletes(mode)

    def extract() -> Iterator[Any]:
        state = dlt.current.resource_state()
        cursor = _parse_state_time(state.get("parent_cursor"))
        since = None
        if mode == "incremental":
            since = (cursor or settings.start_date) - lag
        elif mode == "backfill":
            since = start
        params = {"updated_date>": _wire_time(since)} if since is not None else {}
        logger.info(
            "%s: listing %s (%s) with %s", collection.name, parent.name, mode, _safe_params(params)
        )
        # counted apart (progress, errors), so the collection's own pages and records are its own
        listing = client.iter_pages(
            f"{collection.name} ({parent.name} listing)", parent.path, params, size
        )
        pages = _available_pages(collection, listing)
        if pages is None:
            return  # unavailable: nothing yielded, the cursor is not moved
        changed: dict[str, datetime] = {}
        for page in pages:
            for record in page:
                key, updated = _parent_version(collection, record)
                if since is not None and updated < since:
                    continue  # the server's filter is not trusted (§5.3)
                if mode == "backfill" and end is not None and updated >= end:
                    continue
                changed[key] = updated
        recent = state.get("recent_parents", {}) if mode == "incremental" else {}
        to_read = [k for k, u in changed.items() if recent.get(k) != _state_time(u)]
        seen = snapshot.sightings(collection.name)
        yielded = False

        def read(parent_id: str) -> list[list[dict[str, Any]]]:
            path = f"{parent.path}/{quote(parent_id, safe='')}/{collection.name}"
            return list(client.iter_pages(collection.name, path, {}, size, report_done=False))

        listings = _in_order(read, to_read, settings.per_customer_concurrency)
        for number, (parent_id, listing) in enumerate(listings):
            try:
                pages = listing.result()
            except OrdwayAPIError as exc:
                if exc.page == 1 and exc.status in UNAVAILABLE_STATUSES and number == 0:
                    _skip_unavailable(collection, exc)
                    return
                if exc.page == 1 and exc.status == 404:
                    logger.warning(
                        "%s: GET %s answered 404: customer %s was deleted while this run read "
                        "it; skipped",
                        collection.name,
                        exc.path,
                        parent_id,
                    )
                    continue
                raise
            for page in pages:
                rows = []
                for record in page:
                    record[PARENT_ID_COLUMN] = parent_id
                    row = coerce_record(collection, record)
                    seen.saw(str(row[collection.primary_key]))
                    rows.append(row)
                yielded = True
                yield rows
        client.progress.on_listing_done(collection.name)
        if not yielded and _unmaterialized(collection):
            yield dlt.mark.materialize_table_schema()
        if mode in ("incremental", "full") and changed:
            newest = max(changed.values())
            cursor = max(newest, cursor) if cursor else newest
            state["parent_cursor"] = _state_time(cursor)
            state["recent_parents"] = {
                key: _state_time(updated)
                for key, updated in changed.items()
                if updated >= cursor - lag
            }
        tombstones = snapshot.tombstone_rows(collection.name, seen.ids, listing_all)
        if tombstones:
            yield _mark_tombstones(tombstones)
        logger.info(
            "%s: %d customers changed, %d read, %d records",
            collection.name,
            len(changed),
            len(to_read),
            seen.count,
        )

    return _merged_resource(collection, extract)


def _in_order(
    read: Callable[[str], T], keys: Sequence[str], workers: int
) -> Iterator[tuple[str, Future[T]]]:
    """`read(key)` for every key, `workers` at a time, handed back in the order of `keys` (the
    consumer calls `result()`, which raises what `read` raised). At most twice `workers` reads
    run or wait ahead of the consumer. When it stops early (a failure, a skipped collection),
    the reads not started are cancelled and those running are not waited for: the run fails at
    once, not after their retries. `ORDWAY_MAX_RPS` still caps the rate: the client's limiter
    is shared by every thread."""
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="ordway-per-customer")
    ahead: deque[tuple[str, Future[T]]] = deque()
    pending = iter(keys)
    try:
        for key in itertools.islice(pending, 2 * max(1, workers)):
            ahead.append((key, pool.submit(read, key)))
        while ahead:
            done = ahead.popleft()
            for key in itertools.islice(pending, 1):
                ahead.append((key, pool.submit(read, key)))
            yield done
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _parent_version(collection: Collection, record: Any) -> tuple[str, datetime]:
    """A listed customer's id and `updated_date` (the per-customer collection's cursor)."""
    parent = COLLECTIONS[collection.parent or "customers"]
    key = record.get(parent.primary_key) if isinstance(record, dict) else None
    updated = parse_ordway_timestamp(record.get(CURSOR_FIELD)) if key else None
    if key in (None, "") or updated is None:
        field_name = CURSOR_FIELD if key else parent.primary_key
        value = record.get(field_name) if isinstance(record, dict) else record
        raise RecordTypeError(
            parent.name, key, field_name, value, "a timestamp" if key else "a primary key"
        )
    return str(key), updated


def _wire_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(FILTER_TIMESTAMP_FORMAT)


def _state_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse_state_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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

    def extract() -> Iterator[Any]:
        params = {"sort": collection.sort} if collection.sort else {}
        pages = _available_pages(
            collection,
            client.iter_pages(
                collection.name, collection.path, params, size, collection.wrapper_key
            ),
        )
        if pages is None:
            return  # unavailable: the table keeps its rows (see _skip_unavailable)
        count = 0
        for page in pages:
            count += len(page)
            yield [coerce_record(collection, record) for record in page]
        if not count and _unmaterialized(collection):
            # A table that already holds rows is emptied by dlt itself (a replace resource
            # that yields nothing); a new one is created empty.
            yield dlt.mark.materialize_table_schema()
        logger.info("%s: %d records", collection.name, count)

    return dlt.resource(
        extract,
        name=collection.name,
        write_disposition="replace",
        primary_key=collection.primary_key,
        columns=resource_columns(collection),
        nested_hints=nested_hints(collection),
        max_table_nesting=MAX_TABLE_NESTING,
        parallelized=True,
    )


def _available_pages(
    collection: Collection, pages: Iterator[list[dict[str, Any]]]
) -> Iterator[list[dict[str, Any]]] | None:
    """`pages`, or None when the listing's first page answers 403 or 404: the collection is not
    available to this account and is skipped. Any later failure (a 403/404 past page 1, 401,
    retries exhausted) propagates and fails the whole run."""
    try:
        first = next(pages)
    except StopIteration:
        return iter(())
    except OrdwayAPIError as exc:
        if exc.page == 1 and exc.status in UNAVAILABLE_STATUSES:
            _skip_unavailable(collection, exc)
            return None
        raise
    return itertools.chain([first], pages)


def _skip_unavailable(collection: Collection, exc: OrdwayAPIError) -> None:
    logger.warning(
        "%s: GET %s answered HTTP %s on page 1: the collection is not available to this "
        "account (a module the Ordway plan does not include?). Skipped tonight: its tables and "
        "cursor are left as they were and the other collections load. To leave it out, add it "
        "to ORDWAY_SKIP_COLLECTIONS (e.g. ORDWAY_SKIP_COLLECTIONS=%s).",
        collection.name,
        exc.path,
        exc.status,
        collection.name,
    )
    resource = dlt.current.resource()
    resource.custom_metrics[UNAVAILABLE_METRIC] = {"status": exc.status, "path": exc.path}
    if not collection.incremental:
        # dlt empties the table of a replace resource that yielded nothing; an unavailable
        # collection must keep its rows, so this run loads it like an append (of nothing).
        resource.apply_hints(write_disposition="append")


def _unmaterialized(collection: Collection) -> bool:
    """The collection's root table has never been created (no data, no empty load)."""
    table = dlt.current.source_schema().tables.get(collection.name)
    return table is None or not has_table_seen_data(table)


def _company_resource(settings: OrdwaySettings) -> DltResource:
    """The warehouse's record of the Ordway company it holds (a fingerprint, never the name),
    written in the same load as the first run's data (`_dlt_load_id` says which)."""

    def extract() -> Iterator[dict[str, Any]]:
        yield {"company_fingerprint": settings.company_fingerprint, "api_host": settings.api_host}

    return dlt.resource(
        extract,
        name=COMPANY_TABLE,
        write_disposition="merge",
        primary_key="company_fingerprint",
        columns=COMPANY_COLUMNS,
    )


def _deletions_resource() -> DltResource:
    def extract() -> Iterator[Any]:
        # materialises the table (even empty) so dbt staging can always read it
        yield dlt.mark.materialize_table_schema()

    return dlt.resource(extract, name=DELETIONS_TABLE, **DELETIONS_HINTS)


def _safe_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "no filter"


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
    record_company: bool = False,
) -> list[DltResource]:
    """Resources for `resources` (default: the mode's collections) that the settings enable,
    always with `_ordway_deletions`; with `record_company`, also the `_ordway_company` row.
    What a run may ask for is checked by `modes.collections_to_extract` (ConfigError).

    The caller owns `client` (closing it after the run) so one rate limiter spans the run.
    """
    names = collections_to_extract(settings, mode, start, end, resources)
    # Types are declared, never guessed: no timestamp autodetection on text fields, and
    # data_type="freeze" (above) fails a run instead of creating a variant column (records.py
    # makes that impossible for undeclared fields: they are all text).
    dlt.current.source_schema().remove_type_detection("iso_timestamp")
    snapshot = snapshot or WarehouseSnapshot()
    result: list[DltResource] = []
    for name in names:
        collection = COLLECTIONS[name]
        if collection.parent is not None:
            result.append(
                _per_customer_resource(client, settings, collection, mode, start, end, snapshot)
            )
        elif collection.incremental:
            result.append(
                _incremental_resource(client, settings, collection, mode, start, end, snapshot)
            )
        else:
            result.append(_full_refresh_resource(client, settings, collection))
    result.append(_deletions_resource())
    if record_company:
        result.append(_company_resource(settings))
    return result


__all__ = ["UNAVAILABLE_METRIC", "ordway_source"]
