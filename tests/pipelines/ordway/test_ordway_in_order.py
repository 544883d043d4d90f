"""`_in_order`: the per-customer listings are read several at a time and handed back in the
customers' order, never more than twice the workers ahead, failures where they happened."""

from __future__ import annotations

import random
import threading
import time

import pytest

from pipelines.ordway.source import _in_order


class Reads:
    """A read that sleeps a random moment and records how many run at once."""

    def __init__(self, fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.started: list[str] = []
        self.fail = fail

    def __call__(self, key: str) -> str:
        with self.lock:
            self.started.append(key)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        time.sleep(random.uniform(0, 0.004))
        with self.lock:
            self.running -= 1
        if key in self.fail:
            raise LookupError(key)
        return key.upper()


KEYS = [f"c-{n:03d}" for n in range(60)]


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_results_come_in_the_keys_order_with_at_most_workers_running(workers: int) -> None:
    reads = Reads()
    results = []
    for key, future in _in_order(reads, KEYS, workers):
        # never more than 2 x workers started and not yet handed back (this one included)
        assert len(reads.started) - len(results) <= 2 * workers
        results.append((key, future.result()))
    assert results == [(key, key.upper()) for key in KEYS]
    assert reads.most_running <= workers
    if workers > 1:
        assert reads.most_running > 1  # they did run concurrently


def test_a_failed_read_raises_at_its_own_place() -> None:
    reads = Reads(fail={"c-007"})
    handed: list[str] = []
    with pytest.raises(LookupError, match="c-007"):
        for key, future in _in_order(reads, KEYS, 4):
            future.result()
            handed.append(key)
    assert handed == KEYS[:7]


def test_stopping_early_starts_no_further_read() -> None:
    reads = Reads()
    listings = _in_order(reads, KEYS, 4)
    for _, future in listings:
        future.result()
        break
    listings.close()
    started = len(reads.started)
    assert started <= 1 + 2 * 4
    time.sleep(0.05)
    assert len(reads.started) == started
