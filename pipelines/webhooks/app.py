"""The receiver: a Starlette app with one endpoint, ``POST /ordway/webhooks``.

For each delivery, in this order:

1. the shared secret in the ``WEBHOOK_SECRET_HEADER`` header is compared with ``WEBHOOK_SECRET``
   in constant time (``hmac.compare_digest``); a missing or different value is answered 401 and
   not stored (the log line names the client and the header, never a value);
2. the body is validated (``envelope.py``); a body that is not an envelope is answered 400 (413
   above ``MAX_BODY_BYTES``) with the reason, and kept in the ``rejected`` table;
3. the event is committed to the store (``store.py``) and only then answered: 200
   ``{"status": "accepted", "dedup_key": ...}`` for a new event, 200 ``{"status":
   "duplicate", ...}`` for one seen before (acknowledged, ignored).

It never calls Ordway: the Dagster sensors read the store (``assets/webhooks.py``).
``GET /health`` answers 200 with the store's counts (no authentication; no record content).
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipelines.webhooks.envelope import EnvelopeError, parse_envelope
from pipelines.webhooks.store import WebhookStore

log = logging.getLogger("pipelines.webhooks")

PATH = "/ordway/webhooks"
MAX_BODY_BYTES = 5 * 1024 * 1024


def build_app(secret: str, header: str, db_path: Path | str) -> Starlette:
    """The receiver for one secret, header name and store file."""
    if not secret:
        raise ValueError("the webhook secret is empty; set WEBHOOK_SECRET")
    expected = secret.encode("utf-8")
    store = WebhookStore(db_path)

    async def receive(request: Request) -> JSONResponse:
        given = request.headers.get(header)
        if given is None or not hmac.compare_digest(given.encode("utf-8"), expected):
            client = request.client.host if request.client else "unknown"
            log.warning(
                "webhook from %s refused: header %s %s",
                client,
                header,
                "missing" if given is None else "does not match WEBHOOK_SECRET",
            )
            return JSONResponse({"status": "unauthorized"}, status_code=401)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            reason = f"body of {len(body)} bytes is larger than {MAX_BODY_BYTES}"
            await run_in_threadpool(store.reject, 413, reason, body[:65536])
            return JSONResponse({"status": "rejected", "reason": reason}, status_code=413)
        try:
            envelope = parse_envelope(body)
        except EnvelopeError as exc:
            await run_in_threadpool(store.reject, 400, str(exc), body)
            log.warning("webhook rejected (400): %s", exc)
            return JSONResponse({"status": "rejected", "reason": str(exc)}, status_code=400)
        new = await run_in_threadpool(store.add, envelope, body)
        if not new:
            log.info("duplicate webhook ignored: %s", envelope.dedup_key)
        return JSONResponse(
            {"status": "accepted" if new else "duplicate", "dedup_key": envelope.dedup_key}
        )

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", **await run_in_threadpool(store.counts)})

    app = Starlette(
        routes=[
            Route(PATH, receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    app.state.store = store
    return app


__all__ = ["MAX_BODY_BYTES", "PATH", "build_app"]
