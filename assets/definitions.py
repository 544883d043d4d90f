"""The code location loaded by ``workspace.yaml``: dlt assets (ingest), dbt assets (transform),
the published marts (publish), checks, jobs, schedules and sensors. Loads with no Ordway
credentials in the environment."""

from __future__ import annotations

from dagster import Definitions

from assets.checks import ALL_CHECKS
from assets.ingest import RAW_ASSETS
from assets.jobs import ALL_JOBS
from assets.publish import published_marts
from assets.resources import dbt_resource
from assets.schedules import ALL_SCHEDULES, ALL_SENSORS
from assets.transform import ordway_dbt_assets

defs = Definitions(
    assets=[*RAW_ASSETS, ordway_dbt_assets, published_marts],
    asset_checks=ALL_CHECKS,
    jobs=ALL_JOBS,
    schedules=ALL_SCHEDULES,
    sensors=ALL_SENSORS,
    resources={"dbt": dbt_resource()},
)
