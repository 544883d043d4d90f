"""The rate-limited run is sized for about BENCH_RATE_REQUESTS requests, whatever the night."""

from __future__ import annotations

from benchmarks.run import Config, SizeResult, rate_limited_selection
from pipelines.ordway.contract import COLLECTIONS, INCREMENTAL_COLLECTIONS

PAGED = [name for name in INCREMENTAL_COLLECTIONS if not COLLECTIONS[name].parent]


def size_after(night: dict[str, int]) -> SizeResult:
    size = SizeResult(1000)
    size.add("nightly", {"requests_by_collection": night})
    return size


def test_a_quiet_night_is_repeated_over_days_without_the_per_customer_collections() -> None:
    config = Config.from_env({})
    night = dict.fromkeys(INCREMENTAL_COLLECTIONS, 2)  # one page of changes each
    night |= {"customer_notes": 600, "payment_methods": 600}  # one listing per customer
    days, chosen = rate_limited_selection(config, size_after(night))
    assert chosen == PAGED
    assert days == round(150 / len(PAGED))


def test_a_heavy_night_reads_the_smallest_collections_that_reach_the_target() -> None:
    config = Config.from_env({})
    night = dict.fromkeys(INCREMENTAL_COLLECTIONS, 1)
    night |= {"invoices": 2000, "payment_methods": 3000, "customer_notes": 3000}
    night |= {"journal_entries": 90, "payments": 80, "usages": 60}
    days, chosen = rate_limited_selection(config, size_after(night))
    assert days == 1
    assert "invoices" not in chosen
    assert set(chosen) <= set(PAGED)
    requests = sum(night[name] for name in chosen)
    assert 150 <= requests < 150 + 90


def test_bench_rate_days_keeps_every_paged_collection() -> None:
    config = Config.from_env({"BENCH_RATE_DAYS": "3"})
    night = dict.fromkeys(INCREMENTAL_COLLECTIONS, 500)
    assert rate_limited_selection(config, size_after(night)) == (3, PAGED)
