"""The three jobs. Each selects every asset (raw collections, dbt models) and their checks; the
``ordway/mode`` tag tells the dlt asset how to extract (see ``assets/ingest.py``), the dbt asset
always runs ``dbt build``. ``ordway/warehouse`` is the tag ``dagster_home/dagster.yaml`` limits to
one run at a time. The jobs carry the monthly partitions of the incremental raw collections
(``assets/partitions.py``); every other asset in them is unpartitioned. A backfill launched from
a job's page (its *Partitions* tab, or *Materialize* there) is a job backfill: its run carries
these tags."""

from __future__ import annotations

from typing import Any

from dagster import (
    AssetSelection,
    PartitionsDefinition,
    define_asset_job,
)

from assets.names import MODE_TAG, WAREHOUSE_TAG

#: What ``define_asset_job`` returns (its class is not part of Dagster's public API).
AssetJob = Any

NIGHTLY_JOB_NAME = "ordway_nightly"
FULL_REFRESH_JOB_NAME = "ordway_full_refresh"
DELETE_SWEEP_JOB_NAME = "ordway_delete_sweep"

#: name -> (ordway/mode tag, description)
JOBS = {
    NIGHTLY_JOB_NAME: (
        "incremental",
        "Incremental extract (changed since the cursor minus the lookback), then dbt build and "
        "the checks. Backfills of a date range re-extract the records updated in that range.",
    ),
    FULL_REFRESH_JOB_NAME: (
        "full",
        "Re-extracts every collection completely (cursors move forward, deletes are detected), "
        "then dbt build and the checks.",
    ),
    DELETE_SWEEP_JOB_NAME: (
        "sweep",
        "Lists the incremental collections completely to tombstone records deleted in Ordway "
        "(cursors untouched), then dbt build and the checks.",
    ),
}
WAREHOUSE_JOB_NAMES = tuple(JOBS)


def build_jobs(partitions: PartitionsDefinition) -> list[AssetJob]:
    """The three jobs, each selecting every asset, carrying ``partitions``."""
    return [
        define_asset_job(
            name=name,
            selection=AssetSelection.all(),
            partitions_def=partitions,
            tags={MODE_TAG: mode, WAREHOUSE_TAG: "1"},
            description=description,
        )
        for name, (mode, description) in JOBS.items()
    ]


__all__ = [
    "DELETE_SWEEP_JOB_NAME",
    "FULL_REFRESH_JOB_NAME",
    "JOBS",
    "NIGHTLY_JOB_NAME",
    "WAREHOUSE_JOB_NAMES",
    "AssetJob",
    "build_jobs",
]
