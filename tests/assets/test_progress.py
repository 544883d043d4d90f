"""Progress of a slow served load in the Dagster run log of a real run: the source's own log
records (from dlt's worker threads and the progress reporter's thread) reach the event log, a
progress report comes at the configured interval with pages, records and rate per collection,
an ETA once one can be estimated, and each raw materialization ends with the per-collection
table. The sandbox's latency fault makes every page slow."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, DagsterInstance, instance_for_test

from assets.definitions import defs
from ordway_sandbox.process import SandboxProcess
from pipelines.ordway.contract import COLLECTIONS, FULL_REFRESH_COLLECTIONS
from tests.support.environment import isolate_environment

pytestmark = [pytest.mark.slow]

INTERVAL = 1.0
PAGE_SIZE = 10
LATENCY_MS = 150
RAW_KEYS = [AssetKey(["ordway_raw", name]) for name in [*COLLECTIONS, "_ordway_deletions"]]
LINE = re.compile(
    r"progress: (\w+): ([\d,]+) pages, ([\d,]+) records, ([\d,.]+) records/s.*; (.*)$"
)


@pytest.fixture(scope="module")
def slow_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A nightly run of the raw assets on an empty warehouse, then a full refresh, both slow."""
    workdir: Path = tmp_path_factory.mktemp("progress")
    monkeypatch = pytest.MonkeyPatch()
    args = ["--customers", "20", "--seed", "3", "--as-of", "2026-06-30"]
    try:
        with SandboxProcess(args) as sandbox, instance_for_test() as instance:
            isolate_environment(monkeypatch, workdir)
            for name, value in {
                **sandbox.env,
                "ORDWAY_BASE_URL": sandbox.base_url,
                "ORDWAY_MAX_RPS": "0",
                "ORDWAY_PAGE_SIZE": str(PAGE_SIZE),
                "ORDWAY_PROGRESS_SECONDS": str(INTERVAL),
            }.items():
                monkeypatch.setenv(name, value)
            sandbox.set_faults({"latency_ms": LATENCY_MS})
            runs = {
                job: defs.resolve_job_def(job).execute_in_process(
                    instance=instance,
                    partition_key="2026-06-01",
                    asset_selection=RAW_KEYS,
                    raise_on_error=False,
                )
                for job in ("ordway_nightly", "ordway_full_refresh")
            }
            yield {"instance": instance, "tenant": sandbox.get_tenant(), "runs": runs}
    finally:
        monkeypatch.undo()


def progress_reports(instance: DagsterInstance, run_id: str) -> list[tuple[float, re.Match]]:
    result = []
    for entry in instance.all_logs(run_id):
        match = LINE.search(entry.user_message or "")
        if match and entry.user_message.startswith("pipelines.ordway.progress: progress:"):
            result.append((entry.timestamp, match))
    return result


def messages(instance: DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message or "" for entry in instance.all_logs(run_id)]


def test_the_run_log_reports_progress_at_the_configured_interval(slow_runs):
    instance, run = slow_runs["instance"], slow_runs["runs"]["ordway_nightly"]
    assert run.success
    reports = progress_reports(instance, run.run_id)
    # one report is a few lines logged together: a report starts after a pause in the lines
    stamps = sorted(stamp for stamp, _ in reports)
    ticks = [s for i, s in enumerate(stamps) if i == 0 or s - stamps[i - 1] > INTERVAL / 2]
    # journal_entries alone is 71 pages of 150 ms: several seconds of reading
    assert len(ticks) >= 3, messages(instance, run.run_id)
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    # one report per interval: never two in a row without an interval between them, and no
    # long silence (generous slack for a loaded machine; the default of 10 s is unit-tested)
    assert min(gaps) >= INTERVAL * 0.8
    assert max(gaps) <= INTERVAL * 4
    journal = [m for _, m in reports if m[1] == "journal_entries"]
    assert journal, "journal_entries was never reported while it was read"
    records = [int(m[3].replace(",", "")) for m in journal]
    assert records == sorted(records)
    assert len(journal) < math.ceil(len(slow_runs["tenant"]["journal_entries"]) / PAGE_SIZE)


def test_a_first_load_says_why_it_has_no_eta_and_a_full_refresh_gives_one(slow_runs):
    instance = slow_runs["instance"]
    nightly, full = slow_runs["runs"]["ordway_nightly"], slow_runs["runs"]["ordway_full_refresh"]
    first = [m[5] for _, m in progress_reports(instance, nightly.run_id)]
    assert first and all(text.startswith("no ETA (") for text in first), first
    assert full.success
    eta = [m for _, m in progress_reports(instance, full.run_id)]
    assert eta, messages(instance, full.run_id)
    # the full refresh lists everything: the rows already in the warehouse are the estimate
    assert all("records expected (rows in the warehouse before this run)" in m[5] for m in eta)
    timed = [m for m in eta if re.match(r"ETA (\d+s|\d+m\d\ds)", m[5])]
    assert timed, [m[0] for m in eta]


def test_the_sources_own_log_lines_from_dlt_worker_threads_reach_the_run_log(slow_runs):
    instance, run = slow_runs["instance"], slow_runs["runs"]["ordway_nightly"]
    text = messages(instance, run.run_id)
    # logged inside the resources, which dlt runs in its worker threads (parallelized=True)
    assert any(
        m.startswith("pipelines.ordway.source: invoices: extracting (incremental)") for m in text
    ), text
    assert any(
        m.startswith("pipelines.ordway.progress: listing done: journal_entries") for m in text
    )
    assert any("extraction summary" in m for m in text)


def test_each_raw_materialization_has_its_figures_and_ends_with_the_run_table(slow_runs):
    tenant = slow_runs["tenant"]
    run = slow_runs["runs"]["ordway_nightly"]
    materializations = {
        e.event_specific_data.materialization.asset_key.path[
            -1
        ]: e.event_specific_data.materialization
        for e in run.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    invoices = materializations["invoices"]
    metadata = {k: v.value for k, v in invoices.metadata.items()}
    pages = math.ceil(len(tenant["invoices"]) / PAGE_SIZE)
    assert (metadata["pages"], metadata["records_read"]) == (pages, len(tenant["invoices"]))
    assert (metadata["requests"], metadata["retries"]) == (pages + 1, 0)
    assert metadata["extract_seconds"] >= pages * LATENCY_MS / 1000 * 0.9
    assert list(invoices.metadata)[-1] == "extract_summary"
    table = metadata["extract_summary"].splitlines()
    assert (
        table[0] == "| collection | pages | records | rows loaded | seconds | requests | retries |"
    )
    row = next(line for line in table if line.startswith("| invoices |"))
    assert row.startswith(
        f"| invoices | {pages} | {len(tenant['invoices'])} | {len(tenant['invoices'])} |"
    )
    # the full-refresh collections are extracted by their own asset, with their own table
    customers = {k: v.value for k, v in materializations["customers"].metadata.items()}
    assert customers["records_read"] == len(tenant["customers"])
    assert {
        line.split("|")[1].strip() for line in customers["extract_summary"].splitlines()[2:]
    } == set(FULL_REFRESH_COLLECTIONS)
    # _ordway_deletions has no collection of its own: no per-collection figures
    assert "pages" not in materializations["_ordway_deletions"].metadata
