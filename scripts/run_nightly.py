"""`make run`: execute the `ordway_nightly` job once, now, for the partitions the schedule would.

It runs the same job definition the nightly schedule launches (incremental extract, dbt build,
checks), in this process, against whatever `ORDWAY_*` / `WAREHOUSE` / `DUCKDB_PATH` variables
are set, and records the run in the Dagster instance of `DAGSTER_HOME` (default
`<repo>/dagster_home`) so it shows in `make ui`. Exit code 1 (with the error) on failure.

    python -m scripts.run_nightly [--partition YYYY-MM-DD]

Without `--partition` the run covers the monthly partitions the nightly schedule would request
(from the month after the newest one materialized through the current month); with it, only
the month containing that date.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult, PartitionKeyRange

from assets.resources import REPO_ROOT


def ensure_dagster_home() -> str:
    """DAGSTER_HOME, defaulting to the repository's dagster_home/ (created if missing)."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        home = str(REPO_ROOT / "dagster_home")
        os.environ["DAGSTER_HOME"] = home
    os.makedirs(home, exist_ok=True)
    return home


def nightly_partitions(instance: DagsterInstance, day: str | None = None) -> PartitionKeyRange:
    """The month containing ``day`` (YYYY-MM-DD), else the range the schedule would request."""
    from datetime import date

    from assets.ingest import INCREMENTAL_KEYS
    from assets.partitions import month_key, nightly_range

    if day:
        try:
            key = month_key(date.fromisoformat(day))
        except ValueError:
            raise SystemExit(f"error: --partition {day!r} is not a date YYYY-MM-DD") from None
        return PartitionKeyRange(key, key)
    return nightly_range(instance, INCREMENTAL_KEYS)


def run_nightly(
    instance: DagsterInstance,
    partitions: PartitionKeyRange | str | None = None,
    *,
    run_id: str | None = None,
    run_config: Mapping[str, Any] | None = None,
) -> ExecuteInProcessResult:
    """Executes the `ordway_nightly` job definition in process (never raises on job failure),
    for `partitions`: a range of months, a day (its month), or None (the schedule's range)."""
    from assets.definitions import defs
    from assets.jobs import NIGHTLY_JOB_NAME
    from assets.partitions import range_tags

    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    return job.execute_in_process(
        instance=instance,
        tags=range_tags(
            partitions
            if isinstance(partitions, PartitionKeyRange)
            else nightly_partitions(instance, partitions)
        ),
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
    parser.add_argument(
        "--partition",
        help="a day YYYY-MM-DD: run for its month only (default: the schedule's months)",
    )
    args = parser.parse_args(argv)
    home = ensure_dagster_home()
    instance = DagsterInstance.get()
    keys = nightly_partitions(instance, args.partition)
    print(
        f"Running ordway_nightly for partitions {keys.start}..{keys.end} (DAGSTER_HOME={home})",
        flush=True,
    )
    result = run_nightly(instance, keys)
    if not result.success:
        print(f"error: run {result.run_id} failed\n{failure_summary(result)}", file=sys.stderr)
        return 1
    print(f"ok: run {result.run_id} succeeded; open it with `make ui`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
