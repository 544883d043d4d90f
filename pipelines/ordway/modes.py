"""The run modes of an extraction and the one check of what a run asks for.

- ``incremental`` (nightly): records changed since the cursor minus the lookback; full-refresh
  collections completely; cursors advance.
- ``full``: every collection completely, deletes detected; cursors move to the max seen.
- ``sweep``: the incremental collections completely, deletes detected; cursors untouched.
- ``backfill``: the incremental collections' records updated in ``[start, end)``; cursors
  untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pipelines.config import ConfigError, OrdwaySettings
from pipelines.ordway.contract import (
    COLLECTIONS,
    FULL_REFRESH_COLLECTIONS,
    INCREMENTAL_COLLECTIONS,
)

logger = logging.getLogger(__name__)

Mode = Literal["incremental", "full", "sweep", "backfill"]
MODES: tuple[Mode, ...] = ("incremental", "full", "sweep", "backfill")
#: Modes that list the incremental collections completely and so detect deletes.
COMPLETE_LISTING_MODES: tuple[Mode, ...] = ("full", "sweep")


def default_resources(mode: Mode) -> tuple[str, ...]:
    """Collections a mode extracts when none are named."""
    if mode in ("sweep", "backfill"):
        return INCREMENTAL_COLLECTIONS
    return INCREMENTAL_COLLECTIONS + FULL_REFRESH_COLLECTIONS


def lists_completely(mode: str, name: str) -> bool:
    """Whether a run in ``mode`` lists collection ``name`` completely (no updated_date filter)."""
    return mode in COMPLETE_LISTING_MODES or not COLLECTIONS[name].incremental


def detects_deletes(mode: str) -> bool:
    """Whether a run in ``mode`` tombstones the ids its complete listings no longer serve."""
    return mode in COMPLETE_LISTING_MODES


def collections_to_extract(
    settings: OrdwaySettings,
    mode: str,
    start: datetime | None = None,
    end: datetime | None = None,
    resources: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """The collections a run extracts: ``resources`` (default: the mode's) that
    ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS enable, in the order asked.

    Raises ConfigError for an unknown mode, a backfill without ``start < end``, an unknown
    collection, or a request that the settings leave empty.
    """
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    if mode == "backfill" and (start is None or end is None or start >= end):
        raise ConfigError("mode=backfill needs --start and --end with start < end")
    requested = tuple(resources) if resources else default_resources(mode)  # type: ignore[arg-type]
    unknown = [n for n in requested if n not in COLLECTIONS]
    if unknown:
        raise ConfigError(f"unknown resources {unknown}; known: {', '.join(sorted(COLLECTIONS))}")
    names = settings.enabled(requested)
    if not names:
        raise ConfigError(
            f"nothing to extract: ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS leave out every "
            f"requested collection ({', '.join(requested)})"
        )
    left_out = [n for n in requested if n not in names]
    if left_out:
        logger.info("left out by ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS: %s", left_out)
    return names


__all__ = [
    "COMPLETE_LISTING_MODES",
    "MODES",
    "Mode",
    "collections_to_extract",
    "default_resources",
    "detects_deletes",
    "lists_completely",
]
