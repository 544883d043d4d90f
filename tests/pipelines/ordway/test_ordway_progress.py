"""Extraction progress: the counters and lines on a fake clock, the default interval, and the CLI
printing throttled progress lines during a slow served load (the sandbox's latency fault)."""

from __future__ import annotations

import logging
import math
import re
import subprocess
import sys
import time

import pytest

from ordway_sandbox.process import SandboxProcess, credentials_env
from pipelines.config import DEFAULT_PROGRESS_SECONDS, ConfigError, OrdwaySettings
from pipelines.ordway.contract import FULL_REFRESH_COLLECTIONS
from pipelines.ordway.progress import SUMMARY_COLUMNS, ExtractProgress, duration_text, expectations


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_reported_every_ten_seconds_by_default():
    assert DEFAULT_PROGRESS_SECONDS == 10.0
    assert OrdwaySettings.from_env(credentials_env()).progress_seconds == 10.0
    assert ExtractProgress().interval_seconds == 10.0
    settings = OrdwaySettings.from_env({**credentials_env(), "ORDWAY_PROGRESS_SECONDS": "2.5"})
    assert settings.progress_seconds == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_progress_interval_names_the_variable(value):
    with pytest.raises(ConfigError, match="ORDWAY_PROGRESS_SECONDS"):
        OrdwaySettings.from_env({**credentials_env(), "ORDWAY_PROGRESS_SECONDS": value})


def test_a_line_gives_pages_records_rate_and_an_eta_from_the_expected_count():
    clock = FakeClock()
    progress = ExtractProgress(10, clock=clock)
    progress.expect("invoices", 1000, "rows in the warehouse before this run")
    progress.on_request("invoices")
    for _ in range(5):
        progress.on_request("invoices")
        progress.on_page("invoices", 50)
    clock.now += 10  # 250 records in 10 s: 25 records/s, 750 to go: 30 s
    progress.on_retry("invoices")
    (line,) = progress.lines()
    assert line == (
        "invoices: 5 pages, 250 records, 25.0 records/s, 1 retry, 10s elapsed; ETA 30s for "
        "~1,000 records expected (rows in the warehouse before this run)"
    )


def test_without_an_expected_count_the_line_says_why_there_is_no_eta():
    clock = FakeClock()
    progress = ExtractProgress(10, clock=clock)
    progress.expect(
        "usages", None, "the number of records in this incremental read is not known in advance"
    )
    progress.on_request("usages")
    progress.on_page("usages", 10)
    clock.now += 4
    (line,) = progress.lines()
    assert line.endswith(
        "no ETA (the number of records in this incremental read is not known in advance)"
    )
    progress.on_request("payments")
    assert "payments: 0 pages, 0 records" in progress.lines()[0]
    assert "no ETA (no earlier record count to estimate from)" in progress.lines()[0]


def test_only_collections_being_read_are_reported_then_the_load_phase():
    clock = FakeClock()
    progress = ExtractProgress(10, clock=clock)
    assert progress.lines()[0].startswith("waiting for the first Ordway response")
    for name in ("customers", "plans"):
        progress.on_request(name)
        progress.on_page(name, 3)
    progress.on_listing_done("plans")
    assert [line.split(":")[0] for line in progress.lines()] == ["customers"]
    progress.on_listing_done("customers")
    clock.now += 12
    assert progress.lines() == [
        "all 2 listings read (2 pages, 6 records); dlt is normalizing and loading (12s so far)"
    ]


def test_the_summary_has_one_row_per_collection_with_its_rows_loaded():
    clock = FakeClock()
    progress = ExtractProgress(10, clock=clock)
    for pages, name in ((3, "invoices"), (1, "plans")):
        for _ in range(pages + 1):
            progress.on_request(name)
        for _ in range(pages):
            progress.on_page(name, 7)
        clock.now += 2.5  # each collection is read for 2.5 s, one after the other
        progress.on_listing_done(name)
    rows = progress.summary_rows({"invoices": 19, "invoices__line_items": 40, "plans": 7})
    assert rows == [
        {
            "collection": "invoices",
            "pages": 3,
            "records": 21,
            "rows loaded": 19,
            "seconds": 2.5,
            "requests": 4,
            "retries": 0,
        },
        {
            "collection": "plans",
            "pages": 1,
            "records": 7,
            "rows loaded": 7,
            "seconds": 2.5,
            "requests": 2,
            "retries": 0,
        },
    ]
    table = progress.summary_markdown({"plans": 7}).splitlines()
    assert table[0] == "| " + " | ".join(SUMMARY_COLUMNS) + " |"
    assert table[3] == "| plans | 1 | 7 | 7 | 2.5 | 2 | 0 |"


def test_complete_listings_expect_the_rows_the_warehouse_holds():
    counts = {"customers": 31, "invoices": 400, "plans": 0}
    incremental = expectations("incremental", ["customers", "invoices", "plans"], counts)
    assert incremental["customers"] == (31, "rows in the warehouse before this run")
    assert incremental["plans"] == (None, "the table is empty, nothing to estimate from")
    assert incremental["invoices"][0] is None
    assert expectations("sweep", ["invoices"], counts)["invoices"][0] == 400


def test_the_reporter_logs_at_its_interval_until_the_block_ends(caplog):
    progress = ExtractProgress(0.2)
    progress.on_request("invoices")
    with caplog.at_level(logging.INFO, logger="pipelines.ordway.progress"):
        with progress.running():
            time.sleep(1.1)
        count = len([r for r in caplog.records if "progress: invoices" in r.getMessage()])
        time.sleep(0.5)
        after = len([r for r in caplog.records if "progress: invoices" in r.getMessage()])
    assert count >= 3  # five intervals, however late the thread wakes
    assert after == count  # nothing once the block has ended


def test_durations_read_as_minutes_and_hours():
    assert [duration_text(s) for s in (0, 59.4, 61, 3600 + 125)] == ["0s", "59s", "1m01s", "1h02m"]


LINE = re.compile(r"progress: (\w+): ([\d,]+) pages, ([\d,]+) records, ([\d,.]+) records/s")


@pytest.mark.slow
def test_the_cli_prints_throttled_progress_and_a_summary_during_a_slow_load(tmp_path):
    args = ["--customers", "20", "--seed", "3", "--as-of", "2026-06-30"]
    with SandboxProcess(args) as sandbox:
        sandbox.set_faults({"latency_ms": 150})
        tenant = sandbox.get_tenant()
        env = {
            **credentials_env(),
            "PATH": "/usr/bin:/bin",
            "ORDWAY_BASE_URL": sandbox.base_url,
            "ORDWAY_MAX_RPS": "0",
            "ORDWAY_PAGE_SIZE": "10",
            "ORDWAY_PROGRESS_SECONDS": "1",
            "DUCKDB_PATH": str(tmp_path / "ordway.duckdb"),
            "DLT_PIPELINES_DIR": str(tmp_path / "dlt"),
        }
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-m", "pipelines.ordway", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [m for m in (LINE.search(line) for line in done.stderr.splitlines()) if m]
    records_seen: dict[str, list[int]] = {}
    for match in lines:
        records_seen.setdefault(match[1], []).append(int(match[3].replace(",", "")))
    journal = records_seen["journal_entries"]
    pages = math.ceil(len(tenant["journal_entries"]) / 10)
    # 703 records in 10-record pages at 150 ms each: read for several seconds, reported at least
    # twice, throttled (one line a second at most, not one per page), counts only growing
    assert len(journal) >= 2, done.stderr[-3000:]
    assert len(journal) <= elapsed + 1 < pages
    assert journal == sorted(journal) and journal[-1] <= len(tenant["journal_entries"])
    summary = done.stderr[done.stderr.index("extraction summary") :].splitlines()
    row = next(line for line in summary if line.startswith("| journal_entries |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    records = str(len(tenant["journal_entries"]))
    # pages, records, rows loaded, (seconds), requests = pages + the empty page, no retries
    assert cells[1:4] == [str(pages), records, records]
    assert cells[5:] == [str(pages + 1), "0"]
    for name in FULL_REFRESH_COLLECTIONS:
        assert any(line.startswith(f"| {name} |") for line in summary), name
