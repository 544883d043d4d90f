"""Fault injection of the sandbox server, set by CLI flags and at runtime via /_sandbox/faults.

The server runs in a thread of the test process (``SandboxThread``) over real loopback HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ordway_sandbox.process import SandboxThread

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_tenant.json"
BODY_401 = '{"error":{"status":401,"title":"Invalid Email/Token combination."}}'
BODY_429 = '{"error":{"status":429,"title":"Too Many Requests"}}'
BODY_500 = '{"error":{"status":500,"title":"Internal Server Error"}}'
# 20 invoices INV-00001..INV-00020 keep page arithmetic easy to follow by hand.
TWENTY = {"invoices": [{"id": f"INV-{n:05d}"} for n in range(1, 21)], "customers": [{"id": "C-1"}]}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(tenant=TWENTY) as process:
        yield process


@pytest.fixture
def http(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    """A client on the shared server, whose faults are cleared before and after each test."""
    sandbox.set_faults({})
    with sandbox.client() as client:
        yield client
    sandbox.set_faults({})


def page_ids(client: httpx.Client, page: int, size: int = 4) -> list[str]:
    response = client.get("/invoices", params={"sort": "id", "size": size, "page": page})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


# ---------------------------------------------------------------- rate limit


def test_rate_limit_answers_429_with_retry_after_then_recovers() -> None:
    # 0.5 tokens/s: the burst of 2 is spent by two requests and takes 2 s to come back.
    with (
        SandboxThread(["--rate-limit", "0.5", "--burst", "2"], tenant=TWENTY) as process,
        process.client() as client,
    ):
        responses = [client.get("/invoices") for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 429]
        assert responses[2].text == BODY_429
        retry_after = responses[2].headers["retry-after"]
        assert retry_after in ("1", "2")
        time.sleep(int(retry_after) + 0.1)
        assert client.get("/invoices").status_code == 200
        assert process.stats()["statuses"] == {"200": 3, "429": 1}


def test_rate_limit_without_retry_after_header() -> None:
    args = ["--rate-limit", "0.2", "--burst", "1", "--no-retry-after"]
    with SandboxThread(args, tenant=TWENTY) as process, process.client() as client:
        first, second = client.get("/invoices"), client.get("/invoices")
        assert (first.status_code, second.status_code) == (200, 429)
        assert "retry-after" not in second.headers
        assert second.text == BODY_429


def test_rate_limit_set_at_runtime_and_cleared(sandbox: SandboxThread, http: httpx.Client) -> None:
    sandbox.set_faults({"rate_limit": 0.2, "burst": 1})
    assert [http.get("/invoices").status_code for _ in range(2)] == [200, 429]
    sandbox.set_faults({})
    assert {http.get("/invoices").status_code for _ in range(5)} == {200}


# ---------------------------------------------------------------- random errors


def _statuses(process: SandboxThread, requests: int) -> list[int]:
    with process.client() as client:
        return [
            client.get("/invoices", params={"page": n % 3 + 1}).status_code for n in range(requests)
        ]


def test_error_rate_is_deterministic_for_a_seed() -> None:
    args = ["--error-rate", "0.3", "--fault-seed", "7"]
    with SandboxThread(args, tenant=TWENTY) as first:
        one = _statuses(first, 90)
    with SandboxThread(args, tenant=TWENTY) as second:
        two = _statuses(second, 90)
    with SandboxThread(["--error-rate", "0.3", "--fault-seed", "8"], tenant=TWENTY) as other:
        three = _statuses(other, 90)
    assert one == two
    assert one != three
    failures = [s for s in one if s != 200]
    assert set(failures) <= {500, 502, 503}
    assert 10 <= len(failures) <= 50  # 30% of 90 = 27, a deterministic draw


def test_error_rate_zero_and_one(sandbox: SandboxThread, http: httpx.Client) -> None:
    sandbox.set_faults({"error_rate": 1.0, "fault_seed": 3})
    responses = [http.get("/invoices/INV-00001") for _ in range(6)]
    assert all(r.status_code in (500, 502, 503) for r in responses)
    assert all(r.json()["error"]["status"] == r.status_code for r in responses)
    sandbox.set_faults({"error_rate": 0.0})
    assert {http.get("/invoices").status_code for _ in range(6)} == {200}


def test_a_retried_request_gets_a_fresh_draw(sandbox: SandboxThread, http: httpx.Client) -> None:
    sandbox.set_faults({"error_rate": 0.5, "fault_seed": 11})
    statuses = [http.get("/invoices", params={"page": 1}).status_code for _ in range(20)]
    assert 200 in statuses
    assert any(s >= 500 for s in statuses)


# ---------------------------------------------------------------- latency and stalls


def test_latency_delays_every_api_request(sandbox: SandboxThread, http: httpx.Client) -> None:
    sandbox.set_faults({"latency_ms": 700})
    for path in ("/invoices", "/invoices/INV-00001"):
        started = time.monotonic()
        assert http.get(path).status_code == 200
        assert time.monotonic() - started >= 0.7
    sandbox.set_faults({})
    started = time.monotonic()
    assert http.get("/invoices").status_code == 200
    assert time.monotonic() - started < 0.6


def test_timeout_fault_stalls_the_page_then_serves_it(
    sandbox: SandboxThread, http: httpx.Client
) -> None:
    sandbox.set_faults({"faults": ["timeout:invoices:1"], "stall_seconds": 3})
    with pytest.raises(httpx.ReadTimeout):
        http.get("/invoices", params={"page": 1}, timeout=0.5)
    started = time.monotonic()
    assert http.get("/invoices", params={"page": 1}).status_code == 200
    assert time.monotonic() - started < 2.0  # served at once, not after the 3 s stall


def test_stop_releases_a_stalled_request_at_once() -> None:
    args = ["--fault", "timeout:invoices:1", "--stall-seconds", "60"]
    process = SandboxThread(args, tenant=TWENTY)
    process.start()
    outcome: list[object] = []

    def stalled() -> None:
        try:
            outcome.append(
                httpx.get(process.base_url + "/invoices", headers=process.headers, timeout=90)
            )
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=stalled)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    process.stop()
    thread.join(timeout=10)
    assert time.monotonic() - started < 4
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.HTTPError)


# ---------------------------------------------------------------- broken pages


def test_malformed_page_is_200_with_truncated_json_once(
    sandbox: SandboxThread, http: httpx.Client
) -> None:
    sandbox.set_faults({"faults": ["malformed:invoices:2"]})
    assert page_ids(http, 1) == ["INV-00001", "INV-00002", "INV-00003", "INV-00004"]
    broken = http.get("/invoices", params={"sort": "id", "size": 4, "page": 2})
    assert broken.status_code == 200
    assert broken.content.startswith(b"[{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert page_ids(http, 2) == ["INV-00005", "INV-00006", "INV-00007", "INV-00008"]


def test_empty_page_is_200_with_an_empty_body(sandbox: SandboxThread, http: httpx.Client) -> None:
    sandbox.set_faults({"faults": ["empty:invoices:1"]})
    response = http.get("/invoices")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert http.get("/invoices").content.startswith(b"[{")


def test_error_fault_fires_count_times_then_the_page_is_served(
    sandbox: SandboxThread, http: httpx.Client
) -> None:
    sandbox.set_faults({"faults": ["error:invoices:3:2"]})
    assert page_ids(http, 1) == ["INV-00001", "INV-00002", "INV-00003", "INV-00004"]
    for _ in range(2):
        failed = http.get("/invoices", params={"sort": "id", "size": 4, "page": 3})
        assert failed.status_code == 500
        assert failed.text == BODY_500
    assert page_ids(http, 3) == ["INV-00009", "INV-00010", "INV-00011", "INV-00012"]
    assert http.get("/customers", params={"page": 3}).status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "title"),
    [("error502", 502, "Bad Gateway"), ("error503", 503, "Service Unavailable")],
)
def test_error_fault_can_answer_502_or_503(
    sandbox: SandboxThread, http: httpx.Client, kind: str, status: int, title: str
) -> None:
    sandbox.set_faults({"faults": [f"{kind}:*:1"]})
    response = http.get("/customers")
    assert response.status_code == status
    assert response.json() == {"error": {"status": status, "title": title}}


def test_short_page_shifts_later_pages_so_nothing_is_lost_or_repeated(
    sandbox: SandboxThread, http: httpx.Client
) -> None:
    sandbox.set_faults({"faults": ["short:invoices:2"]})
    pages = []
    for page in range(1, 20):
        rows = page_ids(http, page)
        pages.append(rows)
        if not rows:
            break
    assert pages[1] == ["INV-00005", "INV-00006"]  # short, yet not the last page
    assert pages[2] == ["INV-00007", "INV-00008", "INV-00009", "INV-00010"]
    collected = [i for rows in pages for i in rows]
    assert collected == [f"INV-{n:05d}" for n in range(1, 21)]
    assert pages[-1] == []


def test_repeat_fault_returns_the_same_page_forever(
    sandbox: SandboxThread, http: httpx.Client
) -> None:
    sandbox.set_faults({"faults": ["repeat:invoices:2"]})
    second = ["INV-00005", "INV-00006", "INV-00007", "INV-00008"]
    assert page_ids(http, 1) == ["INV-00001", "INV-00002", "INV-00003", "INV-00004"]
    for page in (2, 3, 6, 50, 1000):
        assert page_ids(http, page) == second


def test_fault_flags_on_the_command_line() -> None:
    args = ["--fault", "error:invoices:1:1", "--fault", "empty:customers:1"]
    with SandboxThread(args, tenant=TWENTY) as process, process.client() as client:
        assert client.get("/invoices").status_code == 500
        assert client.get("/invoices").status_code == 200
        assert client.get("/customers").content == b""
        config = httpx.get(process.admin_url + "/faults").json()
        assert [(f["kind"], f["remaining"]) for f in config["faults"]] == [
            ("error", 0),
            ("empty", 0),
        ]


# ---------------------------------------------------------------- auth expiry and admin


def test_auth_fail_after_n_requests() -> None:
    with SandboxThread(["--auth-fail-after", "3"], tenant=TWENTY) as process:
        with process.client() as client:
            responses = [client.get("/invoices") for _ in range(5)]
        assert [r.status_code for r in responses] == [200, 200, 200, 401, 401]
        assert responses[3].text == BODY_401


def test_fault_config_is_replaced_not_merged(sandbox: SandboxThread, http: httpx.Client) -> None:
    sandbox.set_faults({"latency_ms": 50, "faults": ["error:invoices:1:5"]})
    config = sandbox.set_faults({"auth_fail_after": 1000})
    assert config["latency_ms"] == 0.0
    assert config["faults"] == []
    assert config["auth_fail_after"] == 1000
    assert http.get("/invoices").status_code == 200


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"faults": ["explode:invoices:1"]}, "kind"),
        ({"faults": ["error:invoices"]}, "KIND:COLLECTION:PAGE"),
        ({"faults": ["error:invoices:zero"]}, "integers"),
        ({"error_rate": 2}, "error_rate"),
        ({"rate_limt": 2}, "rate_limt"),
    ],
)
def test_invalid_fault_settings_are_rejected_naming_the_setting(
    sandbox: SandboxThread, settings: dict, named: str
) -> None:
    response = httpx.post(sandbox.admin_url + "/faults", json=settings)
    assert response.status_code == 400
    assert named in response.json()["errors"]["details"]["message"]


def test_invalid_fault_flag_stops_the_server_with_a_clear_error() -> None:
    process = SandboxThread(["--fault", "explode:invoices:1"], tenant=TWENTY, startup_timeout=30)
    with pytest.raises(RuntimeError, match="explode"):
        process.start()
