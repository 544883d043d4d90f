"""A loopback HTTP server imitating the Ordway REST API v1 (ordway-api.md §2-7 and §14).

The server holds a *tenant* (a JSON object mapping collection names to record lists, see
TENANT.md) and serves it the way the real API does: bare JSON arrays, page/size paging that ends
with ``[]``, ``sort``, equality filters and the inclusive millisecond ``updated_date>`` filter,
four-header authentication, and the known error envelopes. On top of that it injects faults on
demand (rate limiting, random 5xx, latency, malformed/empty/short/repeating pages, stalls, auth
expiry) and exposes an unauthenticated admin API under ``/_sandbox/``.

Layout: :class:`SandboxApp` is the whole behaviour as a plain object (``handle(request) ->
Response``); :class:`SandboxHTTPServer` is a thin ``ThreadingHTTPServer`` around it. Every record
is JSON-encoded once when a tenant is loaded, and pages are built by joining those bytes; the
filtered and sorted row list is cached per (tenant version, collection, sort, filters).

Choices where the contract is silent (also in README.md):

- ``page`` < 1 or not an integer means page 1; ``size`` < 1 or not an integer means the default 20.
- ``sort`` naming no field (``sort= desc``) -> 422, as the real API errors on it (§5.1).
- ``<field>>`` works on any timestamp field; records lacking the field are excluded; a parameter
  naming a field no record has is ignored, like equality filters.
- ``DELETE /<collection>/<id>`` answers 204 with an empty body.
- ``short`` and ``repeat`` faults are persistent page-layout bugs (their COUNT is ignored); the
  other kinds fire COUNT times.
- ``--error-rate`` decides per request from a hash of (seed, method, target, how many times this
  exact target was requested), so a run is reproducible even with concurrent clients.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import math
import os
import re
import sys
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

API_PREFIX = "/api/v1"
ADMIN_PREFIX = "/_sandbox"

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
MAX_PAGE_SIZE_BY_COLLECTION = {"revenue_schedules": 500}
KEY_FIELD_BY_COLLECTION = {"chart_of_accounts": "code"}
CUSTOMER_SUBRESOURCES = ("payment_methods", "customer_notes")
RESERVED_PARAMS = frozenset({"page", "size", "sort"})

# §5.3.3 / §14.4-5: endpoints whose server-side sort or `updated_date>` filter does not work.
DEFAULT_IGNORE_SORT = frozenset({"billing_schedules", "revenue_rules"})
DEFAULT_IGNORE_FILTER = frozenset({"revenue_rules", "billing_runs", "coupons"})
# Order served when `sort` is ignored; anything not listed gets the default (descending key).
IGNORED_SORT_ASCENDING = frozenset({"billing_schedules"})

DEMO_CREDENTIALS = {
    "ORDWAY_API_KEY": "demo-api-key",
    "ORDWAY_COMPANY": "Demo Company",
    "ORDWAY_USER_EMAIL": "demo@example.com",
    "ORDWAY_USER_TOKEN": "demo-user-token",
}
AUTH_HEADER_BY_ENV = {
    "ORDWAY_API_KEY": "X-API-KEY",
    "ORDWAY_COMPANY": "X-User-Company",
    "ORDWAY_USER_EMAIL": "X-User-Email",
    "ORDWAY_USER_TOKEN": "X-User-Token",
}

BODY_401 = b'{"error":{"status":401,"title":"Invalid Email/Token combination."}}'
BODY_429 = b'{"error":{"status":429,"title":"Too Many Requests"}}'
ERROR_TITLES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
FAULT_KINDS = frozenset(
    {
        "malformed",
        "empty",
        "error",
        "error500",
        "error502",
        "error503",
        "error403",
        "error404",
        "timeout",
        "short",
        "repeat",
    }
)
PERSISTENT_FAULT_KINDS = frozenset({"short", "repeat"})
LOG_LIMIT = 10_000
INDEX_CACHE_SIZE = 256

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class TenantError(ValueError):
    """A tenant document that cannot be served (names the collection and record)."""


class SettingsError(ValueError):
    """An invalid fault or option setting (names the setting)."""


# --------------------------------------------------------------------------- helpers


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the byte form every response body is built from."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_timestamp_ms(value: str) -> int:
    """Milliseconds since the epoch of an ISO timestamp or date, truncated (floored) to the ms.

    Accepts ``2020-11-10T00:00:00.000000Z``, ``...00.000Z``, ``...00Z``, an explicit offset,
    and a bare date ``2020-11-10`` (midnight UTC). Raises ValueError otherwise.
    """
    match = _TIMESTAMP_RE.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp or date: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        tzinfo=dt.UTC,
    )
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    whole_seconds = (moment - _EPOCH) // dt.timedelta(seconds=1)
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return whole_seconds * 1000 + millis


def _sort_value(value: Any) -> tuple[int, Any]:
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


def _matches(value: Any, wanted: str) -> bool:
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


# --------------------------------------------------------------------------- tenant state


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
        key = KEY_FIELD_BY_COLLECTION.get(name, "id")
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


# --------------------------------------------------------------------------- settings


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
        settings = _normalise_keys(settings)
        unknown = set(settings) - {"ignore_sort", "ignore_filter", "wrap_usages", "unavailable"}
        if unknown:
            raise SettingsError(f"unknown option(s): {', '.join(sorted(unknown))}")
        ignore_sort = settings.get("ignore_sort")
        ignore_filter = settings.get("ignore_filter")
        return cls(
            ignore_sort=DEFAULT_IGNORE_SORT if ignore_sort is None else _names(ignore_sort),
            ignore_filter=DEFAULT_IGNORE_FILTER if ignore_filter is None else _names(ignore_filter),
            wrap_usages=bool(settings.get("wrap_usages", False)),
            unavailable=_unavailable(settings.get("unavailable")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ignore_sort": sorted(self.ignore_sort),
            "ignore_filter": sorted(self.ignore_filter),
            "wrap_usages": self.wrap_usages,
            "unavailable": dict(sorted(self.unavailable.items())),
        }


UNAVAILABLE_STATUSES = (403, 404)


def _unavailable(value: Any) -> dict[str, int]:
    """``COLLECTION:STATUS`` pairs (403 or 404) from a mapping, a comma list or a list."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        items = [value] if isinstance(value, str) else list(value)
        specs = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
        pairs = []
        for spec in specs:
            name, _, status = spec.rpartition(":")
            if not name:
                raise SettingsError(f"unavailable {spec!r}: expected COLLECTION:STATUS")
            pairs.append((name, status))
    result = {}
    for name, status in pairs:
        try:
            code = int(status)
        except (TypeError, ValueError):
            code = 0
        if code not in UNAVAILABLE_STATUSES:
            raise SettingsError(f"unavailable {name}: status must be 403 or 404, got {status!r}")
        result[name] = code
    return result


def _names(value: Any) -> frozenset[str]:
    items = [value] if isinstance(value, str) else list(value)
    return frozenset(str(v) for v in items if str(v) and str(v).lower() != "none")


def _normalise_keys(settings: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(settings, Mapping):
        raise SettingsError("settings must be a JSON object")
    return {str(k).replace("-", "_"): v for k, v in settings.items()}


@dataclass
class FaultRule:
    """``KIND:COLLECTION:PAGE[:COUNT]``; COLLECTION ``*`` matches every collection."""

    kind: str
    collection: str
    page: int
    remaining: int

    @classmethod
    def parse(cls, spec: Any) -> FaultRule:
        if isinstance(spec, Mapping):
            parts = [spec.get("kind"), spec.get("collection"), spec.get("page"), spec.get("count")]
        else:
            parts = str(spec).split(":")
            if len(parts) not in (3, 4):
                raise SettingsError(f"fault {spec!r}: expected KIND:COLLECTION:PAGE[:COUNT]")
            parts += [None] * (4 - len(parts))
        kind, collection, page, count = parts
        if kind not in FAULT_KINDS:
            raise SettingsError(f"fault {spec!r}: kind must be one of {sorted(FAULT_KINDS)}")
        if not collection:
            raise SettingsError(f"fault {spec!r}: no collection")
        try:
            page_number = int(page)
            times = 1 if count in (None, "") else int(count)
        except (TypeError, ValueError):
            raise SettingsError(f"fault {spec!r}: PAGE and COUNT must be integers") from None
        if page_number < 1 or times < 1:
            raise SettingsError(f"fault {spec!r}: PAGE and COUNT must be >= 1")
        return cls(str(kind), str(collection), page_number, times)

    def applies_to(self, collection: str) -> bool:
        return self.collection in ("*", collection)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "collection": self.collection,
            "page": self.page,
            "remaining": None if self.kind in PERSISTENT_FAULT_KINDS else self.remaining,
        }


_FAULT_KEYS = {
    "rate_limit",
    "burst",
    "retry_after",
    "no_retry_after",
    "error_rate",
    "fault_seed",
    "latency_ms",
    "faults",
    "fault",
    "stall_seconds",
    "auth_fail_after",
}


@dataclass
class FaultConfig:
    """Every fault setting; all off by default. Same names as the CLI flags."""

    rate_limit: float | None = None
    burst: int = 2
    retry_after: bool = True
    error_rate: float = 0.0
    fault_seed: int = 0
    latency_ms: float = 0.0
    faults: list[FaultRule] = field(default_factory=list)
    stall_seconds: float = 30.0
    auth_fail_after: int | None = None

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> FaultConfig:
        """From a JSON object with the CLI flag names (``-`` or ``_``); ``{}`` = no faults."""
        settings = _normalise_keys(settings)
        unknown = set(settings) - _FAULT_KEYS
        if unknown:
            raise SettingsError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        specs = settings.get("faults", settings.get("fault")) or []
        if isinstance(specs, str | Mapping):
            specs = [specs]
        try:
            config = cls(
                rate_limit=_optional(settings.get("rate_limit"), float),
                burst=int(settings.get("burst", 2)),
                retry_after=bool(settings.get("retry_after", True))
                and not settings.get("no_retry_after", False),
                error_rate=float(settings.get("error_rate") or 0.0),
                fault_seed=int(settings.get("fault_seed") or 0),
                latency_ms=float(settings.get("latency_ms") or 0.0),
                faults=[FaultRule.parse(spec) for spec in specs],
                stall_seconds=float(settings.get("stall_seconds", 30.0)),
                auth_fail_after=_optional(settings.get("auth_fail_after"), int),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"invalid fault setting: {exc}") from None
        config.validate()
        return config

    def validate(self) -> None:
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise SettingsError("rate_limit must be > 0 requests per second")
        if self.burst < 1:
            raise SettingsError("burst must be >= 1")
        if not 0.0 <= self.error_rate <= 1.0:
            raise SettingsError("error_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.stall_seconds < 0:
            raise SettingsError("latency_ms and stall_seconds must be >= 0")
        if self.auth_fail_after is not None and self.auth_fail_after < 0:
            raise SettingsError("auth_fail_after must be >= 0")

    def to_json(self) -> dict[str, Any]:
        return {
            "rate_limit": self.rate_limit,
            "burst": self.burst,
            "retry_after": self.retry_after,
            "error_rate": self.error_rate,
            "fault_seed": self.fault_seed,
            "latency_ms": self.latency_ms,
            "faults": [rule.to_json() for rule in self.faults],
            "stall_seconds": self.stall_seconds,
            "auth_fail_after": self.auth_fail_after,
        }


def _optional(value: Any, cast: type) -> Any:
    return None if value is None else cast(value)


class TokenBucket:
    """Classic token bucket: ``rate`` tokens per second, at most ``burst`` stored."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """Take a token; returns 0 on success, else the seconds until one is available."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate


# --------------------------------------------------------------------------- app


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (the `timeout` fault)


@dataclass
class GeneratorParams:
    """How a generated tenant was built, so ``advance`` can rebuild it a few days later."""

    customers: int
    seed: int
    as_of: dt.date | None
    start: dt.date | None
    options: dict[str, Any] = field(default_factory=dict)
    """The other ``build_tenant`` keyword arguments (profile, edge cases), kept by ``advance``."""


def _json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, encode_json(payload), headers or {})


def _not_found(collection: str) -> Response:
    return _json_response(
        404, {"errors": {"status": 404, "source": collection, "details": "Record not found"}}
    )


def _unavailable_response(collection: str, status: int) -> Response:
    if status == 404:
        return _not_found(collection)
    return _json_response(
        403,
        {"errors": {"status": 403, "source": collection, "details": "Forbidden"}},
    )


def _unprocessable(message: str) -> Response:
    return _json_response(422, {"errors": {"details": {"message": message}}})


def _server_error(status: int) -> Response:
    return _json_response(status, {"error": {"status": status, "title": ERROR_TITLES[status]}})


def load_credentials(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The four expected credentials from the environment, and which fell back to demo values."""
    environ = os.environ if environ is None else environ
    credentials, defaulted = {}, []
    for name, demo in DEMO_CREDENTIALS.items():
        value = environ.get(name)
        if not value:
            value = demo
            defaulted.append(name)
        credentials[name] = value
    return credentials, defaulted


class SandboxApp:
    """The sandbox's behaviour, independent of the HTTP transport."""

    def __init__(
        self,
        tenant: Mapping[str, Any],
        credentials: Mapping[str, str],
        *,
        options: ServeOptions | None = None,
        faults: FaultConfig | None = None,
        generator: GeneratorParams | None = None,
    ) -> None:
        self.state = TenantState.from_document(tenant)
        self.options = options or ServeOptions()
        self.generator = generator
        # Header name (lower case) -> expected value as UTF-8 bytes.
        self._expected = [
            (AUTH_HEADER_BY_ENV[name].lower(), value.encode("utf-8"))
            for name, value in credentials.items()
        ]
        self._state_lock = threading.Lock()
        self._advance_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._fault_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[tuple, list[bytes]] = OrderedDict()
        self.stall_abort = threading.Event()
        self.reset_stats()
        self.set_faults(faults or FaultConfig())

    # ---- configuration

    def set_faults(self, config: FaultConfig) -> None:
        with self._fault_lock:
            self.faults = config
            self._bucket = (
                TokenBucket(config.rate_limit, config.burst) if config.rate_limit else None
            )
            self._api_requests_seen = 0
            self._target_counts: Counter[str] = Counter()

    def set_options(self, options: ServeOptions) -> None:
        self.options = options

    def replace_tenant(self, tenant: Mapping[str, Any], generator: GeneratorParams | None) -> None:
        state = TenantState.from_document(tenant)
        with self._state_lock:
            self.state = state
            self.generator = generator
            self._clear_cache()

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._requests: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {
                "requests": dict(self._requests),
                "statuses": dict(self._statuses),
                "log": list(self._log),
            }

    # ---- dispatch

    def handle(self, request: Request) -> Response:
        if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
            return self._admin(request)
        segments = [unquote(s) for s in request.path.strip("/").split("/")]
        collection = segments[2] if len(segments) > 2 else ""
        response = self._api(request, segments)
        with self._stats_lock:
            self._requests[collection or request.path] += 1
            self._statuses[str(response.status)] += 1
            self._log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "status": response.status,
                }
            )
        return response

    def _api(self, request: Request, segments: list[str]) -> Response:
        faults = self.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000.0)
        with self._fault_lock:
            self._api_requests_seen += 1
            seen = self._api_requests_seen
        expired = faults.auth_fail_after is not None and seen > faults.auth_fail_after
        if expired or not self._authenticated(request.headers):
            return Response(401, BODY_401)
        if self._bucket is not None:
            wait = self._bucket.take()
            if wait:
                headers = (
                    {"Retry-After": str(max(1, math.ceil(wait)))} if faults.retry_after else {}
                )
                return Response(429, BODY_429, headers)
        if faults.error_rate:
            status = self._random_error(request, faults)
            if status:
                return _server_error(status)
        if segments[:2] != ["api", "v1"] or len(segments) < 3:
            return _not_found(segments[0] if segments and segments[0] else "")
        if request.method == "GET":
            return self._get(request, segments)
        if request.method == "DELETE" and len(segments) == 4:
            return self._delete(segments[2], segments[3])
        return _json_response(405, {"error": {"status": 405, "title": "Method Not Allowed"}})

    def _authenticated(self, headers: Mapping[str, str]) -> bool:
        ok = True
        for name, expected in self._expected:
            given = headers.get(name)
            # Header values arrive decoded as latin-1: re-encode to recover the raw bytes.
            raw = given.encode("latin-1", "replace") if given is not None else b""
            ok &= hmac.compare_digest(raw, expected) and given is not None
        return ok

    def _random_error(self, request: Request, faults: FaultConfig) -> int:
        target = f"{request.method} {request.path}?{request.query}"
        with self._fault_lock:
            self._target_counts[target] += 1
            occurrence = self._target_counts[target]
        digest = hashlib.sha256(f"{faults.fault_seed}|{target}|{occurrence}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2.0**64
        if draw >= faults.error_rate:
            return 0
        return (500, 502, 503)[digest[8] % 3]

    # ---- GET / DELETE

    def _get(self, request: Request, segments: list[str]) -> Response:
        state = self.state
        name = segments[2]
        status = self.options.unavailable.get(name)
        if status is not None:  # a module the account's plan does not include
            return _unavailable_response(name, status)
        collection = state.collections.get(name)
        if len(segments) == 3:
            if collection is None:
                return _not_found(name)
            return self._list(state, collection, request.query)
        if collection is None:
            return _not_found(name)
        if len(segments) == 4:
            position = collection.positions.get(segments[3])
            if position is None:
                return _not_found(name)
            return Response(200, collection.encoded[position])
        if len(segments) == 5 and name == "customers" and segments[4] in CUSTOMER_SUBRESOURCES:
            if segments[3] not in collection.positions:
                return _not_found(name)
            children = state.collections.get(segments[4])
            if children is None or "customer_id" not in children.fields:
                return Response(200, b"[]")
            query = request.query + ("&" if request.query else "") + "customer_id="
            return self._list(state, children, query + _quote(segments[3]))
        return _not_found(name)

    def _delete(self, name: str, record_key: str) -> Response:
        with self._state_lock:
            state = self.state
            collection = state.collections.get(name)
            if collection is None or record_key not in collection.positions:
                return _not_found(name)
            self.state = state.without(name, record_key)
            self._clear_cache()
        return Response(204)

    # ---- lists

    def _list(self, state: TenantState, collection: Collection, query: str) -> Response:
        params = dict(parse_qsl(query, keep_blank_values=True))
        name = collection.name
        page = _int_param(params.get("page"), 1)
        size = _int_param(params.get("size"), DEFAULT_PAGE_SIZE)
        size = min(size, MAX_PAGE_SIZE_BY_COLLECTION.get(name, MAX_PAGE_SIZE))

        if name in self.options.ignore_sort:
            order: tuple[tuple[str, ...], bool] = (
                (collection.key,),
                name not in IGNORED_SORT_ASCENDING,
            )
        elif "sort" in params:
            parsed = _parse_sort(params["sort"])
            if parsed is None:
                return _unprocessable(f"sort: no field given in {params['sort']!r}")
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
                if field_name == "updated_date" and name in self.options.ignore_filter:
                    continue
                try:
                    since.append((field_name, parse_timestamp_ms(value)))
                except ValueError:
                    return _unprocessable(f"{key}: invalid date-time {value!r}")
            elif key in collection.fields:
                equals.append((key, value))

        rows = self._rows(state, collection, order, tuple(sorted(equals)), tuple(sorted(since)))
        start, stop = self._page_bounds(name, page, size, len(rows))
        body = b"[" + b",".join(rows[start:stop]) + b"]"
        if name == "usages" and self.options.wrap_usages:
            body = b'{"usages":' + body + b',"total":' + str(len(rows)).encode() + b"}"
        return self._page_fault(name, page, Response(200, body))

    def _rows(
        self,
        state: TenantState,
        collection: Collection,
        order: tuple[tuple[str, ...], bool],
        equals: tuple[tuple[str, str], ...],
        since: tuple[tuple[str, int], ...],
    ) -> list[bytes]:
        cache_key = (state.version, collection.name, order, equals, since)
        with self._cache_lock:
            rows = self._cache.get(cache_key)
            if rows is not None:
                self._cache.move_to_end(cache_key)
                return rows
        positions = range(len(collection.records))
        records = collection.records
        for field_name, wanted in equals:
            positions = [i for i in positions if _matches(records[i].get(field_name), wanted)]
        for field_name, threshold in since:
            stamps = collection.timestamps(field_name)
            positions = [i for i in positions if (s := stamps[i]) is not None and s >= threshold]
        fields, descending = order
        ordered = sorted(
            positions,
            key=lambda i: tuple(_sort_value(records[i].get(f)) for f in fields),
            reverse=descending,
        )
        rows = [collection.encoded[i] for i in ordered]
        with self._cache_lock:
            if state is self.state:
                self._cache[cache_key] = rows
                while len(self._cache) > INDEX_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return rows

    def _clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def _page_bounds(self, name: str, page: int, size: int, total: int) -> tuple[int, int]:
        """Row slice of a page, honouring `short` and `repeat` page-layout faults."""
        rules = [r for r in self.faults.faults if r.applies_to(name)]
        repeat_from = min((r.page for r in rules if r.kind == "repeat"), default=None)
        if repeat_from is not None and page > repeat_from:
            page = repeat_from
        short_pages = {r.page for r in rules if r.kind == "short"}
        short_size = max(1, size // 2)
        if not short_pages:
            start = (page - 1) * size
            return min(start, total), min(start + size, total)
        start = sum(short_size if p in short_pages else size for p in range(1, page))
        length = short_size if page in short_pages else size
        return min(start, total), min(start + length, total)

    def _page_fault(self, name: str, page: int, response: Response) -> Response:
        """Apply the first firing fault rule for this list page, if any."""
        with self._fault_lock:
            rule = next(
                (
                    r
                    for r in self.faults.faults
                    if r.kind not in PERSISTENT_FAULT_KINDS
                    and r.remaining > 0
                    and r.page == page
                    and r.applies_to(name)
                ),
                None,
            )
            if rule is None:
                return response
            rule.remaining -= 1
        if rule.kind == "malformed":
            return Response(200, response.body[: max(1, len(response.body) // 2)])
        if rule.kind == "empty":
            return Response(200, b"")
        if rule.kind == "timeout":
            response.delay = self.faults.stall_seconds
            return response
        status = int(rule.kind[5:]) if rule.kind != "error" else 500
        if status in UNAVAILABLE_STATUSES:  # a permission or routing error on this page only
            return _unavailable_response(name, status)
        return _server_error(status)

    # ---- admin

    def _admin(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        params = dict(parse_qsl(request.query))
        try:
            if route == ("GET", "/_sandbox/health"):
                return _json_response(
                    200,
                    {
                        "status": "ok",
                        "records": self.state.record_count,
                        "tenant_version": self.state.version,
                    },
                )
            if route == ("GET", "/_sandbox/stats"):
                return _json_response(200, self.stats())
            if route == ("POST", "/_sandbox/stats/reset"):
                self.reset_stats()
                return _json_response(200, {"reset": True})
            if route == ("GET", "/_sandbox/tenant"):
                return Response(200, self.state.to_json())
            if route == ("PUT", "/_sandbox/tenant"):
                self.replace_tenant(_json_body(request), generator=None)
                return _json_response(200, {"records": self.state.record_count})
            if route == ("GET", "/_sandbox/faults"):
                return _json_response(200, self.faults.to_json())
            if route == ("POST", "/_sandbox/faults"):
                self.set_faults(FaultConfig.from_mapping(_json_body(request)))
                return _json_response(200, self.faults.to_json())
            if route == ("GET", "/_sandbox/options"):
                return _json_response(200, self.options.to_json())
            if route == ("POST", "/_sandbox/options"):
                self.set_options(ServeOptions.from_mapping(_json_body(request)))
                return _json_response(200, self.options.to_json())
            if route == ("POST", "/_sandbox/advance"):
                return self._advance(params.get("days", "1"))
        except (TenantError, SettingsError) as exc:
            return _json_response(400, {"errors": {"details": {"message": str(exc)}}})
        return _json_response(
            404, {"errors": {"status": 404, "source": "_sandbox", "details": "No such admin route"}}
        )

    def _advance(self, days_param: str) -> Response:
        try:
            days = int(days_param)
        except ValueError:
            raise SettingsError(f"days must be an integer, got {days_param!r}") from None
        if days < 1:
            raise SettingsError("days must be >= 1")
        with self._advance_lock:
            generator = self.generator
            if generator is None:
                return _json_response(
                    409,
                    {
                        "errors": {
                            "status": 409,
                            "details": "advance needs a generated tenant (serve --customers N "
                            "--seed S); this tenant was loaded from a file or PUT",
                        }
                    },
                )
            if generator.as_of is None:
                return _json_response(
                    409,
                    {"errors": {"status": 409, "details": "as_of unknown; serve with --as-of"}},
                )
            from ordway_sandbox.tenant import build_tenant

            as_of = generator.as_of + dt.timedelta(days=days)
            tenant = build_tenant(
                generator.customers,
                generator.seed,
                as_of,
                start=generator.start,
                **generator.options,
            )
            advanced = GeneratorParams(
                generator.customers, generator.seed, as_of, generator.start, generator.options
            )
            self.replace_tenant(tenant, advanced)
        return _json_response(
            200,
            {
                "as_of": as_of.isoformat(),
                "start": generator.start.isoformat() if generator.start else None,
                "records": self.state.record_count,
            },
        )


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except json.JSONDecodeError as exc:
        raise SettingsError(f"request body is not JSON: {exc}") from None


def _int_param(value: str | None, default: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if number >= 1 else default


def _parse_sort(value: str) -> tuple[tuple[str, ...], bool] | None:
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


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OrdwaySandbox/1.0"
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        target = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, target.path, target.query, headers, body)
        try:
            response = self.server.app.handle(request)
        except Exception as exc:  # keep serving; name what failed without request headers
            print(f"sandbox: {self.command} {target.path} failed: {exc!r}", file=sys.stderr)
            response = _server_error(500)
        if response.delay and self.server.app.stall_abort.wait(response.delay):
            self.close_connection = True
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        reason = self.responses.get(response.status, ("",))[0]
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(response.body)}",
            f"X-Request-Id: {uuid.uuid4()}",
            "Cache-Control: no-cache",
        ]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (stats keep a log; headers are never logged)."""


class SandboxHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to a :class:`SandboxApp`."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        """Stop serving, release stalled requests and close the socket."""
        self.app.stall_abort.set()
        self.shutdown()
        self.server_close()
