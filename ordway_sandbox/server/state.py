"""The served tenant: immutable versioned snapshots, and the store that swaps them.

A tenant document (TENANT.md) maps collection names to record lists; keys starting with ``_`` are
kept but not served. Every record is JSON-encoded once when a snapshot is built; a DELETE, a PUT
of a new document or ``advance`` (rebuild a generated tenant some days later) creates a new
snapshot with a new version, and requests in flight finish on the one they started with.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ordway_sandbox.server.endpoints import rules_for
from ordway_sandbox.server.wire import encode_json, parse_timestamp_ms


class TenantError(ValueError):
    """A tenant document that cannot be served (names the collection and record)."""


class AdvanceRefused(Exception):
    """``advance`` is impossible for this tenant (the message says why)."""


@dataclass
class Collection:
    """One collection's records, their pre-encoded JSON and a key -> position index."""

    name: str
    key: str
    records: list[dict[str, Any]]
    encoded: list[bytes]
    positions: dict[str, int]
    fields: frozenset[str]
    _timestamps: dict[str, list[int | None]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, name: str, records: list[Any]) -> Collection:
        key = rules_for(name).key
        positions: dict[str, int] = {}
        fields: set[str] = set()
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise TenantError(f"{name}[{index}] is not a JSON object")
            if key not in record:
                raise TenantError(f"{name}[{index}] has no {key!r}")
            record_key = str(record[key])
            if record_key in positions:
                raise TenantError(f"{name}: duplicate {key} {record_key!r}")
            positions[record_key] = index
            fields.update(record)
        encoded = [encode_json(record) for record in records]
        return cls(name, key, records, encoded, positions, frozenset(fields))

    def without(self, record_key: str) -> Collection:
        """A copy without one record (records keep their encoded bytes)."""
        drop = self.positions[record_key]
        records = self.records[:drop] + self.records[drop + 1 :]
        encoded = self.encoded[:drop] + self.encoded[drop + 1 :]
        positions = {str(r[self.key]): i for i, r in enumerate(records)}
        fields = frozenset(itertools.chain.from_iterable(records))
        return Collection(self.name, self.key, records, encoded, positions, fields)

    def timestamps(self, field_name: str) -> list[int | None]:
        """Per record: the field as epoch milliseconds, or None if missing or not a timestamp."""
        cached = self._timestamps.get(field_name)
        if cached is None:
            cached = []
            for record in self.records:
                value = record.get(field_name)
                try:
                    cached.append(parse_timestamp_ms(value) if isinstance(value, str) else None)
                except ValueError:
                    cached.append(None)
            self._timestamps[field_name] = cached
        return cached


_versions = itertools.count(1)


@dataclass
class TenantState:
    """An immutable snapshot of a tenant; replaced as a whole on every change."""

    version: int
    collections: dict[str, Collection]
    extras: dict[str, Any]
    order: list[str]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> TenantState:
        if not isinstance(document, Mapping):
            raise TenantError("a tenant must be a JSON object of collections")
        collections: dict[str, Collection] = {}
        extras: dict[str, Any] = {}
        for name, value in document.items():
            if name.startswith("_"):
                extras[name] = value
            elif isinstance(value, list):
                collections[name] = Collection.build(name, value)
            else:
                raise TenantError(f"collection {name!r} is not a JSON array")
        return cls(next(_versions), collections, extras, list(document))

    @property
    def record_count(self) -> int:
        return sum(len(c.records) for c in self.collections.values())

    def without(self, collection: str, record_key: str) -> TenantState:
        collections = dict(self.collections)
        collections[collection] = collections[collection].without(record_key)
        return TenantState(next(_versions), collections, self.extras, self.order)

    def to_json(self) -> bytes:
        """The whole tenant as one JSON document, in its original key order."""
        parts = []
        for name in self.order:
            head = encode_json(name) + b":"
            if name in self.collections:
                parts.append(head + b"[" + b",".join(self.collections[name].encoded) + b"]")
            else:
                parts.append(head + encode_json(self.extras[name]))
        return b"{" + b",".join(parts) + b"}"


@dataclass
class GeneratorParams:
    """How a generated tenant was built, so ``advance`` can rebuild it a few days later."""

    customers: int
    seed: int
    as_of: dt.date | None
    start: dt.date | None
    options: dict[str, Any] = field(default_factory=dict)
    """The other ``build_tenant`` keyword arguments (profile, edge cases), kept by ``advance``."""

    def later(self, days: int) -> GeneratorParams:
        assert self.as_of is not None
        as_of = self.as_of + dt.timedelta(days=days)
        return GeneratorParams(self.customers, self.seed, as_of, self.start, self.options)

    def build(self) -> dict[str, Any]:
        """``build_tenant`` with these parameters (imported here: serving a file never needs it)."""
        from ordway_sandbox.tenant import build_tenant

        return build_tenant(self.customers, self.seed, self.as_of, start=self.start, **self.options)


class TenantStore:
    """The current snapshot and, for a generated tenant, how to rebuild it."""

    def __init__(self, document: Mapping[str, Any], generator: GeneratorParams | None) -> None:
        self.state = TenantState.from_document(document)
        self.generator = generator
        self._lock = threading.Lock()
        self._advance_lock = threading.Lock()

    def replace(self, document: Mapping[str, Any], generator: GeneratorParams | None) -> None:
        """Serve ``document`` from now on; ``generator`` None ends generated mode (a PUT)."""
        state = TenantState.from_document(document)
        with self._lock:
            self.state = state
            self.generator = generator

    def delete(self, collection: str, record_key: str) -> bool:
        """Hard-delete one record; False if there is no such collection or record."""
        with self._lock:
            state = self.state
            records = state.collections.get(collection)
            if records is None or record_key not in records.positions:
                return False
            self.state = state.without(collection, record_key)
        return True

    def advance(self, days: int) -> GeneratorParams:
        """Rebuild the generated tenant ``days`` later (same start and shape) and swap it in."""
        with self._advance_lock:
            generator = self.generator
            if generator is None:
                raise AdvanceRefused(
                    "advance needs a generated tenant (serve --customers N --seed S); "
                    "this tenant was loaded from a file or PUT"
                )
            if generator.as_of is None:
                raise AdvanceRefused("as_of unknown; serve with --as-of")
            advanced = generator.later(days)
            self.replace(advanced.build(), advanced)
        return advanced
