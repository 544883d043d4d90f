"""The sandbox delivers webhooks when the tenant changes: every created, edited and removed
record once (plus the switched-on duplicates), retried after a 5xx or a timeout, filtered per
object and action like Ordway's configuration."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ordway_sandbox.process import SandboxThread

ARGS = ["--customers", "6", "--seed", "3", "--as-of", "2026-05-30"]


class Collector:
    """A loopback receiver that answers ``fail_first`` 503s to each distinct body, then 200."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        refused: Counter[bytes] = Counter()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if refused[raw] < fail_first:
                    refused[raw] += 1
                    self.send_response(503)
                else:
                    collector.bodies.append(json.loads(raw))
                    collector.headers.append(dict(self.headers.items()))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(ARGS) as running:
        yield running


def expected_changes(before: dict[str, Any], after: dict[str, Any]) -> Counter[tuple[str, str]]:
    """(collection, action) counts computed from the two tenant documents."""
    counts: Counter[tuple[str, str]] = Counter()
    for name, records in after.items():
        if name.startswith("_") or name == "webhooks" or not isinstance(records, list):
            continue
        old = {json.dumps(r, sort_keys=True) for r in before.get(name, [])}
        old_ids = {r["id"] for r in before.get(name, []) if "id" in r}
        for record in records:
            if record.get("id") not in old_ids:
                counts[(name, "create")] += 1
            elif json.dumps(record, sort_keys=True) not in old:
                counts[(name, "edit")] += 1
        ids = {r.get("id") for r in records}
        counts[(name, "remove")] += sum(1 for r in before.get(name, []) if r.get("id") not in ids)
    return +counts


def test_advance_delivers_each_change_with_the_headers_retrying_after_503(
    sandbox: SandboxThread,
) -> None:
    collector = Collector(fail_first=1)
    try:
        before = sandbox.get_tenant()
        sandbox.set_webhooks({"url": collector.url, "headers": {"X-Token": "t0k"}, "retries": 2})
        answer = sandbox.advance(3)
        after = sandbox.get_tenant()
    finally:
        collector.close()
    plural = {"Customer": "customers", "Payment": "payments", "Invoice": "invoices"}
    got: Counter[tuple[str, str]] = Counter()
    for body in collector.bodies:
        assert set(body) == {"object", "action", "timestamp", "data"}
        if body["action"] == "auto_retrial":
            continue
        name = plural.get(body["object"])
        if name:
            got[(name, body["action"])] += 1
    expected = expected_changes(before, after)
    for key in got.keys() | {k for k in expected if k[0] in plural.values()}:
        assert got[key] == expected[key], key
    assert sum(expected.values()) > 0
    assert all(h["X-Token"] == "t0k" for h in collector.headers)
    # every envelope failed once with 503, then was delivered: two attempts each
    assert answer["webhooks"]["failed"] == 0
    assert answer["webhooks"]["attempts"] == 2 * answer["webhooks"]["delivered"]
    log = sandbox.webhooks()["log"]
    assert Counter(entry["status"] for entry in log) == Counter(
        {503: answer["webhooks"]["delivered"], 200: answer["webhooks"]["delivered"]}
    )
    assert "t0k" not in json.dumps(sandbox.webhooks())


def test_duplicates_and_reordering_are_switchable_and_events_filter_per_object(
    sandbox: SandboxThread,
) -> None:
    collector = Collector()
    try:
        sandbox.set_webhooks(
            {
                "url": collector.url,
                "events": {"Payment": {"create": True, "edit": False, "remove": True}},
                "duplicates": 1,
                "reorder": True,
            }
        )
        answer = sandbox.advance(5)
    finally:
        collector.close()
    assert {(b["object"], b["action"]) for b in collector.bodies} <= {("Payment", "create")}
    per_payment = Counter(b["data"]["id"] for b in collector.bodies)
    assert per_payment and set(per_payment.values()) == {2}
    assert answer["webhooks"]["delivered"] == 2 * answer["webhooks"]["envelopes"]


def test_a_receiver_that_never_answers_2xx_is_retried_then_given_up(
    sandbox: SandboxThread,
) -> None:
    collector = Collector(fail_first=10)
    try:
        sandbox.set_webhooks(
            {"url": collector.url, "retries": 2, "events": {"Payment": {"create": True}}}
        )
        answer = sandbox.advance(5)
    finally:
        collector.close()
    counts = answer["webhooks"]
    assert counts["envelopes"] > 0
    assert counts["failed"] == counts["envelopes"] and counts["delivered"] == 0
    assert counts["attempts"] == 3 * counts["envelopes"]
