"""A loopback HTTP server imitating the Ordway REST API v1 (ordway-api.md §2-7 and §14).

The server holds a *tenant* (a JSON object mapping collection names to record lists, see
TENANT.md) and serves it the way the real API does: bare JSON arrays, page/size paging that ends
with ``[]``, ``sort``, equality filters and the inclusive millisecond ``updated_date>`` filter,
four-header authentication, and the known error envelopes. On top of that it injects faults on
demand and exposes an unauthenticated admin API under ``/_sandbox/``.

One module per concern (README.md, "Layout"):

- ``routing``: ``SandboxApp`` (URL dispatch, transport-free ``handle(Request) -> Response``) and
  ``SandboxHTTPServer`` (the stdlib HTTP server around it).
- ``endpoints``: what differs between collections (key field, page size, ignored sort/filter,
  sub-resources): the one table to edit when a collection is added.
- ``listing``: paging, sort, filters and single records; ``ServeOptions``.
- ``faults``: ``FaultConfig`` and ``FaultInjector`` (rate limit, 5xx, latency, auth expiry,
  broken pages) and the ``unavailable`` 403/404 option.
- ``admin``: the ``/_sandbox/*`` routes and the request stats.
- ``state``: the tenant snapshots, their versions, DELETE/PUT and ``advance``.
- ``auth``: the four credentials and the constant-time header check.
- ``wire``: ``Request``/``Response``, JSON bytes, timestamps and the error envelopes.

The names below are the package's public interface; import them from ``ordway_sandbox.server``.
"""

from ordway_sandbox.server.auth import AUTH_HEADER_BY_ENV, DEMO_CREDENTIALS, load_credentials
from ordway_sandbox.server.endpoints import (
    COLLECTION_RULES,
    DEFAULT_IGNORE_FILTER,
    DEFAULT_IGNORE_SORT,
    CollectionRules,
    Parent,
)
from ordway_sandbox.server.faults import FaultConfig, FaultRule, SettingsError
from ordway_sandbox.server.listing import ServeOptions
from ordway_sandbox.server.routing import ADMIN_PREFIX, API_PREFIX, SandboxApp, SandboxHTTPServer
from ordway_sandbox.server.state import GeneratorParams, TenantError, TenantState
from ordway_sandbox.server.wire import Request, Response, parse_timestamp_ms

__all__ = [
    "ADMIN_PREFIX",
    "API_PREFIX",
    "AUTH_HEADER_BY_ENV",
    "COLLECTION_RULES",
    "DEFAULT_IGNORE_FILTER",
    "DEFAULT_IGNORE_SORT",
    "DEMO_CREDENTIALS",
    "CollectionRules",
    "FaultConfig",
    "FaultRule",
    "GeneratorParams",
    "Parent",
    "Request",
    "Response",
    "SandboxApp",
    "SandboxHTTPServer",
    "ServeOptions",
    "SettingsError",
    "TenantError",
    "TenantState",
    "load_credentials",
    "parse_timestamp_ms",
]
