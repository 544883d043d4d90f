"""Resuming a load package that a killed process left half-loaded, without duplicating rows.

dlt records a load job as done only after the job's transaction has committed (a marker in
the package's ``.pending_transitions/``, then a move to ``completed_jobs/``). A process killed
between the commit and that record leaves the job in ``started_jobs/``, and dlt runs it again
when the package is resumed: its rows are then in the (staging) table twice, with the same
``_dlt_id``, and dlt's merge copies both into the dataset (dlt-hub/dlt#3023, narrowed but not
closed by the pending-transition markers). A real ``SIGKILL`` during the load of a nightly run
showed it (``tests/reliability/test_process_death.py``).

Before resuming, every such interrupted Parquet job has the rows it may have committed deleted
by ``_dlt_id`` from the table it loads into, so the retry writes them exactly once. DuckDB only
(it reads the job's Parquet file directly); on Snowflake the jobs are retried as dlt does.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

logger = logging.getLogger(__name__)


def _transition_recorded(job_file: str) -> bool:
    """dlt wrote the job's outcome after its commit, so it will not run the job again."""
    path = Path(job_file)  # <package>/started_jobs/<file>
    return (path.parents[1] / ".pending_transitions" / path.name).exists()


def discard_rows_of_interrupted_jobs(pipeline: dlt.Pipeline) -> int:
    """Deletes what interrupted load jobs of pending packages may have committed; returns how
    many jobs were cleaned."""
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return 0
    cleaned = 0
    for load_id in pipeline.list_normalized_load_packages():
        jobs = pipeline.get_load_package_info(load_id).jobs.get("started_jobs", [])
        interrupted = [
            job
            for job in jobs
            if job.job_file_info.file_format == "parquet"
            and not _transition_recorded(job.file_path)
        ]
        if not interrupted:
            continue
        with pipeline.destination_client() as client:
            sql = client.sql_client  # type: ignore[attr-defined]
            for job in interrupted:
                table = job.job_file_info.table_name
                staging = client.should_load_data_to_staging_dataset(table)  # type: ignore[attr-defined]
                with sql.with_staging_dataset() if staging else nullcontext():
                    name = sql.make_qualified_table_name(table)
                    try:
                        sql.execute_sql(
                            f"DELETE FROM {name} WHERE _dlt_id IN "
                            "(SELECT _dlt_id FROM read_parquet(%s))",
                            job.file_path,
                        )
                    except DatabaseUndefinedRelation:
                        continue  # the table was never created: nothing was committed
                cleaned += 1
        logger.warning(
            "load package %s was interrupted mid-load: removed what %d unfinished jobs may have "
            "written before loading it again",
            load_id,
            len(interrupted),
        )
    return cleaned
