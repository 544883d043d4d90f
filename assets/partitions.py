"""The partitions: monthly, on the incremental raw collections only, and which ones a run covers.

Only what is loaded by date window is partitioned: the incremental raw collections, whose
backfill re-reads the records updated in a window (for the customers' notes and payment methods:
those of the customers updated in the window). Full-refresh collections, the tombstones and
every dbt model are rebuilt whole and carry no partitions.

A partition is a calendar month (UTC) of Ordway's ``updated_date``, from the month of
``ORDWAY_BACKFILL_START`` to the current month (``end_offset=1``: the month in progress is a
partition, re-materialized every night until it ends). Monthly, not daily: every partition of
every asset costs one materialization event, and a single-run range over daily partitions since
2020 is 2,500 x 10 events (tens of minutes of event-log writes on SQLite); monthly is ~80 x 10.
A month is also the window finance reconciles in.

``monthly_partitions()`` builds the definition (the code location builds it once, in
``assets/definitions.py``, and every job and schedule takes it from there). Which partitions a
run materializes (``nightly_range``, ``full_range``):

- nightly (schedule, ``make run``): from the month after the newest month materialized (the
  first partition on a new instance) through the current month. The incremental read covers
  everything since the cursor, and the cursor only moves forward from the last successful run.
- full refresh and weekly sweep: every partition (each lists every record).
- a backfill from the UI: the months chosen, in one run (single-run backfill policy).

So the first nightly run fills the history, every later one re-marks the current month, and a
healthy warehouse shows every partition materialized. A month a backfill failed on stays failed
until a backfill or full refresh covers it again; the nightly never papers over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from dagster import (
    AssetKey,
    AssetPartitionStatus,
    DagsterInstance,
    MonthlyPartitionsDefinition,
    PartitionKeyRange,
    PartitionsDefinition,
)

from assets.names import RANGE_END_TAG, RANGE_START_TAG
from pipelines.config import value


def monthly_partitions(first_day: date | None = None) -> MonthlyPartitionsDefinition:
    """Calendar months (UTC) from the month of ``first_day`` (default ORDWAY_BACKFILL_START, any
    day of it) through the current month."""
    first_month = (first_day or value("ORDWAY_BACKFILL_START")).replace(day=1)
    return MonthlyPartitionsDefinition(
        start_date=first_month.isoformat(), timezone="UTC", end_offset=1
    )


def month_key(day: date | datetime) -> str:
    """The partition key of the month containing ``day`` (``2026-05-30`` -> ``2026-05-01``)."""
    return date(day.year, day.month, 1).isoformat()


def range_tags(keys: PartitionKeyRange) -> dict[str, str]:
    return {RANGE_START_TAG: keys.start, RANGE_END_TAG: keys.end}


def full_range(partitions: PartitionsDefinition, now: datetime | None = None) -> PartitionKeyRange:
    """Every partition up to the current month."""
    keys = partitions.get_partition_keys(current_time=now or datetime.now(UTC))
    return PartitionKeyRange(keys[0], keys[-1])


def newest_materialized(
    instance: DagsterInstance, asset_keys: Iterable[AssetKey], partitions: PartitionsDefinition
) -> str | None:
    """The newest month that every asset in ``asset_keys`` has materialized (None: none has)."""
    keys = partitions.get_partition_keys(current_time=datetime.now(UTC))
    newest: str | None = None
    for asset_key in asset_keys:
        statuses: Mapping[str, AssetPartitionStatus | None] = (
            instance.get_status_by_partition(asset_key, keys, partitions) or {}
        )
        done = [k for k in keys if statuses.get(k) == AssetPartitionStatus.MATERIALIZED]
        if not done:
            return None
        newest = done[-1] if newest is None else min(newest, done[-1])
    return newest


def nightly_range(
    instance: DagsterInstance,
    asset_keys: Iterable[AssetKey],
    partitions: PartitionsDefinition,
    now: datetime | None = None,
) -> PartitionKeyRange:
    """From the month after the newest month every incremental asset has materialized (the
    first partition on a new instance) to the current month; the current month alone when
    nothing newer is missing."""
    keys = partitions.get_partition_keys(current_time=now or datetime.now(UTC))
    newest = newest_materialized(instance, asset_keys, partitions)
    if newest is None:
        return PartitionKeyRange(keys[0], keys[-1])
    later = [k for k in keys if k > newest]
    return PartitionKeyRange(later[0] if later else keys[-1], keys[-1])


__all__ = [
    "full_range",
    "month_key",
    "monthly_partitions",
    "newest_materialized",
    "nightly_range",
    "range_tags",
]
