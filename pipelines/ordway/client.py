"""HTTP client for the Ordway list endpoints: auth headers, page-number paging, retries with
backoff, a shared requests-per-second limiter and error wrapping.

Errors never contain header values or query strings; they name the resource, the URL path, the
page, the HTTP status and a short excerpt of the response body (with any credential value that
the server might echo masked out).
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from dlt.common.json import json as dlt_json
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from pipelines.config import OrdwaySettings
from pipelines.ordway.progress import ProgressObserver

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 200
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504}) | frozenset(range(505, 600))


class OrdwayError(Exception):
    """Base class for every error raised by the Ordway source."""


@dataclass
class _Where:
    resource: str
    path: str
    page: int | None


class OrdwayAPIError(OrdwayError):
    """A request failed for good: names resource, path, page, status and a body excerpt."""

    def __init__(
        self,
        message: str,
        *,
        resource: str,
        path: str,
        page: int | None,
        status: int | None = None,
        excerpt: str = "",
    ) -> None:
        self.resource = resource
        self.path = path
        self.page = page
        self.status = status
        self.excerpt = excerpt
        where = f"resource={resource} path={path}"
        if page is not None:
            where += f" page={page}"
        if status is not None:
            where += f" status={status}"
        text = f"Ordway API error ({where}): {message}"
        if excerpt:
            text += f" | body: {excerpt}"
        super().__init__(text)


class RetryableAPIError(OrdwayAPIError):
    """A failure worth retrying (429, 5xx, timeout, transport error, malformed body)."""

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


#: Fraction of ORDWAY_MAX_RPS the limiter aims at. Requests leave evenly spaced, but thread
#: scheduling, the GIL and the network jitter their arrival; without slack every late request
#: costs the server's window a little capacity that later on-time requests never give back,
#: and a 429 follows (8 of 330 requests in the benchmark at exactly R). 3 % of slack absorbs
#: the jitter whatever the server's window algorithm.
RATE_SAFETY = 0.97


class RateLimiter:
    """Thread-safe limiter releasing requests evenly at rps x RATE_SAFETY per second, with no
    bursts: idle time never earns catch-up slots (0 = unlimited).

    One instance is shared by every resource of a run, so parallel resources together stay
    under the limit.
    """

    def __init__(
        self,
        rps: float,
        clock: Callable[[], float] = time.monotonic,
        safety: float = RATE_SAFETY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / (rps * safety) if rps > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def acquire(self) -> None:
        if self.interval == 0.0:
            return
        # The lock is held while sleeping, so slots are released in order. The next slot is one
        # interval after this one's planned time (a small oversleep does not cost rate), but
        # never less than half an interval after the actual release (a long stall under CPU
        # load does not let two requests leave together).
        with self._lock:
            now = self._clock()
            planned = max(now, self._next)
            if planned > now:
                self._sleep(planned - now)
            released = self._clock()
            self._next = max(planned + self.interval, released + self.interval / 2)


def _retry_after_seconds(value: str | None) -> float | None:
    """Parses Retry-After (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _connect_reason(exc: httpx.ConnectError) -> str:
    """Why a connection failed, in words (the OS error text without errno noise)."""
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename" in text or "name resolution" in text:
        return "the host name does not resolve"
    if "unreachable" in text:
        return "network unreachable"
    if "certificate" in text or "ssl" in text:
        return "TLS handshake failed"
    return type(exc).__name__


class OrdwayClient:
    """Synchronous client owning one `httpx.Client` with the four Ordway auth headers.

    `fetch_page` GETs one page with retries; `iter_pages` pages until an empty page.
    `progress` is told of every request, retry, page and finished listing.
    """

    def __init__(
        self,
        settings: OrdwaySettings,
        *,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        progress: ProgressObserver | None = None,
    ) -> None:
        self.settings = settings
        self.progress = progress or ProgressObserver()
        self.limiter = limiter or RateLimiter(settings.max_rps)
        self._sleep = sleep
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._base_path = settings.base_path
        self._host = settings.api_address
        self._secrets = tuple(s for s in settings.secrets() if s)
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/",
            headers={
                "X-API-KEY": settings.api_key,
                "X-User-Company": settings.company,
                "X-User-Email": settings.user_email,
                "X-User-Token": settings.user_token,
                "Accept": "application/json",
            },
            timeout=settings.timeout_seconds,
            transport=transport,
            follow_redirects=False,
        )

    # ---- lifecycle ----
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OrdwayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- helpers ----
    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _excerpt(self, response: httpx.Response) -> str:
        try:
            text = response.text
        except Exception:  # undecodable body
            return "<undecodable body>"
        text = " ".join(text.split())
        return self._mask(text[:EXCERPT_CHARS])

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with full jitter; a capped Retry-After wins when present."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableAPIError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.max_retry_after_seconds)
        ceiling = min(self._backoff_max, self._backoff_base * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning("retrying after attempt %d (%.2fs): %s", state.attempt_number, wait, exc)
        if isinstance(exc, OrdwayAPIError):
            self.progress.on_retry(exc.resource)

    # ---- requests ----
    def _get_once(self, where: _Where, params: Mapping[str, Any]) -> tuple[Any, bytes]:
        """One GET: the decoded JSON body and the raw bytes it was decoded from."""
        self.limiter.acquire()
        self.progress.on_request(where.resource)
        path = where.path.lstrip("/")
        full_path = f"{self._base_path}/{path}"
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise RetryableAPIError(
                f"timeout after {self.settings.timeout_seconds:g}s ({type(exc).__name__})",
                resource=where.resource,
                path=full_path,
                page=where.page,
            ) from None
        except httpx.ConnectError as exc:
            raise RetryableAPIError(
                f"cannot connect to {self._host} (ORDWAY_BASE_URL): {_connect_reason(exc)}; "
                "is the server running and ORDWAY_BASE_URL right?",
                resource=where.resource,
                path=full_path,
                page=where.page,
            ) from None
        except httpx.TransportError as exc:
            raise RetryableAPIError(
                f"transport error ({type(exc).__name__})",
                resource=where.resource,
                path=full_path,
                page=where.page,
            ) from None

        status = response.status_code
        if status in RETRY_STATUSES:
            raise RetryableAPIError(
                "rate limited" if status == 429 else "server error",
                resource=where.resource,
                path=full_path,
                page=where.page,
                status=status,
                excerpt=self._excerpt(response),
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 400 or status < 200 or status >= 300:
            hint = {
                401: "authentication failed (check ORDWAY_API_KEY, ORDWAY_COMPANY,"
                " ORDWAY_USER_EMAIL, ORDWAY_USER_TOKEN)",
                403: "forbidden",
                404: "not found",
                422: "request rejected",
            }.get(status, "unexpected status")
            raise OrdwayAPIError(
                hint,
                resource=where.resource,
                path=full_path,
                page=where.page,
                status=status,
                excerpt=self._excerpt(response),
            )
        if not response.content.strip():
            raise RetryableAPIError(
                "empty response body",
                resource=where.resource,
                path=full_path,
                page=where.page,
                status=status,
            )
        try:
            # orjson (through dlt): about 2.5 times faster than json.loads on a page of invoices
            return dlt_json.loadb(response.content), response.content
        except ValueError:
            raise RetryableAPIError(
                "malformed JSON body",
                resource=where.resource,
                path=full_path,
                page=where.page,
                status=status,
                excerpt=self._excerpt(response),
            ) from None

    def get_json(
        self, resource: str, path: str, params: Mapping[str, Any], page: int | None = None
    ) -> Any:
        """GETs `path` (relative to the base URL) with retries; returns the decoded JSON."""
        return self._get_with_retries(resource, path, params, page)[0]

    def _get_with_retries(
        self, resource: str, path: str, params: Mapping[str, Any], page: int | None
    ) -> tuple[Any, bytes]:
        where = _Where(resource, path, page)
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableAPIError),
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._get_once, where, params)

    def fetch_page(
        self,
        resource: str,
        path: str,
        params: Mapping[str, Any],
        page: int,
        size: int,
        wrapper_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """One page of a list endpoint as a list of records.

        Accepts a bare array, or a dict wrapping the list under `wrapper_key`
        (`{"usages": [...], "total": N}`). Anything else is an error.
        """
        return self._fetch_page(resource, path, params, page, size, wrapper_key)[0]

    def _fetch_page(
        self,
        resource: str,
        path: str,
        params: Mapping[str, Any],
        page: int,
        size: int,
        wrapper_key: str | None,
    ) -> tuple[list[dict[str, Any]], bytes]:
        """`fetch_page` plus the raw response body (for the endless-paging fingerprint)."""
        query = {**params, "page": page, "size": size}
        body, content = self._get_with_retries(resource, path, query, page)
        if isinstance(body, dict) and wrapper_key and isinstance(body.get(wrapper_key), list):
            body = body[wrapper_key]
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            kind = type(body).__name__
            raise OrdwayAPIError(
                f"expected a JSON array of objects, got {kind}",
                resource=resource,
                path=f"{self._base_path}{path}",
                page=page,
            )
        return body, content

    def iter_pages(
        self,
        resource: str,
        path: str,
        params: Mapping[str, Any],
        size: int,
        wrapper_key: str | None = None,
        report_done: bool = True,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yields non-empty pages from page 1 until the API returns an empty page.

        A short page is not treated as the end (ordway-api.md §4). Stops with an error after
        `max_pages` pages or when a page's body repeats the previous one byte for byte
        (endless paging). `report_done=False` leaves telling the progress observer that the
        listing is done to the caller (a resource made of many listings tells it once).
        """
        previous: str | None = None
        rows = 0
        page = 1
        while True:
            if page > self.settings.max_pages:
                raise OrdwayAPIError(
                    f"more than ORDWAY_MAX_PAGES={self.settings.max_pages} pages; "
                    "the API may be paging endlessly",
                    resource=resource,
                    path=f"{self._base_path}{path}",
                    page=page,
                )
            records, content = self._fetch_page(resource, path, params, page, size, wrapper_key)
            if not records:
                logger.debug("%s: done, %d pages, %d rows", resource, page - 1, rows)
                if report_done:
                    self.progress.on_listing_done(resource)
                return
            # A digest of the raw body: independent of what the consumer does to the records,
            # and some 30 times cheaper than re-serialising the page.
            fingerprint = hashlib.sha256(content).hexdigest()
            if fingerprint == previous:
                raise OrdwayAPIError(
                    f"page {page} repeats page {page - 1} exactly; the API is ignoring the "
                    "page parameter (endless paging)",
                    resource=resource,
                    path=f"{self._base_path}{path}",
                    page=page,
                )
            rows += len(records)
            self.progress.on_page(resource, len(records))
            logger.debug("%s: page %d, %d rows (total %d)", resource, page, len(records), rows)
            yield records
            previous = fingerprint
            page += 1
