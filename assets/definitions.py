"""The code location loaded by ``workspace.yaml``: ``defs = build_definitions()``.

Every definition that depends on configuration or on the dbt manifest is built by a function
here, never at import of its module: the monthly partitions (ORDWAY_BACKFILL_START), the raw dlt
assets (their warehouse kind), the dbt assets (the manifest, prepared when stale), the published
marts, the jobs and the schedules (NIGHTLY_CRON, ...). Checks and alert sensors read their
settings when they run and are plain module-level definitions. Building needs no Ordway
credentials: the asset bodies read them at run time (the ``ordway`` resource).
"""

from __future__ import annotations

from dagster import Definitions

from assets.checks import ALL_CHECKS
from assets.dbt_cli import dbt_project, dbt_resource
from assets.ingest import build_raw_assets
from assets.jobs import build_jobs
from assets.partitions import monthly_partitions
from assets.publish import PUBLISHED_MARTS_KEY, build_published_marts, mart_keys
from assets.resources import OrdwayResource
from assets.schedules import build_schedules
from assets.sensors import ALERT_SENSORS
from assets.transform import build_dbt_assets
from assets.webhooks import build_webhook_sync_sensor, ordway_payment_failure_alert
from pipelines.config import warehouse_kind


def build_definitions() -> Definitions:
    """The whole code location, from the environment as it is now."""
    warehouse = warehouse_kind()
    partitions = monthly_partitions()
    dbt_assets = build_dbt_assets(dbt_project())
    jobs = build_jobs(partitions)
    return Definitions(
        assets=[
            *build_raw_assets(partitions, warehouse),
            dbt_assets,
            build_published_marts(mart_keys(dbt_assets), warehouse),
        ],
        asset_checks=ALL_CHECKS,
        jobs=jobs,
        schedules=build_schedules(jobs),
        sensors=[
            *ALERT_SENSORS,
            build_webhook_sync_sensor([*dbt_assets.keys, PUBLISHED_MARTS_KEY]),
            ordway_payment_failure_alert,
        ],
        resources={"dbt": dbt_resource(warehouse), "ordway": OrdwayResource()},
    )


defs = build_definitions()
