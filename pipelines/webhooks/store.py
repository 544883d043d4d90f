"""The durable store of webhook deliveries: one SQLite file (``WEBHOOK_DB_PATH``), written by the
receiver and read by the Dagster sensors.

Tables:

- ``events``: one row per accepted delivery, unique on its dedup key (``envelope.py``); ``seq``
  grows with every new event (the sensor's cursor); ``deliveries`` counts how often it came;
  ``run_key`` / ``processed_at`` are set once a targeted run has been requested for it.
- ``rejected``: every delivery refused for its body (status, reason, the body as received), for
  inspection; unauthenticated requests are not stored (only counted in the log).
- ``alerts``: the payment-failure alert keys already posted, so each is posted once.

Every write is its own transaction, committed (WAL, ``synchronous=FULL``) before the function
returns: the receiver answers 2xx only after the event is on disk.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.webhooks.envelope import Envelope

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key TEXT NOT NULL UNIQUE,
    object TEXT NOT NULL,
    action TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version TEXT NOT NULL,
    event_timestamp TEXT NOT NULL,
    collections TEXT NOT NULL,
    alert_key TEXT,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    last_delivery_at TEXT NOT NULL,
    run_key TEXT,
    processed_at TEXT
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    alert_key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    alerted_at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    dedup_key: str
    object: str
    action: str
    record_id: str
    collections: tuple[str, ...]
    alert_key: str | None
    data: dict
    received_at: str


class WebhookStore:
    """The SQLite file at ``path`` (created with its tables on first use). Each call opens and
    closes its own connection, so the receiver's worker threads and the sensors share nothing."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA busy_timeout=30000")
            yield con
        finally:
            con.close()

    # ------------------------------------------------------------------------ receiver

    def add(self, envelope: Envelope, body: bytes) -> bool:
        """Stores a delivery; True when it is new, False for a duplicate (its delivery counted).
        Committed when this returns."""
        now = _now()
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            cursor = con.execute(
                "INSERT INTO events (dedup_key, object, action, record_id, version, "
                "event_timestamp, collections, alert_key, body, received_at, last_delivery_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
                (
                    envelope.dedup_key,
                    envelope.object,
                    envelope.action,
                    envelope.record_id,
                    envelope.version,
                    envelope.timestamp,
                    ",".join(envelope.collections),
                    envelope.alert_key,
                    body.decode("utf-8"),
                    now,
                    now,
                ),
            )
            new = cursor.rowcount == 1
            if not new:
                con.execute(
                    "UPDATE events SET deliveries = deliveries + 1, last_delivery_at = ? "
                    "WHERE dedup_key = ?",
                    (now, envelope.dedup_key),
                )
            con.execute("COMMIT")
        return new

    def reject(self, status: int, reason: str, body: bytes) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO rejected (received_at, status, reason, body) VALUES (?, ?, ?, ?)",
                (_now(), status, reason, body.decode("utf-8", errors="replace")),
            )

    # ------------------------------------------------------------------------- sensors

    def _events(self, where: str, params: tuple) -> list[StoredEvent]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT seq, dedup_key, object, action, record_id, collections, alert_key, body, "
                f"received_at FROM events WHERE {where} ORDER BY seq",
                params,
            ).fetchall()
        return [
            StoredEvent(
                seq=row[0],
                dedup_key=row[1],
                object=row[2],
                action=row[3],
                record_id=row[4],
                collections=tuple(c for c in row[5].split(",") if c),
                alert_key=row[6],
                data=json.loads(row[7]).get("data", {}),
                received_at=row[8],
            )
            for row in rows
        ]

    def events_after(self, seq: int) -> list[StoredEvent]:
        """Events stored after ``seq`` (the targeted-sync sensor's cursor), oldest first."""
        return self._events("seq > ?", (seq,))

    def mark_processed(self, up_to_seq: int, run_key: str) -> int:
        """Records that a run was requested for the unprocessed events up to ``up_to_seq``."""
        with self._connect() as con:
            cursor = con.execute(
                "UPDATE events SET run_key = ?, processed_at = ? "
                "WHERE seq <= ? AND processed_at IS NULL",
                (run_key, _now(), up_to_seq),
            )
            return cursor.rowcount

    def unalerted(self) -> list[StoredEvent]:
        """Payment-failure events whose alert key has not been posted, oldest first (one per
        alert key: the first delivery of it)."""
        return self._events(
            "alert_key IS NOT NULL AND alert_key NOT IN (SELECT alert_key FROM alerts) "
            "AND seq = (SELECT MIN(e.seq) FROM events e WHERE e.alert_key = events.alert_key)",
            (),
        )

    def record_alert(self, alert_key: str, seq: int) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO alerts (alert_key, seq, alerted_at) VALUES (?, ?, ?) "
                "ON CONFLICT (alert_key) DO NOTHING",
                (alert_key, seq, _now()),
            )

    def counts(self) -> dict[str, int]:
        """Rows per table, unprocessed events and deliveries (for tests and the log)."""
        with self._connect() as con:
            one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
            return {
                "events": one("SELECT COUNT(*) FROM events"),
                "deliveries": one("SELECT COALESCE(SUM(deliveries), 0) FROM events"),
                "unprocessed": one("SELECT COUNT(*) FROM events WHERE processed_at IS NULL"),
                "rejected": one("SELECT COUNT(*) FROM rejected"),
                "alerts": one("SELECT COUNT(*) FROM alerts"),
            }


__all__ = ["StoredEvent", "WebhookStore"]
