"""Progress of one extraction: pages, records, requests and retries per collection, reported by
a throttled background reporter, and the per-collection summary of the finished run.

The HTTP client calls the observer hooks (``on_request``, ``on_retry``, ``on_page``,
``on_listing_done``) from whichever thread reads the collection (dlt's worker threads run the
resources in parallel); the counters are guarded by one lock. ``ExtractProgress.running()``
starts a daemon thread that logs, every ``interval_seconds`` (``ORDWAY_PROGRESS_SECONDS``,
default 10), one line per collection being read: pages, records, records per second, retries and
an ETA when an expected record count is known (``expect``), or a sentence saying why there is
none. Lines go to the logger ``pipelines.ordway.progress``: the CLI prints them on stderr, the
Dagster assets forward the ``pipelines.ordway`` loggers into the run log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipelines.config import DEFAULT_PROGRESS_SECONDS
from pipelines.ordway.modes import lists_completely

logger = logging.getLogger(__name__)

#: Columns of the per-collection summary (``summary_rows`` / ``summary_markdown``).
SUMMARY_COLUMNS = (
    "collection",
    "pages",
    "records",
    "rows loaded",
    "seconds",
    "requests",
    "retries",
)


class ProgressObserver:
    """What the HTTP client reports. This base class ignores everything (no progress wanted)."""

    def on_request(self, resource: str) -> None:
        """A request is about to be sent (after the rate limiter released it)."""

    def on_retry(self, resource: str) -> None:
        """A request failed and will be retried."""

    def on_page(self, resource: str, records: int) -> None:
        """A non-empty page of ``records`` records was read."""

    def on_listing_done(self, resource: str) -> None:
        """A listing reached its empty page."""


def expectations(
    mode: str, names: Iterable[str], counts: Mapping[str, int]
) -> dict[str, tuple[int | None, str]]:
    """What each collection of a run is expected to yield, from the rows its table holds now
    (``counts``, needed only for the collections the run lists completely).

    A complete listing serves about as many records as the table holds. What an incremental or
    backfill read serves cannot be known from the warehouse (``None`` with the reason; the
    Dagster asset fills in the previous run's count where it has one).
    """
    result: dict[str, tuple[int | None, str]] = {}
    for name in names:
        rows = counts.get(name, 0)
        if lists_completely(mode, name) and rows:
            result[name] = (rows, "rows in the warehouse before this run")
        elif lists_completely(mode, name):
            result[name] = (None, "the table is empty, nothing to estimate from")
        else:
            result[name] = (
                None,
                f"the number of records in this {mode} read is not known in advance",
            )
    return result


def duration_text(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@dataclass
class CollectionProgress:
    """Counters of one collection (a resource of the source)."""

    name: str
    pages: int = 0
    records: int = 0
    requests: int = 0
    retries: int = 0
    started: float | None = None
    last_activity: float | None = None
    reading: bool = False
    expected: int | None = None
    expected_basis: str = ""

    def seconds(self, now: float) -> float:
        if self.started is None:
            return 0.0
        end = now if self.reading or self.last_activity is None else self.last_activity
        return max(0.0, end - self.started)

    def rate(self, now: float) -> float | None:
        """Records per second since the first request; None before any time has passed."""
        elapsed = self.seconds(now)
        return self.records / elapsed if elapsed > 0 else None

    def eta_text(self, now: float) -> str:
        if self.expected is None:
            return f"no ETA ({self.expected_basis or 'no earlier record count to estimate from'})"
        target = f"~{self.expected:,} records expected ({self.expected_basis})"
        if self.records >= self.expected:
            return f"ETA: any moment, past the {target}"
        rate = self.rate(now)
        if not self.records or not rate:
            return f"ETA once the first page has arrived; {target}"
        remaining = (self.expected - self.records) / rate
        return f"ETA {duration_text(remaining)} for {target}"

    def line(self, now: float) -> str:
        rate = self.rate(now)
        rate_text = f"{rate:,.1f} records/s" if rate is not None else "rate not known yet"
        retries = f", {self.retries} {'retry' if self.retries == 1 else 'retries'}"
        return (
            f"{self.name}: {self.pages:,} pages, {self.records:,} records, {rate_text}"
            f"{retries if self.retries else ''}, {duration_text(self.seconds(now))} elapsed; "
            f"{self.eta_text(now)}"
        )


class ExtractProgress(ProgressObserver):
    """Counters of one extraction and the throttled reporter that logs them.

    ``interval_seconds``: at least this often, while ``running()``, one line per collection being
    read (or, once every listing is done, one line saying dlt is normalizing and loading).
    """

    def __init__(
        self,
        interval_seconds: float = DEFAULT_PROGRESS_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        log: logging.Logger = logger,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("the progress interval must be > 0 seconds")
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._log = log
        self._lock = threading.Lock()
        self._collections: dict[str, CollectionProgress] = {}
        self._started = clock()
        self._all_read_at: float | None = None

    # ---------------------------------------------------------------- expectations
    def expect(self, name: str, records: int | None, basis: str) -> None:
        """What a collection is expected to yield (``records``) and where the figure comes from
        (``basis``); ``records=None`` records why no estimate is possible."""
        with self._lock:
            collection = self._collection(name)
            collection.expected = records
            collection.expected_basis = basis

    def expected(self, name: str) -> int | None:
        with self._lock:
            return self._collections[name].expected if name in self._collections else None

    def has_expectation(self, name: str) -> bool:
        """Whether ``expect`` was called for the collection (with a count or a reason)."""
        with self._lock:
            return name in self._collections and bool(self._collections[name].expected_basis)

    # --------------------------------------------------------------------- hooks
    def _collection(self, name: str) -> CollectionProgress:
        if name not in self._collections:
            self._collections[name] = CollectionProgress(name)
        return self._collections[name]

    def on_request(self, resource: str) -> None:
        now = self._clock()
        with self._lock:
            collection = self._collection(resource)
            if collection.started is None:
                collection.started = now
            collection.requests += 1
            collection.reading = True
            collection.last_activity = now
            self._all_read_at = None

    def on_retry(self, resource: str) -> None:
        with self._lock:
            self._collection(resource).retries += 1

    def on_page(self, resource: str, records: int) -> None:
        now = self._clock()
        with self._lock:
            collection = self._collection(resource)
            collection.pages += 1
            collection.records += records
            collection.last_activity = now

    def on_listing_done(self, resource: str) -> None:
        now = self._clock()
        with self._lock:
            collection = self._collection(resource)
            collection.reading = False
            collection.last_activity = now
            line = collection.line(now)
            if not any(c.reading for c in self._collections.values()):
                self._all_read_at = now
        self._log.info("listing done: %s", line)

    # ------------------------------------------------------------------- reports
    def snapshot(self) -> dict[str, CollectionProgress]:
        """A copy of the counters per collection."""
        with self._lock:
            return {n: CollectionProgress(**vars(c)) for n, c in self._collections.items()}

    def lines(self) -> list[str]:
        """The lines one report logs now."""
        now = self._clock()
        with self._lock:
            reading = [c for c in self._collections.values() if c.reading]
            lines = [c.line(now) for c in sorted(reading, key=lambda c: c.name)]
            if not lines:
                done = [c for c in self._collections.values() if c.started is not None]
                pages = sum(c.pages for c in done)
                records = sum(c.records for c in done)
                if not done:
                    lines.append(
                        f"waiting for the first Ordway response "
                        f"({duration_text(now - self._started)} since the start)"
                    )
                else:
                    since = now - (self._all_read_at or now)
                    lines.append(
                        f"all {len(done)} listings read ({pages:,} pages, {records:,} records); "
                        f"dlt is normalizing and loading ({duration_text(since)} so far)"
                    )
        return lines

    def report(self) -> None:
        for line in self.lines():
            self._log.info("progress: %s", line)

    @contextmanager
    def running(self) -> Iterator[ExtractProgress]:
        """Reports every ``interval_seconds`` from a daemon thread for the duration of the block."""
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(self.interval_seconds):
                try:
                    self.report()
                except Exception:  # a report must never break the extraction
                    self._log.exception("progress report failed")

        thread = threading.Thread(target=tick, name="ordway-progress", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(timeout=5)
            with self._lock:
                for collection in self._collections.values():
                    collection.reading = False

    # ------------------------------------------------------------------- summary
    def summary_rows(self, rows_loaded: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
        """One row per collection (``SUMMARY_COLUMNS``); ``rows loaded`` = rows dlt wrote to the
        collection's own table (child tables not included), from ``rows_loaded`` per table."""
        now = self._clock()
        rows = []
        for name, c in sorted(self.snapshot().items()):
            rows.append(
                {
                    "collection": name,
                    "pages": c.pages,
                    "records": c.records,
                    "rows loaded": (rows_loaded or {}).get(name, 0),
                    "seconds": round(c.seconds(now), 1),
                    "requests": c.requests,
                    "retries": c.retries,
                }
            )
        return rows

    def summary_markdown(self, rows_loaded: Mapping[str, int] | None = None) -> str:
        rows = self.summary_rows(rows_loaded)
        header = "| " + " | ".join(SUMMARY_COLUMNS) + " |"
        rule = "|" + "|".join("---" if c == "collection" else "--:" for c in SUMMARY_COLUMNS) + "|"
        body = ["| " + " | ".join(str(row[c]) for c in SUMMARY_COLUMNS) + " |" for row in rows]
        return "\n".join([header, rule, *body])

    def log_summary(self, rows_loaded: Mapping[str, int] | None = None) -> None:
        self._log.info(
            "extraction summary (%s)\n%s",
            duration_text(self._clock() - self._started),
            self.summary_markdown(rows_loaded),
        )


__all__ = [
    "SUMMARY_COLUMNS",
    "CollectionProgress",
    "ExtractProgress",
    "ProgressObserver",
    "duration_text",
    "expectations",
]
