"""List and get semantics of the API (ordway-api.md §4-5): paging, sort, filters, single records.

Choices where the contract is silent (also in README.md):

- ``page`` < 1 or not an integer means page 1; ``size`` < 1 or not an integer means the default 20.
- ``sort`` naming no field (``sort= desc``) -> 422, as the real API errors on it (§5.1).
- ``<field>>`` works on any timestamp field; records lacking the field are excluded; a parameter
  naming a field no record has is ignored, like equality filters.

The filtered and sorted row list is cached (LRU) per (tenant version, collection, sort, filters);
a page is the join of those pre-encoded rows.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from ordway_sandbox.server.endpoints import (
    DEFAULT_IGNORE_FILTER,
    DEFAULT_IGNORE_SORT,
    DEFAULT_PAGE_SIZE,
    Parent,
    rules_for,
)
from ordway_sandbox.server.faults import (
    FaultInjector,
    SettingsError,
    normalise_keys,
    parse_unavailable,
)
from ordway_sandbox.server.state import Collection, TenantState
from ordway_sandbox.server.wire import Response, not_found, parse_timestamp_ms, unprocessable

RESERVED_PARAMS = frozenset({"page", "size", "sort"})
INDEX_CACHE_SIZE = 256

Order = tuple[tuple[str, ...], bool]
"""(sort fields, descending)."""


@dataclass(frozen=True)
class ServeOptions:
    """Behaviour switches that are not faults: per-endpoint ignores, the usages envelope, and
    collections the account's plan does not include (every GET on them answers 403 or 404)."""

    ignore_sort: frozenset[str] = DEFAULT_IGNORE_SORT
    ignore_filter: frozenset[str] = DEFAULT_IGNORE_FILTER
    wrap_usages: bool = False
    unavailable: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> ServeOptions:
        """From JSON/CLI-style keys; a given ignore list replaces the default (``[]`` = none).
        ``unavailable``: ``{"usages": 403}``, or ``"usages:403,journal_entries:404"`` (a string
        or a list of them)."""
        settings = normalise_keys(settings)
        unknown = set(settings) - {"ignore_sort", "ignore_filter", "wrap_usages", "unavailable"}
        if unknown:
            raise SettingsError(f"unknown option(s): {', '.join(sorted(unknown))}")
        ignore_sort = settings.get("ignore_sort")
        ignore_filter = settings.get("ignore_filter")
        return cls(
            ignore_sort=DEFAULT_IGNORE_SORT if ignore_sort is None else _names(ignore_sort),
            ignore_filter=DEFAULT_IGNORE_FILTER if ignore_filter is None else _names(ignore_filter),
            wrap_usages=bool(settings.get("wrap_usages", False)),
            unavailable=parse_unavailable(settings.get("unavailable")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ignore_sort": sorted(self.ignore_sort),
            "ignore_filter": sorted(self.ignore_filter),
            "wrap_usages": self.wrap_usages,
            "unavailable": dict(sorted(self.unavailable.items())),
        }


def _names(value: Any) -> frozenset[str]:
    items = [value] if isinstance(value, str) else list(value)
    return frozenset(str(v) for v in items if str(v) and str(v).lower() != "none")


# ---------------------------------------------------------------- the query string


class QueryError(ValueError):
    """A list query the API answers with 422 (the message names the parameter)."""


@dataclass(frozen=True)
class ListQuery:
    page: int
    size: int
    order: Order
    equals: tuple[tuple[str, str], ...]
    since: tuple[tuple[str, int], ...]

    @classmethod
    def parse(cls, collection: Collection, query: str, options: ServeOptions) -> ListQuery:
        params = dict(parse_qsl(query, keep_blank_values=True))
        name = collection.name
        rules = rules_for(name)
        page = _int_param(params.get("page"), 1)
        size = min(_int_param(params.get("size"), DEFAULT_PAGE_SIZE), rules.max_page_size)

        if name in options.ignore_sort:
            order: Order = ((collection.key,), not rules.ascending_when_unsorted)
        elif "sort" in params:
            parsed = parse_sort(params["sort"])
            if parsed is None:
                raise QueryError(f"sort: no field given in {params['sort']!r}")
            order = parsed
        else:
            order = ((collection.key,), True)

        equals: list[tuple[str, str]] = []
        since: list[tuple[str, int]] = []
        for key, value in params.items():
            if key in RESERVED_PARAMS:
                continue
            if key.endswith(">"):
                field_name = key[:-1]
                if field_name not in collection.fields:
                    continue
                if field_name == "updated_date" and name in options.ignore_filter:
                    continue
                try:
                    since.append((field_name, parse_timestamp_ms(value)))
                except ValueError:
                    raise QueryError(f"{key}: invalid date-time {value!r}") from None
            elif key in collection.fields:
                equals.append((key, value))
        return cls(page, size, order, tuple(sorted(equals)), tuple(sorted(since)))


def _int_param(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


def parse_sort(value: str) -> Order | None:
    """``f1,f2[ asc|desc]`` -> (fields, descending); None if no field is named."""
    text = value.strip()
    descending = False
    head, _, last = text.rpartition(" ")
    if head and last.lower() in ("asc", "desc"):
        text, descending = head, last.lower() == "desc"
    elif text.lower() in ("asc", "desc"):
        return None
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    return (fields, descending) if fields else None


def sort_value(value: Any) -> tuple[int, Any]:
    """A total order over JSON values: numbers before text; missing/null sorts as ``""``."""
    if value is None:
        return (1, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (1, json.dumps(value, sort_keys=True))


def matches(value: Any, wanted: str) -> bool:
    """Equality of a record's scalar value with a query-string value."""
    if isinstance(value, str):
        return value == wanted
    if value is None:
        return wanted in ("", "null")
    if isinstance(value, bool):
        return wanted.lower() == ("true" if value else "false")
    if isinstance(value, int | float):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return False  # objects and arrays are not filterable


# ---------------------------------------------------------------- answers


def get_record(collection: Collection, record_key: str) -> Response:
    """``GET /<collection>/<key>``: the record's stored bytes, or the not-found envelope."""
    position = collection.positions.get(record_key)
    if position is None:
        return not_found(collection.name)
    return Response(200, collection.encoded[position])


class Lister:
    """Answers list requests; keeps the filtered and sorted rows of recent queries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, list[bytes]] = OrderedDict()
        self._version = 0  # the newest tenant version seen; older entries are dropped

    def page(
        self,
        state: TenantState,
        collection: Collection,
        query: str,
        options: ServeOptions,
        faults: FaultInjector,
    ) -> Response:
        """One page of ``collection`` as a bare JSON array (page-layout faults applied)."""
        try:
            parsed = ListQuery.parse(collection, query, options)
        except QueryError as exc:
            return unprocessable(str(exc))
        name = collection.name
        rows = self.rows(state, collection, parsed)
        start, stop = faults.page_bounds(name, parsed.page, parsed.size, len(rows))
        body = b"[" + b",".join(rows[start:stop]) + b"]"
        if name == "usages" and options.wrap_usages:
            body = b'{"usages":' + body + b',"total":' + str(len(rows)).encode() + b"}"
        return faults.page_fault(name, parsed.page, Response(200, body))

    def children(
        self,
        state: TenantState,
        link: Parent,
        parent_key: str,
        child: str,
        query: str,
        options: ServeOptions,
        faults: FaultInjector,
    ) -> Response:
        """``GET /<parent>/<key>/<child>``: the child list filtered to that parent (``[]`` if
        the tenant has no such collection or its records do not name a parent)."""
        children = state.collections.get(child)
        value = link.child_value(parent_key)
        if children is None or link.key not in children.fields or value is None:
            return Response(200, b"[]")
        query = query + ("&" if query else "") + f"{link.key}=" + quote(value, safe="")
        return self.page(state, children, query, options, faults)

    def rows(self, state: TenantState, collection: Collection, query: ListQuery) -> list[bytes]:
        cache_key = (state.version, collection.name, query.order, query.equals, query.since)
        with self._lock:
            if state.version > self._version:  # the tenant changed: forget the old rows
                self._cache.clear()
                self._version = state.version
            rows = self._cache.get(cache_key)
            if rows is not None:
                self._cache.move_to_end(cache_key)
                return rows
        positions = range(len(collection.records))
        records = collection.records
        for field_name, wanted in query.equals:
            positions = [i for i in positions if matches(records[i].get(field_name), wanted)]
        for field_name, threshold in query.since:
            stamps = collection.timestamps(field_name)
            positions = [i for i in positions if (s := stamps[i]) is not None and s >= threshold]
        fields, descending = query.order
        ordered = sorted(
            positions,
            key=lambda i: tuple(sort_value(records[i].get(f)) for f in fields),
            reverse=descending,
        )
        rows = [collection.encoded[i] for i in ordered]
        with self._lock:
            if state.version == self._version:
                self._cache[cache_key] = rows
                while len(self._cache) > INDEX_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return rows
