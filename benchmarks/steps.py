"""The measured steps of the benchmark, each run in its own child process by `benchmarks.run`.

    python -m benchmarks.steps ceiling --base-url URL [--threads 4]
    python -m benchmarks.steps extract --mode full|incremental [--resources a,b] [--start D]
    python -m benchmarks.steps tap --base-url URL --workdir DIR
    python -m benchmarks.steps dagster-overhead
    python -m benchmarks.steps dagster-steps   # DAGSTER_HOME of a finished nightly job

`extract` reads the usual ORDWAY_* / DUCKDB_PATH / DLT_PIPELINES_DIR variables and calls
`pipelines.ordway.pipeline.run_extract`, exactly what the CLI and Dagster call. `tap` runs
Singer's tap-ordway (its own virtualenv, `ordway_sandbox/tap_ordway.py`) with every stream
selected, its output to /dev/null. `dagster-overhead` times what the nightly Dagster job does
before any work: imports, `dbt parse`, building the definitions; `dagster-steps` reads the
last run of a DAGSTER_HOME and says where its time went, step by step. Each step prints
one JSON object on its last stdout line. The driver reads the child's peak RSS from `wait4`, so
memory figures are those of the measured step alone, never of the driver that holds tenants.
"""

from __future__ import annotations

import argparse
import json
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ordway_sandbox.process import auth_headers, credentials_env
from pipelines.config import DEFAULT_PAGE_SIZE, OrdwaySettings
from pipelines.ordway.contract import COLLECTIONS


@dataclass
class _Listing:
    """One collection being paged by the ceiling workers."""

    path: str
    params: dict[str, Any]
    size: int
    next_page: int = 1
    done: bool = False
    pages: int = 0
    bytes: int = 0


def _is_empty_page(body: bytes) -> bool:
    if len(body) > 64:
        return False
    decoded = json.loads(body)
    if isinstance(decoded, dict):  # a wrapped listing: {"usages": [], "total": 0}
        return not any(isinstance(v, list) and v for v in decoded.values())
    return not decoded


def ceiling(base_url: str, threads: int) -> dict[str, Any]:
    """Downloads every page of every collection the source reads in a full load (same sort and
    page size, no filter) with `threads` keep-alive httpx clients, discarding the bodies.

    Workers take the next page of the collection with the fewest pages in flight, so every
    collection is paged concurrently; a collection is done at its first empty page (pages already
    requested past it are counted as requests too). Then the customers' sub-resources
    (`customer_notes`, `payment_methods`): each customer's listing paged to its empty page by
    one worker, the workers taking customers from a queue (the ids come from the customers
    pages of the first phase).
    """
    listings = []
    for collection in COLLECTIONS.values():
        if collection.parent:
            continue  # read per customer, in the second phase
        size = collection.page_size or DEFAULT_PAGE_SIZE
        params = {"sort": collection.sort} if collection.sort else {}
        listings.append(_Listing(collection.path.lstrip("/"), params, size))
    customer_ids: list[str] = []
    lock = threading.Lock()
    requests = 0
    errors: list[str] = []
    headers = auth_headers(credentials_env())

    def take() -> tuple[_Listing, int] | None:
        nonlocal requests
        with lock:
            open_listings = [listing for listing in listings if not listing.done]
            if not open_listings or errors:
                return None
            listing = min(open_listings, key=lambda x: x.next_page - x.pages)
            page = listing.next_page
            listing.next_page += 1
            requests += 1
            return listing, page

    def work() -> None:
        with httpx.Client(base_url=base_url + "/", headers=headers, timeout=60.0) as client:
            while (job := take()) is not None:
                listing, page = job
                response = client.get(
                    listing.path, params={**listing.params, "page": page, "size": listing.size}
                )
                if response.status_code != 200:
                    errors.append(f"{listing.path} page {page}: HTTP {response.status_code}")
                    return
                body = response.content
                with lock:
                    if _is_empty_page(body):
                        listing.done = True
                    else:
                        listing.pages += 1
                        listing.bytes += len(body)
                        if listing.path == "customers":
                            customer_ids.extend(str(c["id"]) for c in json.loads(body))

    sub_resources: queue.Queue[_Listing] = queue.Queue()

    def work_per_customer() -> None:
        nonlocal requests
        with httpx.Client(base_url=base_url + "/", headers=headers, timeout=60.0) as client:
            while not errors:
                try:
                    listing = sub_resources.get_nowait()
                except queue.Empty:
                    return
                while not listing.done:
                    page = listing.next_page
                    listing.next_page += 1
                    params = {"page": page, "size": listing.size}
                    response = client.get(listing.path, params=params)
                    with lock:
                        requests += 1
                        if response.status_code != 200:
                            errors.append(f"{listing.path}: HTTP {response.status_code}")
                            return
                        if _is_empty_page(response.content):
                            listing.done = True
                        else:
                            listing.pages += 1
                            listing.bytes += len(response.content)

    def run_workers(target: Any) -> None:
        workers = [threading.Thread(target=target, name=f"ceiling-{n}") for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    started = time.perf_counter()
    run_workers(work)
    for collection in COLLECTIONS.values():
        if collection.parent:
            for customer in sorted(set(customer_ids)):
                path = f"customers/{quote(customer, safe='')}/{collection.name}"
                listing = _Listing(path, {}, collection.page_size or DEFAULT_PAGE_SIZE)
                listings.append(listing)
                sub_resources.put(listing)
    run_workers(work_per_customer)
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"ceiling failed: {errors[0]}")
    return {
        "wall_s": wall,
        "requests": requests,
        "pages": sum(listing.pages for listing in listings),
        "bytes": sum(listing.bytes for listing in listings),
        "threads": threads,
    }


def extract(mode: str, resources: list[str] | None) -> dict[str, Any]:
    """One `run_extract` with step timings from dlt's trace and record counts per table."""
    from pipelines.ordway.pipeline import make_pipeline, run_extract

    settings = OrdwaySettings.from_env()
    pipeline = make_pipeline(settings)
    started = time.perf_counter()
    run_extract(settings, mode, resources=resources, pipeline=pipeline)  # type: ignore[arg-type]
    wall = time.perf_counter() - started
    trace = pipeline.last_trace
    steps = {
        step.step: (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.finished_at is not None
    }
    row_counts: dict[str, int] = {}
    if trace.last_normalize_info is not None:
        row_counts = dict(trace.last_normalize_info.row_counts)
    records = sum(n for table, n in row_counts.items() if table in COLLECTIONS)
    return {
        "wall_s": wall,
        "steps_s": steps,
        "records": records,
        "rows": sum(n for table, n in row_counts.items() if not table.startswith("_dlt")),
        "row_counts": row_counts,
    }


def tap(base_url: str, workdir: Path) -> dict[str, Any]:
    """Singer's tap-ordway: discovery, then one sync of every stream with its Singer messages
    written to /dev/null (timed: the sync). The tap is installed before the clock starts."""
    from ordway_sandbox.tap_ordway import discover, sync, tap_config, tap_environment

    python = tap_environment()
    workdir.mkdir(parents=True, exist_ok=True)
    config = tap_config(base_url)
    started = time.perf_counter()
    catalog = discover(python, config, workdir)
    discovered = time.perf_counter()
    sync(python, config, catalog, workdir, stdout=subprocess.DEVNULL)
    done = time.perf_counter()
    return {
        "wall_s": done - discovered,
        "discover_s": discovered - started,
        "streams": len(catalog["streams"]),
    }


def dagster_overhead() -> dict[str, Any]:
    """What `scripts.run_nightly` spends before its first step: importing Dagster and the code
    location, `dbt parse` (forced: the manifest the definitions need), building the definitions
    and resolving the nightly job. The interpreter's start is the child's wall time minus these."""
    started = time.perf_counter()
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    from assets.dbt_cli import prepare_dbt_manifest

    imported = time.perf_counter()
    prepare_dbt_manifest(force=True)
    parsed = time.perf_counter()
    from assets.definitions import defs
    from assets.jobs import NIGHTLY_JOB_NAME

    defs.resolve_job_def(NIGHTLY_JOB_NAME)
    built = time.perf_counter()
    return {
        "in_process_s": built - started,
        "imports_s": imported - started,
        "dbt_parse_s": parsed - imported,
        "definitions_s": built - parsed,
    }


#: Steps of the nightly job that do the work the benchmark also measures on its own.
EXTRACT_STEPS = ("ordway_raw_full_refresh", "ordway_raw_incremental")
DBT_STEP = "ordway_dbt_assets"


def dagster_steps() -> dict[str, Any]:
    """Where the last run of DAGSTER_HOME spent its time, from its event log (public API:
    `DagsterInstance.all_logs`): each step's seconds (STEP_START to STEP_SUCCESS/FAILURE), the
    time before the first step and after the last, and the dbt step split into before the
    `dbt` command, the command (dagster-dbt's "Running/Finished dbt command" messages) and
    after it (the held events, the models' metadata queries)."""
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.get()
    runs = instance.get_runs(limit=1)
    if not runs:
        raise SystemExit("dagster-steps: no run in DAGSTER_HOME")
    logs = instance.all_logs(runs[0].run_id)
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    dbt_command: dict[str, float] = {}
    run_start = run_end = None
    for entry in logs:
        kind = entry.dagster_event_type
        if kind == DagsterEventType.RUN_START:
            run_start = entry.timestamp
        elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
            run_end = entry.timestamp
        elif kind == DagsterEventType.STEP_START and entry.step_key:
            starts[entry.step_key] = entry.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            if entry.step_key in starts:
                steps[entry.step_key] = entry.timestamp - starts[entry.step_key]
        elif entry.step_key == DBT_STEP and entry.user_message:
            if entry.user_message.startswith("Running dbt command"):
                dbt_command["start"] = entry.timestamp
            elif entry.user_message.startswith("Finished dbt command"):
                dbt_command["end"] = entry.timestamp
    result: dict[str, Any] = {
        "run_s": run_end - run_start if run_start and run_end else None,
        "steps_s": steps,
        "extract_steps_s": sum(steps.get(k, 0.0) for k in EXTRACT_STEPS),
        "dbt_step_s": steps.get(DBT_STEP),
    }
    other = [v for k, v in steps.items() if k not in (*EXTRACT_STEPS, DBT_STEP)]
    result["other_steps_s"] = sum(other)
    if DBT_STEP in starts and {"start", "end"} <= dbt_command.keys():
        result["dbt_before_command_s"] = dbt_command["start"] - starts[DBT_STEP]
        result["dbt_command_s"] = dbt_command["end"] - dbt_command["start"]
        result["dbt_after_command_s"] = steps.get(DBT_STEP, 0.0) - (
            dbt_command["end"] - starts[DBT_STEP]
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    commands = parser.add_subparsers(dest="command", required=True)
    ceiling_cmd = commands.add_parser("ceiling")
    ceiling_cmd.add_argument("--base-url", required=True)
    ceiling_cmd.add_argument("--threads", type=int, default=4)
    extract_cmd = commands.add_parser("extract")
    extract_cmd.add_argument("--mode", choices=["full", "incremental"], required=True)
    extract_cmd.add_argument("--resources", default="")
    tap_cmd = commands.add_parser("tap")
    tap_cmd.add_argument("--base-url", required=True)
    tap_cmd.add_argument("--workdir", required=True, type=Path)
    commands.add_parser("dagster-overhead")
    commands.add_parser("dagster-steps")
    args = parser.parse_args(argv)
    if args.command == "ceiling":
        result = ceiling(args.base_url, args.threads)
    elif args.command == "tap":
        result = tap(args.base_url, args.workdir)
    elif args.command == "dagster-overhead":
        result = dagster_overhead()
    elif args.command == "dagster-steps":
        result = dagster_steps()
    else:
        resources = [r for r in args.resources.split(",") if r] or None
        result = extract(args.mode, resources)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
