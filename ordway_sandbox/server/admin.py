"""The unauthenticated admin API under ``/_sandbox/`` and the request statistics it reports.

Admin requests are not counted in the stats. Each route is one small function of the app and the
request; ``ADMIN_ROUTES`` is the table (README.md, "Admin API").
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ordway_sandbox.server.faults import FaultConfig, SettingsError
from ordway_sandbox.server.listing import ServeOptions
from ordway_sandbox.server.state import AdvanceRefused, TenantError
from ordway_sandbox.server.webhooks import WebhookConfig
from ordway_sandbox.server.wire import (
    Request,
    Response,
    bad_request,
    conflict,
    json_response,
)

if TYPE_CHECKING:
    from ordway_sandbox.server.routing import SandboxApp

LOG_LIMIT = 10_000


class Stats:
    """API requests per collection and per status, and a log of the last ``LOG_LIMIT``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._log: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)

    def record(self, collection: str, request: Request, status: int) -> None:
        with self._lock:
            self._requests[collection] += 1
            self._statuses[str(status)] += 1
            self._log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "status": status,
                }
            )

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "statuses": dict(self._statuses),
                "log": list(self._log),
            }


# ---------------------------------------------------------------- routes


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except json.JSONDecodeError as exc:
        raise SettingsError(f"request body is not JSON: {exc}") from None


def health(app: SandboxApp, request: Request) -> Response:
    state = app.state
    return json_response(
        200, {"status": "ok", "records": state.record_count, "tenant_version": state.version}
    )


def get_stats(app: SandboxApp, request: Request) -> Response:
    return json_response(200, app.stats())


def reset_stats(app: SandboxApp, request: Request) -> Response:
    app.reset_stats()
    return json_response(200, {"reset": True})


def get_tenant(app: SandboxApp, request: Request) -> Response:
    return Response(200, app.state.to_json())


def put_tenant(app: SandboxApp, request: Request) -> Response:
    app.replace_tenant(_json_body(request), generator=None)
    return json_response(200, {"records": app.state.record_count})


def get_faults(app: SandboxApp, request: Request) -> Response:
    return json_response(200, app.faults.to_json())


def set_faults(app: SandboxApp, request: Request) -> Response:
    app.set_faults(FaultConfig.from_mapping(_json_body(request)))
    return json_response(200, app.faults.to_json())


def get_options(app: SandboxApp, request: Request) -> Response:
    return json_response(200, app.options.to_json())


def set_options(app: SandboxApp, request: Request) -> Response:
    app.set_options(ServeOptions.from_mapping(_json_body(request)))
    return json_response(200, app.options.to_json())


def advance(app: SandboxApp, request: Request) -> Response:
    days_param = dict(parse_qsl(request.query)).get("days", "1")
    try:
        days = int(days_param)
    except ValueError:
        raise SettingsError(f"days must be an integer, got {days_param!r}") from None
    if days < 1:
        raise SettingsError("days must be >= 1")
    before = app.state
    try:
        advanced = app.tenant.advance(days)
    except AdvanceRefused as exc:
        return conflict(str(exc))
    delivered = app.webhooks.deliver(before, app.state)
    assert advanced.as_of is not None
    return json_response(
        200,
        {
            "as_of": advanced.as_of.isoformat(),
            "start": advanced.start.isoformat() if advanced.start else None,
            "records": app.state.record_count,
            "webhooks": delivered,
        },
    )


def upsert(app: SandboxApp, request: Request) -> Response:
    """``{"collection": name, "record": {...}}``: creates the record, or replaces the one with its
    key (a user's edit in Ordway); a generated tenant stays generated (``advance`` rebuilds it
    from the generator, dropping the edit). Delivers the change's webhook."""
    body = _json_body(request)
    name, record = body.get("collection"), body.get("record")
    if not isinstance(name, str) or not isinstance(record, dict):
        raise SettingsError('upsert needs {"collection": name, "record": {...}}')
    before = app.state
    if name not in before.collections:
        raise SettingsError(f"no collection {name!r}")
    key = before.collections[name].key
    document = json.loads(before.to_json())
    records = [r for r in document[name] if str(r.get(key)) != str(record.get(key))]
    document[name] = [*records, record]
    app.tenant.replace(document, app.generator)
    delivered = app.webhooks.deliver(before, app.state)
    return json_response(200, {"records": app.state.record_count, "webhooks": delivered})


def get_webhooks(app: SandboxApp, request: Request) -> Response:
    return json_response(200, app.webhooks.to_json())


def set_webhooks(app: SandboxApp, request: Request) -> Response:
    app.webhooks.configure(WebhookConfig.from_mapping(_json_body(request)))
    return json_response(200, app.webhooks.to_json())


ADMIN_ROUTES: dict[tuple[str, str], Callable[[SandboxApp, Request], Response]] = {
    ("GET", "/_sandbox/health"): health,
    ("GET", "/_sandbox/stats"): get_stats,
    ("POST", "/_sandbox/stats/reset"): reset_stats,
    ("GET", "/_sandbox/tenant"): get_tenant,
    ("PUT", "/_sandbox/tenant"): put_tenant,
    ("GET", "/_sandbox/faults"): get_faults,
    ("POST", "/_sandbox/faults"): set_faults,
    ("GET", "/_sandbox/options"): get_options,
    ("POST", "/_sandbox/options"): set_options,
    ("POST", "/_sandbox/advance"): advance,
    ("POST", "/_sandbox/upsert"): upsert,
    ("GET", "/_sandbox/webhooks"): get_webhooks,
    ("POST", "/_sandbox/webhooks"): set_webhooks,
}


def handle_admin(app: SandboxApp, request: Request) -> Response:
    route = ADMIN_ROUTES.get((request.method, request.path.rstrip("/")))
    if route is None:
        return json_response(
            404, {"errors": {"status": 404, "source": "_sandbox", "details": "No such admin route"}}
        )
    try:
        return route(app, request)
    except (TenantError, SettingsError) as exc:
        return bad_request(str(exc))
