"""Reliability: the shapes real Ordway data can take (issue 7, data scenarios).

Each test shapes the sandbox tenant through its admin API (`PUT /_sandbox/tenant`), runs the real
dlt source into a real DuckDB file, and, where the outcome is a mart figure, runs the real
`dbt build`. Oracles are the tenant JSON itself and Decimal arithmetic on it (revenue-rules.md),
never the code under test. One generated tenant (20 customers) is served for the whole module;
every test starts from it again.
"""

from __future__ import annotations

import copy
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dlt
import pytest

from ordway_sandbox.process import SandboxProcess
from pipelines.config import OrdwaySettings
from pipelines.ordway.contract import DATASET_NAME
from pipelines.ordway.pipeline import make_pipeline, run_extract
from tests.support.dbt import DbtRun, run_dbt
from tests.support.source import (
    connect,
    cursors,
    settings_for,
    table_rows,
    tenant_summary,
    warehouse_summary,
)

CUSTOMERS = 20
SEED = 11
AS_OF = "2025-03-31"
RAW = DATASET_NAME
#: What the billings mart (fct_deferred_revenue) reads: invoices and revenue schedules.
BILLINGS_RESOURCES = ("invoices", "revenue_schedules")
#: revenue-rules.md, "billings": statuses that count (Draft never does).
BILLED_STATUSES = {"Posted", "Paid", "Partially paid", "Reversed"}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def served() -> Iterator[SandboxProcess]:
    args = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF]
    with SandboxProcess(args) as process:
        yield process


@pytest.fixture(scope="module")
def baseline(served: SandboxProcess) -> dict[str, Any]:
    """The generated tenant as first served; tests edit deep copies of it."""
    return served.get_tenant()


@pytest.fixture
def sandbox(served: SandboxProcess, baseline: dict[str, Any]) -> Iterator[SandboxProcess]:
    served.set_faults({})
    served.put_tenant(baseline)
    yield served
    served.set_faults({})


@pytest.fixture(scope="module")
def loaded(
    served: SandboxProcess, baseline: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A warehouse (DuckDB file + dlt directory) after a good first load of the billing
    collections from the baseline tenant; tests work on copies (`Warehouse.copy_of`)."""
    workdir = tmp_path_factory.mktemp("first_load")
    served.set_faults({})
    served.put_tenant(baseline)
    Warehouse(served, workdir).run(resources=BILLINGS_RESOURCES)
    return workdir


@pytest.fixture(scope="module")
def dbt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dbt target directory and one warehouse path for the module's dbt builds, so the
    second build reuses dbt's parse of the first (a new profile path forces a full parse)."""
    return tmp_path_factory.mktemp("dbt_shared")


# ------------------------------------------------------------------------------ helpers


class Warehouse:
    """The real source into one DuckDB file: `run()` is one `run_extract` call."""

    def __init__(self, sandbox: SandboxProcess, workdir: Path, **env: str) -> None:
        self.settings: OrdwaySettings = settings_for(sandbox, workdir, **env)
        self.pipeline: dlt.Pipeline = make_pipeline(self.settings)
        self.path = self.settings.duckdb_path

    @classmethod
    def copy_of(
        cls,
        loaded: Path,
        sandbox: SandboxProcess,
        workdir: Path,
        duckdb_path: Path | None = None,
        **env: str,
    ) -> Warehouse:
        """A copy of the `loaded` warehouse and its dlt directory, as left by its last run."""
        shutil.copytree(loaded / "dlt", workdir / "dlt")
        duckdb_path = duckdb_path or workdir / "ordway.duckdb"
        shutil.copyfile(loaded / "ordway.duckdb", duckdb_path)
        if (loaded / "ordway.duckdb.wal").exists():
            shutil.copyfile(loaded / "ordway.duckdb.wal", f"{duckdb_path}.wal")
        return cls(sandbox, workdir, DUCKDB_PATH=str(duckdb_path), **env)

    def run(self, mode: str = "incremental", resources: tuple[str, ...] = ("invoices",)) -> None:
        run_extract(self.settings, mode, resources=resources, pipeline=self.pipeline)  # type: ignore[arg-type]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with connect(self.path) as con:
            return con.execute(sql, list(params)).fetchall()

    def snapshot(self) -> Snapshot:
        reopened = make_pipeline(self.settings)  # the local dlt state as on disk
        return Snapshot(
            rows=table_rows(self.path),
            cursors=cursors(self.path),
            loads=self.query(f"SELECT count(*) FROM {RAW}._dlt_loads")[0][0],
            local_state=reopened.state["sources"]["ordway"]["resources"],
            pending=reopened.has_pending_data,
        )


@dataclass
class Snapshot:
    """What a failed run must leave exactly as it was."""

    rows: dict[str, list[Any]]
    cursors: dict[str, Any]
    loads: int
    local_state: dict[str, Any]
    pending: bool


def stamp(value: datetime) -> str:
    """Ordway's timestamp format (UTC, milliseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def newest(records: list[dict[str, Any]]) -> datetime:
    return max(datetime.fromisoformat(r["updated_date"]) for r in records)


def edited(tenant: dict[str, Any], invoice_id: str, minutes: int = 5) -> dict[str, Any]:
    """The invoice, with `updated_date` moved `minutes` past the newest invoice (an edit the
    next incremental run must pick up)."""
    record = next(r for r in tenant["invoices"] if r["id"] == invoice_id)
    record["updated_date"] = stamp(newest(tenant["invoices"]) + timedelta(minutes=minutes))
    return record


def invoices_summary(tenant: dict[str, Any]) -> dict[str, Any]:
    return {t: v for t, v in tenant_summary(tenant).items() if t.startswith("invoices")}


def warehouse_invoices_summary(path: Path) -> dict[str, Any]:
    return {t: v for t, v in warehouse_summary(path).items() if t.startswith("invoices")}


def assert_rejected(
    warehouse: Warehouse, before: Snapshot, run: Callable[[], Any], *names: str
) -> str:
    """`run` fails with an error naming every one of `names`, and leaves the warehouse as in
    `before`: rows, loads, stored and local cursors, no pending package."""
    with pytest.raises(Exception) as info:
        run()
    message = str(info.value)
    for name in names:
        assert name in message, (name, message)
    assert warehouse.snapshot() == before
    assert not before.pending
    warehouse.pipeline = make_pipeline(warehouse.settings)  # as the next process would
    return message


def line_values(warehouse: Warehouse, column: str, invoice_id: str) -> list[Any]:
    return [
        row[0]
        for row in warehouse.query(
            f"SELECT l.{column} FROM {RAW}.invoices__line_items l "
            f"JOIN {RAW}.invoices r ON l._dlt_root_id = r._dlt_id WHERE r.id = ? "
            "ORDER BY l._dlt_list_idx",
            invoice_id,
        )
    ]


def column_names(warehouse: Warehouse, table: str) -> set[str]:
    rows = warehouse.query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ?",
        RAW,
        table,
    )
    return {r[0] for r in rows}


# -------------------------------------------------------------- 1. a new field appears


def test_a_new_field_becomes_a_column_its_value_lands_and_older_rows_keep_null(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path)
    assert "purchase_channel" not in column_names(warehouse, "invoices")

    tenant = copy.deepcopy(baseline)
    target = edited(tenant, tenant["invoices"][3]["id"])
    target["purchase_channel"] = "reseller"  # a field no invoice had before
    target["line_items"][0]["usage_region"] = "eu-west"  # and one no invoice line had
    sandbox.put_tenant(tenant)
    warehouse.run()

    assert warehouse.query(
        f"SELECT id, purchase_channel FROM {RAW}.invoices WHERE purchase_channel IS NOT NULL"
    ) == [(target["id"], "reseller")]
    assert warehouse.query(
        f"SELECT count(*) FROM {RAW}.invoices__line_items WHERE usage_region IS NOT NULL"
    ) == [(1,)]
    assert line_values(warehouse, "usage_region", target["id"])[0] == "eu-west"
    # nothing else changed: every invoice table still equals the tenant
    assert warehouse_invoices_summary(warehouse.path) == invoices_summary(tenant)


# ------------------------------------------------------ 2. a money field changes type


def test_a_money_field_that_changes_type_fails_before_loading_and_the_next_run_repairs(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path)
    invoice_id = baseline["invoices"][7]["id"]
    changes: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("'invoice_amount'", lambda r: r.update(invoice_amount={"amount": "10.00"})),
        ("'subtotal'", lambda r: r.update(subtotal="twelve hundred")),
        (
            "'line_items[0].effective_price'",
            lambda r: r["line_items"][0].update(effective_price=[12.5]),
        ),
    ]
    before = warehouse.snapshot()
    for field, change in changes:
        tenant = copy.deepcopy(baseline)
        change(edited(tenant, invoice_id))
        sandbox.put_tenant(tenant)
        assert_rejected(warehouse, before, warehouse.run, "invoices", f"id={invoice_id}", field)

    # upstream fixes the record: the next plain run loads the edit and everything else
    tenant = copy.deepcopy(baseline)
    edited(tenant, invoice_id)["invoice_amount"] = "10.00"
    sandbox.put_tenant(tenant)
    warehouse.run()
    assert warehouse_invoices_summary(warehouse.path) == invoices_summary(tenant)


# --------------------------------------------------------------- 3. a field disappears


def test_a_vanished_field_keeps_its_column_new_rows_get_null_and_old_rows_stay(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path)
    before = table_rows(warehouse.path)
    changed_id = baseline["invoices"][5]["id"]

    tenant = copy.deepcopy(baseline)
    changed = edited(tenant, changed_id)
    created = copy.deepcopy(changed)
    created["id"] = "INV-90001"
    tenant["invoices"].append(created)
    for record in (changed, created):  # both served by the next run without these fields
        del record["payment_terms"], record["invoice_amount"]
        for line in record["line_items"]:
            del line["effective_price"]
    sandbox.put_tenant(tenant)
    warehouse.run()

    assert {"payment_terms", "invoice_amount"} <= column_names(warehouse, "invoices")
    assert "effective_price" in column_names(warehouse, "invoices__line_items")
    rows = warehouse.query(
        f"SELECT id, payment_terms, invoice_amount FROM {RAW}.invoices WHERE id IN (?, ?)",
        changed_id,
        "INV-90001",
    )
    assert sorted(rows) == [(changed_id, None, None), ("INV-90001", None, None)]
    for invoice_id in (changed_id, "INV-90001"):
        lines = line_values(warehouse, "effective_price", invoice_id)
        assert lines and all(value is None for value in lines)
    # every row not served again is untouched, child rows included
    untouched = {"invoices": {changed_id, "INV-90001"}}
    expected = {
        table: [row for row in rows if row[1] != changed_id] for table, rows in before.items()
    }
    assert table_rows(warehouse.path, exclude_ids=untouched) == {
        t: r for t, r in expected.items() if r
    }
    assert warehouse.query(f"SELECT count(*), count(DISTINCT id) FROM {RAW}.invoices") == [
        (len(tenant["invoices"]), len(tenant["invoices"]))
    ]


@pytest.mark.slow
def test_a_vanished_field_the_marts_need_fails_dbt_build_instead_of_dropping_money(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path, dbt_dir: Path
) -> None:
    """Without a not_null test, a billed invoice whose `invoice_date` or `status` vanished, or
    a line without `effective_price`, silently dropped out of billings (and a revenue line
    without `amount` out of recognized revenue) while `dbt build` passed. Now it fails."""
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path, dbt_dir / "warehouse.duckdb")
    tenant = copy.deepcopy(baseline)
    billed = [r for r in tenant["invoices"] if r["status"] in BILLED_STATUSES]
    del edited(tenant, billed[0]["id"])["invoice_date"]
    del edited(tenant, billed[1]["id"])["status"]
    for line in edited(tenant, billed[2]["id"])["line_items"]:
        del line["effective_price"]
    schedule = tenant["revenue_schedules"][0]
    schedule["updated_date"] = stamp(newest(tenant["revenue_schedules"]) + timedelta(minutes=5))
    del schedule["schedule_lines"][0]["amount"]
    sandbox.put_tenant(tenant)
    warehouse.run(resources=BILLINGS_RESOURCES)  # the load itself succeeds: fields may be absent

    build = dbt_build(warehouse, dbt_dir)
    assert build.returncode != 0
    failed = {r["unique_id"].split(".")[2] for r in build.results if r["status"] == "fail"}
    assert {
        "not_null_stg_ordway__invoices_invoice_date",
        "not_null_stg_ordway__invoices_invoice_status",
        "not_null_stg_ordway__invoice_lines_billed_amount",
        "not_null_stg_ordway__revenue_schedule_lines_revenue_amount",
    } <= failed, build.failures()
    # nothing downstream is built from the incomplete rows: no silently lower figures
    statuses = build.statuses("model.ordway_revenue.")
    for model in ("int_invoice_lines_billed", "int_revenue_schedule_lines_dated"):
        assert statuses[f"model.ordway_revenue.{model}"] == "skipped", model
    assert statuses["model.ordway_revenue.fct_deferred_revenue"] == "skipped"


# ------------------------------------------------- 4. the same record on two pages


def test_a_record_served_on_two_pages_lands_once_with_its_later_version(
    sandbox: SandboxProcess, baseline: dict[str, Any], tmp_path: Path
) -> None:
    """Ordway pages by offset, sorted by `updated_date`: a record edited during an extract is
    served once on an early page (old version) and again on the last one (new version)."""
    by_cursor = sorted(baseline["invoices"], key=lambda r: (r["updated_date"], r["id"]))
    first = by_cursor[0]["id"]  # on page 1 before the edit, on the last page after it
    tenant = copy.deepcopy(baseline)
    record = edited(tenant, first)
    record["balance"] = "4321.09"
    record["line_items"][0]["effective_price"] = "777.70"

    # page 1 is answered from the old tenant and held back 2 s; the edit lands meanwhile
    sandbox.set_faults({"faults": ["timeout:invoices:1:1"], "stall_seconds": 2})
    sandbox.reset_stats()
    pages_at_edit: list[list[str]] = []
    editor = threading.Thread(
        target=put_after_page_one, args=(sandbox, tenant, pages_at_edit), daemon=True
    )
    editor.start()
    warehouse = Warehouse(sandbox, tmp_path, ORDWAY_PAGE_SIZE="20", ORDWAY_TIMEOUT_SECONDS="20")
    warehouse.run()
    editor.join(timeout=30)
    assert pages_at_edit == [["1"]]  # the edit landed after page 1, before page 2
    assert set(sandbox.stats()["statuses"]) == {"200"}  # no error, no retry

    total, distinct = warehouse.query(f"SELECT count(*), count(DISTINCT id) FROM {RAW}.invoices")[0]
    assert total == distinct
    (balance, updated), *more = warehouse.query(
        f"SELECT balance, updated_date FROM {RAW}.invoices WHERE id = ?", first
    )
    assert not more
    assert balance == Decimal("4321.09")
    assert stamp(updated) == record["updated_date"]
    lines = line_values(warehouse, "effective_price", first)
    assert lines == [Decimal(line["effective_price"]) for line in record["line_items"]]
    assert lines[0] == Decimal("777.70")

    # The edit also shifted the offset pages: one record slid back onto page 1 after page 1
    # was read (and is older than any later nightly's window). It is not lost: the source saw
    # a record served twice and read the listing again.
    assert warehouse_invoices_summary(warehouse.path) == invoices_summary(tenant)


def test_a_record_deleted_while_a_sweep_pages_marks_only_itself_deleted(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    """A delete during a sweep shifts the offset pages: the record after the deleted one slides
    onto page 1 after page 1 was read, so the listing never serves it. Absent from a complete
    listing is not deleted: the sweep asks for it by id and keeps it."""
    by_cursor = sorted(baseline["invoices"], key=lambda r: (r["updated_date"], r["id"]))
    gone, slid = by_cursor[0]["id"], by_cursor[20]["id"]  # pages of 20: first on page 1 and 2
    tenant = copy.deepcopy(baseline)
    tenant["invoices"] = [r for r in tenant["invoices"] if r["id"] != gone]

    sandbox.set_faults({"faults": ["timeout:invoices:1:1"], "stall_seconds": 2})
    sandbox.reset_stats()
    pages_at_edit: list[list[str]] = []
    editor = threading.Thread(
        target=put_after_page_one, args=(sandbox, tenant, pages_at_edit), daemon=True
    )
    editor.start()
    warehouse = Warehouse.copy_of(
        loaded, sandbox, tmp_path, ORDWAY_PAGE_SIZE="20", ORDWAY_TIMEOUT_SECONDS="20"
    )
    warehouse.run(mode="sweep")
    editor.join(timeout=30)
    assert pages_at_edit == [["1"]]  # the delete landed after page 1, before page 2

    def open_tombstones() -> set[str]:
        rows = warehouse.query(
            f"SELECT id FROM {RAW}._ordway_deletions "
            "WHERE collection = 'invoices' AND deleted_at IS NOT NULL"
        )
        return {row[0] for row in rows}

    assert open_tombstones() == set()  # neither the skipped record nor (yet) the deleted one
    # the shape was real: the listing skipped `slid`, and the sweep asked for it by id
    asked_by_id = [e["path"] for e in sandbox.stats()["log"] if e["path"].endswith(f"/{slid}")]
    assert asked_by_id
    total, distinct = warehouse.query(f"SELECT count(*), count(DISTINCT id) FROM {RAW}.invoices")[0]
    assert total == distinct == len(baseline["invoices"])

    sandbox.set_faults({})
    warehouse.run(mode="sweep")  # an undisturbed sweep sees the delete, and only it
    assert open_tombstones() == {gone}


def put_after_page_one(
    sandbox: SandboxProcess, tenant: dict[str, Any], pages_at_edit: list[list[str]]
) -> None:
    """PUTs `tenant` as soon as the sandbox has answered page 1 of /invoices, and records
    which invoice pages had been answered by then."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pages = [
            parse_qs(entry["query"]).get("page", ["1"])[0]
            for entry in sandbox.stats()["log"]
            if entry["path"].endswith("/invoices")
        ]
        if "1" in pages:
            sandbox.put_tenant(tenant)
            pages_at_edit.append(pages)
            return
        time.sleep(0.02)


# -------------------------------------------- 5. null or malformed dates and amounts


def test_blank_and_null_dates_and_amounts_load_as_null(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path)
    tenant = copy.deepcopy(baseline)
    record = edited(tenant, tenant["invoices"][9]["id"])
    record.update(invoice_amount="", balance="-", paid_amount=None, due_date="", end_date=None)
    record["line_items"][0]["effective_price"] = ""
    sandbox.put_tenant(tenant)
    warehouse.run()

    assert warehouse.query(
        f"SELECT invoice_amount, balance, paid_amount, due_date, end_date, invoice_date "
        f"FROM {RAW}.invoices WHERE id = ?",
        record["id"],
    ) == [(None, None, None, None, None, datetime.fromisoformat(record["invoice_date"]).date())]
    assert line_values(warehouse, "effective_price", record["id"])[0] is None
    assert warehouse_invoices_summary(warehouse.path) == invoices_summary(tenant)


def test_malformed_dates_and_amounts_fail_naming_collection_record_and_field(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path)
    invoice_id = baseline["invoices"][11]["id"]
    bad = [
        ("invoice_date", "2024-02-30"),
        ("invoice_date", "03/01/2024"),
        ("due_date", "soon"),
        ("invoice_amount", "abc"),
    ]
    before = warehouse.snapshot()
    for field, value in bad:
        tenant = copy.deepcopy(baseline)
        edited(tenant, invoice_id)[field] = value
        sandbox.put_tenant(tenant)
        message = assert_rejected(
            warehouse, before, warehouse.run, "invoices", f"id={invoice_id}", repr(field)
        )
        assert value not in message  # the offending value itself is not echoed


def test_a_record_whose_cursor_becomes_null_is_invisible_to_nightly_and_stops_the_sweep(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path
) -> None:
    """The API's `updated_date>` filter cannot match a null `updated_date`, so the nightly run
    does not see the record (it keeps its last good version); a listing without the filter (the
    sweep, the full refresh) sees it and fails, naming collection, record and field."""
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path)
    rows = table_rows(warehouse.path)
    tenant = copy.deepcopy(baseline)
    record = tenant["invoices"][13]
    record.update(updated_date=None, balance="1.00")
    sandbox.put_tenant(tenant)

    warehouse.run()
    assert table_rows(warehouse.path) == rows
    before = warehouse.snapshot()
    for mode in ("sweep", "full"):
        assert_rejected(
            warehouse,
            before,
            lambda mode=mode: warehouse.run(mode),
            "invoices",
            f"id={record['id']}",
            "'updated_date'",
        )


# -------------------------------------------- 6. an invoice reversed after its month closed


def billings_oracle(tenant: dict[str, Any]) -> dict[tuple[str, str, str], Decimal]:
    """revenue-rules.md, billings: (month, customer, currency) -> sum of the lines'
    `effective_price` of billed invoices in the month of `invoice_date`, and again, negated,
    in the month of `reversed_on` for a Reversed invoice; only documents dated <= the as-of."""
    result: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for invoice in tenant["invoices"]:
        if invoice["status"] not in BILLED_STATUSES or invoice["invoice_date"] > AS_OF:
            continue
        amount = sum(
            (Decimal(line["effective_price"]) for line in invoice["line_items"]), Decimal(0)
        )
        key = (invoice["customer_id"], invoice["currency"])
        result[(invoice["invoice_date"][:7], *key)] += amount
        reversed_on = invoice.get("reversed_on") or invoice["invoice_date"]
        if invoice["status"] == "Reversed" and reversed_on <= AS_OF:
            result[(reversed_on[:7], *key)] -= amount
    return {key: value for key, value in result.items() if value != 0}


@pytest.mark.slow
def test_an_invoice_reversed_after_its_month_closed_counts_again_negated_in_the_reversal_month(
    sandbox: SandboxProcess, baseline: dict[str, Any], loaded: Path, tmp_path: Path, dbt_dir: Path
) -> None:
    warehouse = Warehouse.copy_of(loaded, sandbox, tmp_path, dbt_dir / "warehouse.duckdb")

    # an open invoice from a closed month is reversed in February 2025 (as-of: March 2025)
    tenant = copy.deepcopy(baseline)
    candidates = [
        r
        for r in tenant["invoices"]
        if r["status"] in ("Posted", "Paid") and r["invoice_date"] < "2025-01-01"
    ]
    victim = max(candidates, key=lambda r: (r["status"] == "Posted", r["invoice_date"]))
    edited(tenant, victim["id"]).update(status="Reversed", reversed_on="2025-02-10", balance="0")
    sandbox.put_tenant(tenant)
    warehouse.run(resources=BILLINGS_RESOURCES)  # the nightly run picks the reversal up

    build = dbt_build(warehouse, dbt_dir)
    assert build.returncode == 0, build.failures()
    mart = {
        (month.strftime("%Y-%m"), customer, currency): billings
        for month, customer, currency, billings in warehouse.query(
            "SELECT month, customer_id, currency, billings FROM marts.fct_deferred_revenue "
            "WHERE billings <> 0"
        )
    }
    before, after = billings_oracle(baseline), billings_oracle(tenant)
    assert mart == after

    amount = sum((Decimal(line["effective_price"]) for line in victim["line_items"]), Decimal(0))
    assert amount != 0
    key = (victim["customer_id"], victim["currency"])
    original = (victim["invoice_date"][:7], *key)
    reversal = ("2025-02", *key)
    assert mart[original] == before[original]  # the closed month is unchanged
    assert mart.get(reversal, Decimal(0)) == before.get(reversal, Decimal(0)) - amount
    untouched = set(before) - {original, reversal}
    assert {k: mart.get(k) for k in untouched} == {k: before[k] for k in untouched}


# ------------------------------------------------------------------------ dbt helpers


def dbt_build(warehouse: Warehouse, dbt_dir: Path) -> DbtRun:
    """`dbt build` of the billings mart and everything it reads, with their tests."""
    return run_dbt(
        "build",
        warehouse.path,
        dbt_dir,
        AS_OF,
        "--select",
        "+fct_deferred_revenue",
        "--indirect-selection",
        "cautious",
    )
