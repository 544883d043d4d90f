"""What goes over the wire: requests, responses, JSON bytes, timestamps and the error envelopes.

Every other server module builds its answers from these, so an envelope is written once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BODY_401 = b'{"error":{"status":401,"title":"Invalid Email/Token combination."}}'
BODY_429 = b'{"error":{"status":429,"title":"Too Many Requests"}}'
ERROR_TITLES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (the `timeout` fault)


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


# ---------------------------------------------------------------- responses and envelopes


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, encode_json(payload), headers or {})


def unauthorized() -> Response:
    return Response(401, BODY_401)


def not_found(collection: str) -> Response:
    return json_response(
        404, {"errors": {"status": 404, "source": collection, "details": "Record not found"}}
    )


def forbidden(collection: str) -> Response:
    return json_response(
        403, {"errors": {"status": 403, "source": collection, "details": "Forbidden"}}
    )


def unprocessable(message: str) -> Response:
    return json_response(422, {"errors": {"details": {"message": message}}})


def bad_request(message: str) -> Response:
    return json_response(400, {"errors": {"details": {"message": message}}})


def conflict(details: str) -> Response:
    return json_response(409, {"errors": {"status": 409, "details": details}})


def method_not_allowed() -> Response:
    return json_response(405, {"error": {"status": 405, "title": "Method Not Allowed"}})


def server_error(status: int) -> Response:
    return json_response(status, {"error": {"status": status, "title": ERROR_TITLES[status]}})
