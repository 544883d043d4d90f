"""`make run`: execute the `ordway_nightly` job once, now, for the partitions the schedule would.

It runs the same job definition the nightly schedule launches (incremental extract, dbt build,
checks), in this process, against whatever `ORDWAY_*` / `WAREHOUSE` / `DUCKDB_PATH` variables
are set, and records the run in the Dagster instance of `DAGSTER_HOME` (default
`<repo>/dagster_home`) so it shows in `make ui`.

    python -m scripts.run_nightly [--partition YYYY-MM-DD] [--env-file .env]

Without `--partition` the run covers the monthly partitions the nightly schedule would request
(from the month after the newest one materialized through the current month); with it, only
the month containing that date.

`--env-file` (the Makefile passes `.env`) loads that file with python-dotenv, the loader
`dagster dev` uses for `.env`, and with the same precedence: a variable in the file wins over
the same variable in the environment, so `make run` and `make ui` run with the same settings.
A missing file is not an error.

Exit code 1 when the run failed or any blocking check failed, naming each failed check, its
asset and explanation, and each failed step with its error; 0 otherwise (non-blocking checks
that failed are printed as warnings). The run's link in the Dagster UI is printed either way.
Dagster's run-status sensors do not see runs executed in process, so this script posts the run's
alert (failure, or success with check warnings) itself, to Slack or the log (`assets/alerts.py`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, ExecuteInProcessResult, PartitionKeyRange

from pipelines.config import ConfigError, value

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_env_file(path: str | Path) -> list[str]:
    """Sets the variables of a dotenv file in ``os.environ`` (the file wins, as in `dagster
    dev`); returns their names (never the values). A missing file sets nothing."""
    from dotenv import dotenv_values

    path = Path(path)
    if not path.is_file():
        return []
    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    os.environ.update(values)
    return sorted(values)


def ensure_dagster_home() -> str:
    """DAGSTER_HOME, defaulting to the repository's dagster_home/ (created if missing)."""
    home = str(value("DAGSTER_HOME") or REPO_ROOT / "dagster_home")
    os.environ["DAGSTER_HOME"] = home
    os.makedirs(home, exist_ok=True)
    return home


def nightly_partitions(instance: DagsterInstance, day: str | None = None) -> PartitionKeyRange:
    """The month containing ``day`` (YYYY-MM-DD), else the range the schedule would request."""
    from datetime import date

    from assets.definitions import defs
    from assets.ingest import INCREMENTAL_KEYS
    from assets.jobs import NIGHTLY_JOB_NAME
    from assets.partitions import month_key, nightly_range

    if day:
        try:
            key = month_key(date.fromisoformat(day))
        except ValueError:
            raise SystemExit(f"error: --partition {day!r} is not a date YYYY-MM-DD") from None
        return PartitionKeyRange(key, key)
    partitions = defs.resolve_job_def(NIGHTLY_JOB_NAME).partitions_def
    assert partitions is not None
    return nightly_range(instance, INCREMENTAL_KEYS, partitions)


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
    """The failed blocking checks and the failed steps with their errors, one per line."""
    from assets.alerts import check_failures, step_errors

    lines = [
        f"blocking check failed: {f.check} on {f.asset}: {f.explanation}"
        for f in check_failures(result.all_events)
        if f.blocks_run
    ]
    lines += step_errors(result.all_events)
    if not lines:
        lines = [e.message for e in result.all_events if e.is_failure and e.message]
    return "\n".join(lines) or "the run failed (see the Dagster UI for details)"


def report(result: ExecuteInProcessResult) -> int:
    """Prints the run's outcome, failed checks and failed steps; returns the exit code."""
    from assets.alerts import check_failures, run_url, step_errors

    events = result.all_events
    failures = check_failures(events)
    blocking = [f for f in failures if f.blocks_run]
    failed = not result.success or bool(blocking)
    link = run_url(result.run_id)
    for failure in failures:
        prefix = "error: blocking check failed" if failure.blocks_run else "warning: check failed"
        print(
            f"{prefix}: {failure.check} on {failure.asset}: {failure.explanation}",
            file=sys.stderr if failure.blocks_run else sys.stdout,
        )
    if failed:
        lines = step_errors(events)
        if not lines and not blocking:
            lines = [e.message for e in events if e.is_failure and e.message] or [
                "the run failed (see the Dagster UI for details)"
            ]
        for line in lines:
            print(f"error: {line}", file=sys.stderr)
        print(f"error: run {result.run_id} failed; open it at {link}", file=sys.stderr)
        return 1
    warned = f" with {len(failures)} check warning(s)" if failures else ""
    print(f"ok: run {result.run_id} succeeded{warned}; open it at {link} (`make ui`)")
    return 0


def send_alert(result: ExecuteInProcessResult, failed: bool) -> None:
    """Posts the run's alert (a failure, or a success with check warnings); a delivery error
    is printed, never raised: the exit code stays the run's."""
    from assets.alerts import AlertDeliveryError, post_alert, run_alert

    alert = run_alert(result.dagster_run, result.all_events, failed=failed)
    if alert is None:
        return
    try:
        destination = post_alert(alert)
    except (AlertDeliveryError, ConfigError) as exc:
        print(f"warning: alert not delivered: {exc}", file=sys.stderr)
        return
    print(f"alert sent to {destination}", file=sys.stderr if failed else sys.stdout)


def alert_settings_problem() -> str | None:
    """The alert settings' error (DAGSTER_WEBSERVER_URL, SLACK_*), checked before the run so a
    typo does not surface only when a failure needs reporting."""
    from assets.alerts import slack_destination, webserver_url

    try:
        webserver_url()
        slack_destination()
    except ConfigError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the ordway_nightly job once, now.")
    parser.add_argument(
        "--partition",
        help="a day YYYY-MM-DD: run for its month only (default: the schedule's months)",
    )
    parser.add_argument(
        "--env-file",
        help="dotenv file to load first; its values win over the environment (make run: .env)",
    )
    args = parser.parse_args(argv)
    if args.env_file:
        names = load_env_file(args.env_file)
        where = f"{len(names)} variables from {args.env_file}" if names else "no .env file"
        print(f"Settings: environment + {where}", flush=True)
    problem = alert_settings_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    home = ensure_dagster_home()
    instance = DagsterInstance.get()
    keys = nightly_partitions(instance, args.partition)
    print(
        f"Running ordway_nightly for partitions {keys.start}..{keys.end} (DAGSTER_HOME={home})",
        flush=True,
    )
    result = run_nightly(instance, keys)
    code = report(result)
    send_alert(result, failed=code != 0)
    return code


if __name__ == "__main__":
    sys.exit(main())
