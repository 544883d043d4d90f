"""One writer at a time: a file lock around every step that writes the warehouse.

Dagster's run queue (``dagster.yaml``: one run at a time with the ``ordway/warehouse`` tag) and
the ``ordway_warehouse`` pool already keep scheduled runs apart. This lock is the last line that
holds however a run is launched (CLI, ``materialize`` in a test, two ``dagster dev`` instances on
one machine): a second writer waits up to ``WAREHOUSE_LOCK_TIMEOUT_SECONDS`` and then fails
without having written anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from pipelines.config import lock_timeout_seconds, pipelines_dir


class WarehouseBusyError(RuntimeError):
    """Another run holds the warehouse lock."""


def lock_path() -> Path:
    """The lock file that guards the dlt pipeline state and, locally, the DuckDB file."""
    directory = pipelines_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "ordway.warehouse.lock"


@contextmanager
def warehouse_lock(timeout_seconds: float | None = None) -> Iterator[Path]:
    """Hold the warehouse lock for the duration of the block."""
    if timeout_seconds is None:
        timeout_seconds = lock_timeout_seconds()
    path = lock_path()
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout_seconds)
    except Timeout:
        raise WarehouseBusyError(
            f"Another run is writing the warehouse (lock {path} held for more than "
            f"{timeout_seconds:.0f}s); this run wrote nothing. Wait for it to finish, or "
            "check for a crashed process still holding the lock."
        ) from None
    try:
        yield path
    finally:
        lock.release()
