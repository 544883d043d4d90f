"""The HTTP client against an httpx.MockTransport (paging, retries, errors) and, for the rate
limiter, against the real sandbox's token bucket."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pipelines.config import OrdwaySettings
from pipelines.ordway.client import RATE_SAFETY, OrdwayAPIError, OrdwayClient, RateLimiter
from tests.support.source import generated_sandbox, source_env

SECRETS = {
    "api_key": "key-7f3a9c",
    "company": "Secret Company Ltd",
    "user_email": "finance-bot@secret.example",
    "user_token": "tok-55d1e0",
}


def make_settings(**overrides: object) -> OrdwaySettings:
    values: dict[str, object] = {
        **SECRETS,
        "base_url": "https://ordway.test/api/v1",
        "max_rps": 0,
        "max_retries": 3,
        "max_pages": 50,
    }
    values.update(overrides)
    return OrdwaySettings(**values)  # type: ignore[arg-type]


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, sleeps: list[float] | None = None, **overrides: object):
    recorded = sleeps if sleeps is not None else []
    return OrdwayClient(
        make_settings(**overrides),
        transport=httpx.MockTransport(handler),
        sleep=recorded.append,
    )


def records(start: int, count: int) -> list[dict[str, str]]:
    return [{"id": f"INV-{i:05d}"} for i in range(start, start + count)]


def pages_handler(pages: dict[int, object], calls: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        page = int(request.url.params["page"])
        return httpx.Response(200, json=pages.get(page, []))

    return handler


def test_every_request_carries_the_four_auth_headers_and_accepts_json() -> None:
    calls: list[httpx.Request] = []
    with make_client(pages_handler({}, calls)) as client:
        list(client.iter_pages("invoices", "/invoices", {"sort": "updated_date,id"}, 50))
    headers = calls[0].headers
    assert headers["X-API-KEY"] == SECRETS["api_key"]
    assert headers["X-User-Company"] == SECRETS["company"]
    assert headers["X-User-Email"] == SECRETS["user_email"]
    assert headers["X-User-Token"] == SECRETS["user_token"]
    assert headers["Accept"] == "application/json"
    assert calls[0].url.path == "/api/v1/invoices"
    assert calls[0].url.params["size"] == "50"
    assert calls[0].url.params["sort"] == "updated_date,id"


def test_paging_continues_past_a_short_page_until_an_empty_page() -> None:
    calls: list[httpx.Request] = []
    pages = {1: records(1, 3), 2: records(4, 1), 3: records(5, 3)}
    with make_client(pages_handler(pages, calls)) as client:
        got = list(client.iter_pages("invoices", "/invoices", {}, 3))
    assert [len(p) for p in got] == [3, 1, 3]
    assert [int(c.url.params["page"]) for c in calls] == [1, 2, 3, 4]


def test_a_page_identical_to_the_previous_one_is_reported_as_endless_paging() -> None:
    calls: list[httpx.Request] = []
    same = records(1, 2)
    with (
        make_client(pages_handler({1: same, 2: same, 3: same}, calls)) as client,
        pytest.raises(OrdwayAPIError, match="endless paging") as info,
    ):
        list(client.iter_pages("payments", "/payments", {}, 2))
    assert info.value.page == 2
    assert info.value.resource == "payments"


def test_endless_paging_is_detected_even_when_the_consumer_mutates_each_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=records(1, 2) if page <= 3 else records(9, 2))

    with make_client(handler) as client, pytest.raises(OrdwayAPIError, match="endless") as info:
        for page in client.iter_pages("invoices", "/invoices", {}, 2):
            for row in page:
                row["id"] = row["id"].lower()  # as the source's typing does in place
    assert info.value.page == 2


def test_the_max_pages_guard_stops_a_never_ending_listing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=records(page, 1))

    with (
        make_client(handler, max_pages=5) as client,
        pytest.raises(OrdwayAPIError, match="ORDWAY_MAX_PAGES=5") as info,
    ):
        list(client.iter_pages("credits", "/credits", {}, 1))
    assert info.value.page == 6


def test_usages_wrapped_in_an_object_with_a_total_are_unwrapped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = records(1, 2) if page == 1 else []
        return httpx.Response(200, json={"usages": rows, "total": 2})

    with make_client(handler) as client:
        got = list(client.iter_pages("usages", "/usages", {}, 50, wrapper_key="usages"))
    assert got == [records(1, 2)]


def test_an_object_where_a_list_is_expected_is_an_error_naming_the_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "INV-1"})

    with make_client(handler) as client, pytest.raises(OrdwayAPIError, match="JSON array"):
        list(client.iter_pages("invoices", "/invoices", {}, 50))


def scripted(responses: list[httpx.Response], calls: list[httpx.Request]) -> Handler:
    """Serves `responses` in order, then `[]` forever."""

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if responses:
            return responses.pop(0)
        return httpx.Response(200, json=[])

    return handler


def test_429_with_retry_after_waits_the_given_seconds_then_succeeds() -> None:
    calls: list[httpx.Request] = []
    sleeps: list[float] = []
    responses = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"status": 429}}),
        httpx.Response(200, json=records(1, 2)),
    ]
    with make_client(scripted(responses, calls), sleeps) as client:
        got = client.fetch_page("invoices", "/invoices", {}, page=1, size=50)
    assert got == records(1, 2)
    assert sleeps == [7.0]


def test_a_huge_retry_after_is_capped() -> None:
    sleeps: list[float] = []
    responses = [
        httpx.Response(429, headers={"Retry-After": "86400"}),
        httpx.Response(200, json=[]),
    ]
    with make_client(scripted(responses, []), sleeps) as client:
        client.fetch_page("invoices", "/invoices", {}, page=1, size=50)
    assert sleeps == [60.0]


def test_429_without_retry_after_backs_off_exponentially_with_jitter() -> None:
    sleeps: list[float] = []
    responses = [httpx.Response(429) for _ in range(3)] + [httpx.Response(200, json=[])]
    with make_client(scripted(responses, []), sleeps) as client:
        client.fetch_page("invoices", "/invoices", {}, page=1, size=50)
    assert len(sleeps) == 3
    # attempt n waits within [base*2^(n-1)/2, base*2^(n-1)] with base 0.5 s
    for attempt, slept in enumerate(sleeps, start=1):
        ceiling = 0.5 * 2 ** (attempt - 1)
        assert ceiling / 2 <= slept <= ceiling


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_burst_of_server_errors_is_retried(status: int) -> None:
    calls: list[httpx.Request] = []
    responses = [httpx.Response(status, text="oops")] * 2 + [
        httpx.Response(200, json=records(1, 1))
    ]
    with make_client(scripted(list(responses), calls)) as client:
        got = client.fetch_page("invoices", "/invoices", {}, page=1, size=50)
    assert got == records(1, 1)
    assert len(calls) == 3


@pytest.mark.parametrize(
    "bad",
    [
        httpx.Response(200, content=b'[{"id": "INV-1"'),
        httpx.Response(200, content=b""),
    ],
    ids=["malformed", "empty"],
)
def test_a_malformed_or_empty_body_is_retried(bad: httpx.Response) -> None:
    calls: list[httpx.Request] = []
    responses = [bad, httpx.Response(200, json=records(1, 1))]
    with make_client(scripted(responses, calls)) as client:
        got = client.fetch_page("invoices", "/invoices", {}, page=3, size=50)
    assert got == records(1, 1)
    assert len(calls) == 2


def test_timeouts_are_retried_and_then_reported_with_the_page() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("stalled", request=request)

    with (
        make_client(handler, max_retries=2) as client,
        pytest.raises(OrdwayAPIError, match="timeout") as info,
    ):
        client.fetch_page("refunds", "/refunds", {}, page=4, size=50)
    assert len(calls) == 3
    assert (info.value.resource, info.value.page) == ("refunds", 4)
    assert info.value.path == "/api/v1/refunds"


def test_retries_give_up_after_max_retries_with_the_last_status() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="Service Unavailable")

    with make_client(handler, max_retries=4) as client, pytest.raises(OrdwayAPIError) as info:
        client.fetch_page("payments", "/payments", {}, page=2, size=50)
    assert len(calls) == 5
    assert info.value.status == 503
    assert "Service Unavailable" in str(info.value)


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, json={"error": {"status": status, "title": "nope"}})

    with make_client(handler) as client, pytest.raises(OrdwayAPIError) as info:
        client.fetch_page("customers", "/customers", {}, page=1, size=50)
    assert len(calls) == 1
    assert info.value.status == status
    text = str(info.value)
    assert "resource=customers" in text and "path=/api/v1/customers" in text
    assert "page=1" in text and f"status={status}" in text


def test_credentials_never_appear_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    # a hostile server echoing every header back in its error body
    def handler(request: httpx.Request) -> httpx.Response:
        echoed = json.dumps(dict(request.headers))
        if request.url.params["page"] == "1":
            return httpx.Response(503, text=echoed)
        return httpx.Response(401, text=echoed)

    caplog.set_level(logging.DEBUG)
    with make_client(handler, max_retries=1) as client, pytest.raises(OrdwayAPIError) as info:
        client.fetch_page("customers", "/customers", {}, page=1, size=50)
    with make_client(handler) as client, pytest.raises(OrdwayAPIError) as info2:
        client.fetch_page("customers", "/customers", {}, page=2, size=50)
    texts = [str(info.value), str(info2.value), caplog.text]
    assert "status=503" in texts[0] and "status=401" in texts[1]
    assert "retrying" in caplog.text
    for secret in SECRETS.values():
        for text in texts:
            assert secret not in text


def test_rate_limiter_spaces_requests_across_threads() -> None:
    limiter = RateLimiter(rps=20)  # 50 ms apart
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 9
    # nine requests by three threads share one budget: at least eight 50 ms intervals
    assert max(stamps) - started >= 8 * 0.05 - 0.01


class _FakeTime:
    """A clock and a sleep for the limiter: sleeping moves the clock, overslept by the amounts
    queued in `oversleep` (a thread woken late by the scheduler)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.oversleep: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + (self.oversleep.pop(0) if self.oversleep else 0.0)


def test_rate_limiter_spaces_evenly_below_the_limit_and_never_bursts_after_idling() -> None:
    fake = _FakeTime()
    limiter = RateLimiter(rps=40, clock=fake.clock, sleep=fake.sleep)  # 25.8 ms with safety
    assert limiter.interval == pytest.approx(1 / (40 * RATE_SAFETY))
    limiter.acquire()
    fake.now += 0.3  # idle for 12 slots: none of them may be spent later as a burst
    fake.oversleep = [0.0, 0.02, 0.0, 0.0, 0.03]  # two late wake-ups
    stamps = []
    for _ in range(9):
        limiter.acquire()
        stamps.append(fake.clock())
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # never two requests together, even after an oversleep; on average one interval apart
    assert min(gaps) >= limiter.interval / 2 - 1e-9
    assert stamps[-1] - stamps[0] >= 8 * limiter.interval - 1e-9
    # an on-time sleep costs no rate: the planned slot, not the wake-up, sets the next one
    assert gaps[0] == pytest.approx(limiter.interval)


class _RecordingLimiter(RateLimiter):
    """The real limiter, noting when it releases each request."""

    def __init__(self, rps: float) -> None:
        super().__init__(rps)
        self.releases: list[float] = []

    def acquire(self) -> None:
        super().acquire()
        self.releases.append(time.monotonic())


def test_a_client_at_the_servers_rate_never_exceeds_it_and_every_request_succeeds() -> None:
    """Real sandbox over loopback with a token bucket of R = 5 req/s (burst 2) and six threads
    sharing one client at ORDWAY_MAX_RPS = R: the shared limiter never releases faster than R,
    and every request ends in a 200 (a 429, which a server stalled by the machine's load can
    still send, is retried). How close to R it gets, and how many 429s that costs, is a speed
    figure: `make bench` measures it (rate-limited row)."""
    rate, per_thread = 5, 4
    collections = ("customers", "products", "plans", "invoices", "payments", "credits")
    limiter = _RecordingLimiter(rate)
    with generated_sandbox() as sandbox:
        sandbox.set_faults({"rate_limit": rate, "burst": 2})
        settings = OrdwaySettings.from_env(source_env(sandbox, Path("."), ORDWAY_MAX_RPS=str(rate)))
        sandbox.reset_stats()
        with OrdwayClient(settings, limiter=limiter) as client:

            def worker(collection: str) -> None:
                for page in range(1, per_thread + 1):
                    client.fetch_page(collection, f"/{collection}", {}, page, 5)

            threads = [threading.Thread(target=worker, args=(c,)) for c in collections]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        statuses = sandbox.stats()["statuses"]
    requests = len(collections) * per_thread
    assert statuses.get("200", 0) == requests
    releases = limiter.releases
    assert len(releases) == requests + statuses.get("429", 0)
    achieved = (len(releases) - 1) / (releases[-1] - releases[0])
    assert achieved <= rate


def test_rate_limiter_zero_means_unlimited() -> None:
    limiter = RateLimiter(rps=0)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - started < 0.5
