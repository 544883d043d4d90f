"""The three jobs. Each selects every asset (raw collections, dbt models) and their checks; the
``ordway/mode`` tag tells the dlt asset how to extract (see ``assets/ingest.py``), the dbt asset
always runs ``dbt build``. ``ordway/warehouse`` is the tag ``dagster_home/dagster.yaml`` limits to
one run at a time. The jobs carry the monthly partitions of the incremental raw collections
(``assets/partitions.py``); every other asset in them is unpartitioned. A backfill launched from
a job's page (its *Partitions* tab, or *Materialize* there) is a job backfill: its run carries
these tags."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from assets.partitions import PARTITIONS_DEF
from assets.resources import MODE_TAG, WAREHOUSE_TAG

NIGHTLY_JOB_NAME = "ordway_nightly"
FULL_REFRESH_JOB_NAME = "ordway_full_refresh"
DELETE_SWEEP_JOB_NAME = "ordway_delete_sweep"


def _job(name: str, mode: str, description: str):
    return define_asset_job(
        name=name,
        selection=AssetSelection.all(),
        partitions_def=PARTITIONS_DEF,
        tags={MODE_TAG: mode, WAREHOUSE_TAG: "1"},
        description=description,
    )


ordway_nightly = _job(
    NIGHTLY_JOB_NAME,
    "incremental",
    "Incremental extract (changed since the cursor minus the lookback), then dbt build and the "
    "checks. Backfills of a date range re-extract the records updated in that range.",
)
ordway_full_refresh = _job(
    FULL_REFRESH_JOB_NAME,
    "full",
    "Re-extracts every collection completely (cursors move forward, deletes are detected), "
    "then dbt build and the checks.",
)
ordway_delete_sweep = _job(
    DELETE_SWEEP_JOB_NAME,
    "sweep",
    "Lists the incremental collections completely to tombstone records deleted in Ordway "
    "(cursors untouched), then dbt build and the checks.",
)

ALL_JOBS = [ordway_nightly, ordway_full_refresh, ordway_delete_sweep]
WAREHOUSE_JOB_NAMES = tuple(job.name for job in ALL_JOBS)
