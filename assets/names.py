"""Names the code location shares: the warehouse pool, run tags and asset groups."""

from pipelines.ordway.contract import DATASET_NAME

#: Pool every step that writes or reads the warehouse declares (dagster.yaml limits it to 1).
WAREHOUSE_POOL = "ordway_warehouse"
#: Run tag the run queue limits to one run at a time (dagster.yaml tag_concurrency_limits).
WAREHOUSE_TAG = "ordway/warehouse"
#: Run tag that chooses the extraction mode: incremental | full | sweep | backfill.
MODE_TAG = "ordway/mode"
#: Dagster's run tag on every run a backfill launches (the tag name Dagster documents).
BACKFILL_TAG = "dagster/backfill"
#: Dagster's run tags for one partition and for a partition range (documented tag names; a run
#: with both range tags covers every partition from start to end inclusive).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
#: Dagster's hidden job for runs launched from the asset graph.
IMPLICIT_ASSET_JOB_PREFIX = "__ASSET_JOB"

#: The raw dataset (schema) dlt loads, and the group of its assets.
RAW_DATASET = DATASET_NAME
RAW_GROUP = "ordway_raw"
