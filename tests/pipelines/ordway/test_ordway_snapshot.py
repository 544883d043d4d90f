"""`Sightings` keeps only the ids the tombstones depend on, and the tombstones it gives are those
of every id the run served (plain set arithmetic on the whole listing, written out here)."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.ordway.snapshot import WarehouseSnapshot

NOW = datetime(2026, 6, 15, tzinfo=UTC)


def expected_tombstones(
    served: list[str], known: set[str], tombstoned: set[str], detect_deletes: bool
) -> list[tuple[str, datetime | None]]:
    reopened = sorted(set(served) & tombstoned)
    rows = [(record_id, None) for record_id in reopened]
    if detect_deletes:
        rows += [(record_id, NOW) for record_id in sorted(known - set(served) - tombstoned)]
    return rows


def test_a_first_load_keeps_no_id_however_many_it_serves() -> None:
    sightings = WarehouseSnapshot(now=NOW).sightings("invoices")
    for number in range(10_000):
        sightings.saw(f"INV-{number:05d}")
    assert sightings.count == 10_000
    assert sightings.ids == set()


def test_tombstones_from_the_kept_ids_equal_those_of_the_whole_listing() -> None:
    known = {"INV-1", "INV-2", "INV-3", "INV-4"}
    tombstoned = {"INV-9", "INV-8"}
    served = ["INV-1", "INV-3", "INV-9", "INV-5", "INV-6", "INV-3"]  # INV-3 on two pages
    snapshot = WarehouseSnapshot(
        known_ids={"invoices": known}, tombstoned={"invoices": tombstoned}, now=NOW
    )
    for detect_deletes in (True, False):
        sightings = snapshot.sightings("invoices")
        for record_id in served:
            sightings.saw(record_id)
        assert sightings.ids == {"INV-1", "INV-3", "INV-9"}
        assert sightings.count == len(served)
        rows = snapshot.tombstone_rows("invoices", sightings.ids, detect_deletes)
        assert [(r["id"], r["deleted_at"]) for r in rows] == expected_tombstones(
            served, known, tombstoned, detect_deletes
        )
        assert {r["collection"] for r in rows} <= {"invoices"}
