"""Injected faults: rate limiting, random 5xx, latency, auth expiry, broken or stalled pages, and
collections the account's plan does not include (403/404).

``FaultConfig`` is the setting (CLI flags or ``POST /_sandbox/faults``); ``FaultInjector`` applies
it to requests and keeps its counters. ``--error-rate`` decides per request from a hash of (seed,
method, target, how many times this exact target was requested), so a run is reproducible even
with concurrent clients. ``short`` and ``repeat`` are persistent page-layout bugs (their COUNT is
ignored); the other kinds fire COUNT times.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ordway_sandbox.server.wire import (
    BODY_429,
    Request,
    Response,
    forbidden,
    not_found,
    server_error,
)

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
UNAVAILABLE_STATUSES = (403, 404)


class SettingsError(ValueError):
    """An invalid fault or option setting (names the setting)."""


def normalise_keys(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Setting names as given on the command line (``-``) or in JSON (``_``) -> ``_``."""
    if not isinstance(settings, Mapping):
        raise SettingsError("settings must be a JSON object")
    return {str(k).replace("-", "_"): v for k, v in settings.items()}


# ---------------------------------------------------------------- unavailable collections


def parse_unavailable(value: Any) -> dict[str, int]:
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


def unavailable_response(collection: str, status: int) -> Response:
    """The answer for a collection the account cannot see: 403 Forbidden or 404 not found."""
    return not_found(collection) if status == 404 else forbidden(collection)


# ---------------------------------------------------------------- settings


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
        settings = normalise_keys(settings)
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


# ---------------------------------------------------------------- applying them


class FaultInjector:
    """Applies a ``FaultConfig`` to API requests; ``configure`` replaces it and its counters."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._bucket = (
                TokenBucket(config.rate_limit, config.burst) if config.rate_limit else None
            )
            self._api_requests_seen = 0
            self._target_counts: Counter[str] = Counter()

    # -- before routing, in this order: latency, auth expiry, rate limit, error rate

    def arrive(self) -> int:
        """Sleep ``latency_ms``; returns the request's number since the config was set."""
        config = self.config
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000.0)
        with self._lock:
            self._api_requests_seen += 1
            return self._api_requests_seen

    def auth_expired(self, number: int) -> bool:
        """Whether request ``number`` comes after ``auth_fail_after`` (the token expired)."""
        limit = self.config.auth_fail_after
        return limit is not None and number > limit

    def throttle(self) -> Response | None:
        """429 (with ``Retry-After`` unless switched off) when the token bucket is empty."""
        bucket = self._bucket
        if bucket is None:
            return None
        wait = bucket.take()
        if not wait:
            return None
        retry = {"Retry-After": str(max(1, math.ceil(wait)))} if self.config.retry_after else {}
        return Response(429, BODY_429, retry)

    def random_error(self, request: Request) -> Response | None:
        """A 500/502/503 drawn for this request (``error_rate``), or None."""
        config = self.config
        if not config.error_rate:
            return None
        target = f"{request.method} {request.path}?{request.query}"
        with self._lock:
            self._target_counts[target] += 1
            occurrence = self._target_counts[target]
        digest = hashlib.sha256(f"{config.fault_seed}|{target}|{occurrence}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2.0**64
        if draw >= config.error_rate:
            return None
        return server_error((500, 502, 503)[digest[8] % 3])

    # -- list pages

    def page_bounds(self, name: str, page: int, size: int, total: int) -> tuple[int, int]:
        """Row slice of a page, honouring `short` and `repeat` page-layout faults."""
        rules = [r for r in self.config.faults if r.applies_to(name)]
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

    def page_fault(self, name: str, page: int, response: Response) -> Response:
        """Apply the first firing fault rule for this list page, if any."""
        with self._lock:
            rule = next(
                (
                    r
                    for r in self.config.faults
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
            response.delay = self.config.stall_seconds
            return response
        status = int(rule.kind[5:]) if rule.kind != "error" else 500
        if status in UNAVAILABLE_STATUSES:  # a permission or routing error on this page only
            return unavailable_response(name, status)
        return server_error(status)
