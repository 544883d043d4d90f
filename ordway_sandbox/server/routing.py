"""URL dispatch (``SandboxApp``) and the HTTP transport around it (``SandboxHTTPServer``).

``SandboxApp.handle(Request) -> Response`` is the whole server without sockets: admin routes go
to ``admin``; an API request passes, in this order, latency, auth (incl. ``--auth-fail-after``),
the rate limit and the error rate (``faults``), then is routed to a list, a record, a
sub-resource (``listing``) or a DELETE (``state``), and page faults are applied. All of them
count in the stats. ``SandboxHTTPServer`` is a stdlib ``ThreadingHTTPServer`` (HTTP/1.1
keep-alive) that turns each HTTP request into a ``Request`` and writes the ``Response`` with a
single ``write``.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from ordway_sandbox.server.admin import Stats, handle_admin
from ordway_sandbox.server.auth import Authenticator
from ordway_sandbox.server.endpoints import sub_resource
from ordway_sandbox.server.faults import FaultConfig, FaultInjector, unavailable_response
from ordway_sandbox.server.listing import Lister, ServeOptions, get_record
from ordway_sandbox.server.state import GeneratorParams, TenantState, TenantStore
from ordway_sandbox.server.webhooks import WebhookSender
from ordway_sandbox.server.wire import (
    Request,
    Response,
    method_not_allowed,
    not_found,
    server_error,
    unauthorized,
)

API_PREFIX = "/api/v1"
ADMIN_PREFIX = "/_sandbox"


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
        self.tenant = TenantStore(tenant, generator)
        self.options = options or ServeOptions()
        self.injector = FaultInjector(faults)
        self.stall_abort = threading.Event()
        self._auth = Authenticator(credentials)
        self._lister = Lister()
        self._stats = Stats()
        self.webhooks = WebhookSender()

    # ---- state and configuration

    @property
    def state(self) -> TenantState:
        return self.tenant.state

    @property
    def generator(self) -> GeneratorParams | None:
        return self.tenant.generator

    @property
    def faults(self) -> FaultConfig:
        return self.injector.config

    def set_faults(self, config: FaultConfig) -> None:
        self.injector.configure(config)

    def set_options(self, options: ServeOptions) -> None:
        self.options = options

    def replace_tenant(self, tenant: Mapping[str, Any], generator: GeneratorParams | None) -> None:
        self.tenant.replace(tenant, generator)

    def reset_stats(self) -> None:
        self._stats.reset()

    def stats(self) -> dict[str, Any]:
        return self._stats.to_json()

    # ---- dispatch

    def handle(self, request: Request) -> Response:
        if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
            return handle_admin(self, request)
        segments = [unquote(s) for s in request.path.strip("/").split("/")]
        collection = segments[2] if len(segments) > 2 else ""
        if len(segments) == 5 and sub_resource(segments[2], segments[4]) is not None:
            collection = segments[4]  # /customers/<id>/payment_methods counts as payment_methods
        response = self._api(request, segments)
        self._stats.record(collection or request.path, request, response.status)
        return response

    def _api(self, request: Request, segments: list[str]) -> Response:
        number = self.injector.arrive()
        if self.injector.auth_expired(number) or not self._auth.accepts(request.headers):
            return unauthorized()
        throttled = self.injector.throttle()
        if throttled is not None:
            return throttled
        failed = self.injector.random_error(request)
        if failed is not None:
            return failed
        if segments[:2] != ["api", "v1"] or len(segments) < 3:
            return not_found(segments[0] if segments and segments[0] else "")
        route = segments[2:]
        if request.method == "GET":
            return self._get(route, request.query)
        if request.method == "DELETE" and len(route) == 2:
            return self._delete(*route)
        return method_not_allowed()

    def _get(self, route: list[str], query: str) -> Response:
        """``/<collection>``, ``/<collection>/<key>`` or ``/<parent>/<key>/<child>``."""
        state, options = self.state, self.options
        name = route[0]
        status = options.unavailable.get(name)
        if status is not None:  # a module the account's plan does not include
            return unavailable_response(name, status)
        collection = state.collections.get(name)
        if collection is None:
            return not_found(name)
        if len(route) == 1:
            return self._lister.page(state, collection, query, options, self.injector)
        if len(route) == 2:
            return get_record(collection, route[1])
        link = sub_resource(name, route[2]) if len(route) == 3 else None
        if link is None or route[1] not in collection.positions:
            return not_found(name)
        status = options.unavailable.get(route[2])
        if status is not None:  # the sub-resource's module is not in the account's plan
            return unavailable_response(route[2], status)
        return self._lister.children(state, link, route[1], route[2], query, options, self.injector)

    def _delete(self, name: str, record_key: str) -> Response:
        """A hard delete, answered 204 with an empty body (after its webhook, if configured)."""
        before = self.state
        if not self.tenant.delete(name, record_key):
            return not_found(name)
        self.webhooks.deliver(before, self.state)
        return Response(204)


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
            response = server_error(500)
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
