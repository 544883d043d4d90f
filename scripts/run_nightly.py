"""`make run`: execute the `ordway_nightly` job once, now, for yesterday's partition.

It runs the same job definition the nightly schedule launches (incremental extract, dbt build,
checks), in this process, against whatever `ORDWAY_*` / `WAREHOUSE` / `DUCKDB_PATH` variables
are set, and records the run in the Dagster instance of `DAGSTER_HOME` (default
`<repo>/dagster_home`) so it shows in `make ui`. Exit code 1 (with the error) on failure.

    python -m scripts.run_nightly [--partition YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult

from assets.resources import REPO_ROOT


def ensure_dagster_home() -> str:
    """DAGSTER_HOME, defaulting to the repository's dagster_home/ (created if missing)."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        home = str(REPO_ROOT / "dagster_home")
        os.environ["DAGSTER_HOME"] = home
    os.makedirs(home, exist_ok=True)
    return home


def yesterday_partition() -> str:
    """The partition the schedule would request now (the previous UTC day)."""
    from assets.schedules import partition_for_tick

    key = partition_for_tick(None)
    if key is None:
        raise SystemExit("error: yesterday is before ORDWAY_BACKFILL_START; nothing to run")
    return key


def run_nightly(
    instance: DagsterInstance,
    partition_key: str,
    *,
    run_id: str | None = None,
    run_config: Mapping[str, Any] | None = None,
) -> ExecuteInProcessResult:
    """Executes the `ordway_nightly` job definition in process (never raises on job failure)."""
    from assets.definitions import defs
    from assets.jobs import NIGHTLY_JOB_NAME

    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    return job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        run_id=run_id,
        run_config=dict(run_config or {}),
        raise_on_error=False,
    )


def failure_summary(result: ExecuteInProcessResult) -> str:
    """The failed steps and their errors, one per line."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            while error and error.cause and error.cls_name.startswith("Dagster"):
                error = error.cause
            message = f"{error.cls_name}: {error.message.strip()}" if error else "unknown error"
            lines.append(f"step {event.step_key} failed: {message}")
        elif event.is_failure and not event.is_step_failure and event.message:
            lines.append(event.message)
    return "\n".join(lines) or "the run failed (see the Dagster UI for details)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the ordway_nightly job once, now.")
    parser.add_argument("--partition", help="partition key YYYY-MM-DD (default: yesterday, UTC)")
    args = parser.parse_args(argv)
    home = ensure_dagster_home()
    partition = args.partition or yesterday_partition()
    instance = DagsterInstance.get()
    print(f"Running ordway_nightly for partition {partition} (DAGSTER_HOME={home})", flush=True)
    result = run_nightly(instance, partition)
    if not result.success:
        print(f"error: run {result.run_id} failed\n{failure_summary(result)}", file=sys.stderr)
        return 1
    print(f"ok: run {result.run_id} succeeded; open it with `make ui`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
