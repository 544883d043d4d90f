"""Tenants shaped like real accounts (issue 12, source side), against the real sandbox server and
a real DuckDB file: empty collections, collections the plan does not include (403/404), values
that drift between a type and `""`, and a second Ordway company pointed at the same warehouse.

Oracles: the collection contract in settings.py (configuration, not the code under test), the
served tenant JSON (`tenant_summary`: counts and Decimal sums), and the written rules of
pipelines/ordway/README.md.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ordway_sandbox.process import SandboxProcess, credentials_env
from pipelines.config import OrdwaySettings
from pipelines.ordway.__main__ import main
from pipelines.ordway.contract import COLLECTIONS, DATASET_NAME, KINDS
from pipelines.ordway.pipeline import (
    UnavailableCollection,
    WarehouseCompanyError,
    make_pipeline,
    run_extract,
    unavailable_collections,
)
from tests.support.source import (
    connect,
    cursors,
    settings_for,
    source_env,
    table_rows,
    tenant_summary,
    warehouse_summary,
)

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "tiny_tenant.json"
RAW = DATASET_NAME
#: DuckDB type of each declared kind (pipelines/ordway/README.md, "Types").
DUCKDB_TYPES = {
    "money": "DECIMAL(38,10)",
    "numbers": "DECIMAL(38,10)",
    "dates": "DATE",
    "timestamps": "TIMESTAMP WITH TIME ZONE",
    "integers": "BIGINT",
    "booleans": "BOOLEAN",
    "text": "VARCHAR",
}


def tiny_tenant() -> dict[str, Any]:
    return json.loads(TINY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served() -> Iterator[SandboxProcess]:
    with SandboxProcess(tenant=TINY) as process:
        yield process


@pytest.fixture
def sandbox(served: SandboxProcess) -> Iterator[SandboxProcess]:
    served.set_faults({})
    served.set_options({})
    served.put_tenant(tiny_tenant())
    yield served
    served.set_faults({})
    served.set_options({})


class Warehouse:
    """One DuckDB file and dlt directory; `run()` is one `run_extract` call."""

    def __init__(self, sandbox: SandboxProcess, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.settings: OrdwaySettings = settings_for(sandbox, workdir, **env)
        self.pipeline = make_pipeline(self.settings)
        self.path = self.settings.duckdb_path

    def run(self, mode: str = "incremental", **kwargs: Any) -> Any:
        return run_extract(self.settings, mode, pipeline=self.pipeline, **kwargs)  # type: ignore[arg-type]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with connect(self.path) as con:
            return con.execute(sql, list(params)).fetchall()

    def columns(self, table: str) -> dict[str, str]:
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            RAW,
            table,
        )
        return dict(rows)

    def tables(self) -> set[str]:
        rows = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", RAW
        )
        return {r[0] for r in rows}

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {RAW}.{table}")[0][0]

    def state(self) -> tuple[Any, ...]:
        """Everything a skipped or refused run must leave as it was."""
        loads = self.query(f"SELECT count(*) FROM {RAW}._dlt_loads")[0][0]
        return table_rows(self.path), cursors(self.path), loads


def declared_columns(collection: str, path: tuple[str, ...]) -> dict[str, str]:
    """The columns the contract promises for one table, with dlt's own columns."""
    types = COLLECTIONS[collection].tables[path]
    expected = {
        name.replace(".", "__"): DUCKDB_TYPES[kind]
        for kind in KINDS
        for name in getattr(types, kind)
    }
    if not path:
        return {**expected, "_dlt_id": "VARCHAR", "_dlt_load_id": "VARCHAR"}
    expected |= {"_dlt_parent_id": "VARCHAR", "_dlt_list_idx": "BIGINT", "_dlt_id": "VARCHAR"}
    if COLLECTIONS[collection].incremental:  # merge tables link every row to its root record
        expected["_dlt_root_id"] = "VARCHAR"
    return expected


def bump(record: dict[str, Any]) -> dict[str, Any]:
    """An edit the next incremental run must pick up (updated_date moved past every other)."""
    record["updated_date"] = "2099-01-01T00:00:00.000Z"
    return record


# ----------------------------------------------------------------- 1. empty collections


def test_an_empty_account_gets_every_declared_table_with_exactly_its_declared_columns(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sandbox.put_tenant({name: [] for name in COLLECTIONS})
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()

    assert unavailable_collections(warehouse.pipeline) == {}
    for name, collection in COLLECTIONS.items():
        for path in collection.tables:
            table = "__".join((name, *path))
            assert warehouse.columns(table) == declared_columns(name, path), table
            assert warehouse.count(table) == 0, table
    assert warehouse.count("_ordway_deletions") == 0

    # a second empty night changes nothing and still fails nothing
    before = warehouse.state()
    warehouse.run()
    assert warehouse.state()[:2] == before[:2]


def test_an_emptied_full_refresh_collection_is_emptied_and_an_empty_incremental_night_keeps_rows(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()
    rows, marks, _ = warehouse.state()
    assert rows["customers"] and rows["customers__contacts"] and rows["invoices"]

    tenant = tiny_tenant()
    tenant["customers"] = []  # full refresh: the account has no customers any more
    tenant["plans"] = []
    tenant["invoices"] = []  # incremental: nothing new tonight (an empty listing)
    tenant["usages"] = []
    sandbox.put_tenant(tenant)
    warehouse.run()

    for table in ("customers", "customers__contacts", "plans", "plans__charges"):
        assert warehouse.count(table) == 0, table
        declared = declared_columns(*_split(table))
        actual = warehouse.columns(table)
        assert {c: actual.get(c) for c in declared} == declared, table
    after, after_marks, _ = warehouse.state()
    for table in ("invoices", "invoices__line_items", "usages"):
        assert after[table] == rows[table], table
    assert after_marks["invoices"] == marks["invoices"]
    assert after_marks["usages"] == marks["usages"]


def _split(table: str) -> tuple[str, tuple[str, ...]]:
    collection, *path = table.split("__")
    return collection, tuple(path)


# --------------------------------------------------- 2. a module the plan does not include


def test_a_collection_answering_403_or_404_on_page_one_is_skipped_and_the_rest_loads(
    sandbox: SandboxProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()
    rows, marks, _ = warehouse.state()

    tenant = tiny_tenant()
    bump(tenant["invoices"][0])["balance"] = "7.77"
    tenant["customers"][0]["name"] = "Renamed Corp"  # must not land: customers is skipped
    bump(tenant["usages"][0])["quantity"] = 99.0  # must not land: usages is skipped
    sandbox.put_tenant(tenant)
    sandbox.set_options({"unavailable": {"customers": 403, "usages": 404}})
    with caplog.at_level(logging.WARNING, logger="pipelines.ordway"):
        warehouse.run()

    # the customers' sub-resources are read through the customers listing: skipped with it
    assert unavailable_collections(warehouse.pipeline) == {
        "customers": UnavailableCollection("customers", 403, "/api/v1/customers"),
        "customer_notes": UnavailableCollection("customer_notes", 403, "/api/v1/customers"),
        "payment_methods": UnavailableCollection("payment_methods", 403, "/api/v1/customers"),
        "usages": UnavailableCollection("usages", 404, "/api/v1/usages"),
    }
    after, after_marks, _ = warehouse.state()
    for table in ("customer_notes", "payment_methods"):
        assert after[table] == rows[table] and rows[table], table
    for table in ("customers", "customers__contacts", "usages"):
        assert after[table] == rows[table], table  # kept exactly: no truncation, no edit
    assert after_marks["usages"] == marks["usages"]
    assert warehouse.query(
        f"SELECT balance FROM {RAW}.invoices WHERE id = ?", tenant["invoices"][0]["id"]
    ) == [(Decimal("7.77"),)]
    assert after_marks["invoices"] != marks["invoices"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for name, status in (("customers", "403"), ("usages", "404")):
        text = next(w for w in warnings if w.startswith(f"{name}:"))
        assert f"/api/v1/{name}" in text and status in text
        assert f"ORDWAY_SKIP_COLLECTIONS={name}" in text

    # a sweep does not mistake the unavailable collection's records for deleted ones
    warehouse.run("sweep")
    unavailable = {"usages", "customer_notes", "payment_methods"}  # (customers: full refresh)
    assert set(unavailable_collections(warehouse.pipeline)) == unavailable
    assert warehouse.count("usages") == len(rows["usages"])
    assert warehouse.query(
        f"SELECT count(*) FROM {RAW}._ordway_deletions WHERE deleted_at IS NOT NULL"
    ) == [(0,)]

    # the documented way out: leave them out (with the customers' sub-resources, which list
    # the customers); they are then not even requested
    sandbox.reset_stats()
    skipping = Warehouse(
        sandbox,
        tmp_path,
        ORDWAY_SKIP_COLLECTIONS="customers,usages,customer_notes,payment_methods",
        DUCKDB_PATH=str(warehouse.path),
    )
    skipping.run()
    assert unavailable_collections(skipping.pipeline) == {}
    requested = sandbox.stats()["requests"]
    assert "customers" not in requested and "usages" not in requested and "invoices" in requested


def test_on_a_new_warehouse_an_unavailable_collection_creates_no_table(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sandbox.set_options({"unavailable": "revenue_schedules:403,chart_of_accounts:404"})
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()
    tables = warehouse.tables()
    assert not {t for t in tables if t.split("__")[0] in ("revenue_schedules", "chart_of_accounts")}
    assert {"invoices", "invoices__line_items", "customers", "plans__charges"} <= tables
    assert set(unavailable_collections(warehouse.pipeline)) == {
        "revenue_schedules",
        "chart_of_accounts",
    }


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        ({"faults": ["error403:invoices:2"]}, ["invoices", "page=2", "status=403"]),
        ({"faults": ["error404:customers:2"]}, ["customers", "page=2", "status=404"]),
        ({"auth_fail_after": 0}, ["status=401", "ORDWAY_API_KEY"]),
    ],
)
def test_a_403_or_404_after_page_one_or_a_401_fails_the_whole_run_and_loads_nothing(
    sandbox: SandboxProcess, tmp_path: Path, faults: dict[str, Any], named: list[str]
) -> None:
    warehouse = Warehouse(sandbox, tmp_path, ORDWAY_PAGE_SIZE="1")
    warehouse.run()
    before = warehouse.state()
    tenant = tiny_tenant()
    bump(tenant["invoices"][0])["balance"] = "7.77"
    sandbox.put_tenant(tenant)
    sandbox.set_faults(faults)
    with pytest.raises(Exception) as info:
        warehouse.run()
    for text in named:
        assert text in str(info.value), (text, str(info.value))
    assert warehouse.state() == before


# ------------------------------------------------------------------- 3. type drift


def drifting_tenant() -> dict[str, Any]:
    """ordway-api.md §6 and §11: fields that are a boolean or a number in one record and ""
    in another, in nested objects, custom fields, arrays and charges."""
    tenant = tiny_tenant()
    first, second, third = tenant["customers"]
    first["payment_options"] = {
        "ach_enabled": True,
        "affirm_enabled": True,
        "ach_credit_enabled": False,
    }
    second["payment_options"] = {
        "ach_enabled": True,
        "affirm_enabled": "",
        "ach_credit_enabled": "",
    }
    third["payment_options"] = {"affirm_enabled": 1, "processing_fee_enabled": 0.5}
    for customer, fields in [
        (first, {"segment": "SMB", "Seats": 40, "Active": True, "salesforce_id": ""}),
        (second, {"segment": "", "Seats": "", "Active": "", "salesforce_id": "SF-2"}),
        (third, {"Seats": 12.5, "Active": "yes"}),
    ]:
        for stale in customer.get("custom_fields", {}):  # the fixture's own custom fields
            customer.pop(stale, None)
        customer["custom_fields"] = dict(fields)
        customer.update(fields)  # Ordway duplicates custom fields at the top level
    lines = tenant["invoices"][0]["line_items"]
    lines[0]["applied_tiers"] = ""
    tiered = {**copy.deepcopy(lines[0]), "line_no": "2", "effective_price": "1.00"}
    tiered["applied_tiers"] = [{"tier": 1, "price": "1.00"}]  # the array the "" stands for
    lines.append(tiered)
    charges = tenant["plans"][0]["charges"]
    charges[0]["list_price_base"] = 100
    charges.append({**copy.deepcopy(charges[0]), "id": "CHG-00999", "list_price_base": ""})
    return tenant


def test_values_drifting_between_a_type_and_blank_load_as_text_and_null_without_variants(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    tenant = drifting_tenant()
    sandbox.put_tenant(tenant)
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()

    def by_id(sql: str) -> dict[str, tuple[Any, ...]]:
        return {row[0]: row[1:] for row in warehouse.query(sql)}

    assert by_id(
        f"SELECT id, payment_options__affirm_enabled, payment_options__ach_credit_enabled, "
        f"payment_options__processing_fee_enabled FROM {RAW}.customers"
    ) == {
        "C-00001": ("true", "false", None),
        "C-00002": (None, None, None),
        "C-00003": ("1", None, "0.5"),
    }
    assert by_id(
        f"SELECT id, custom_fields__segment, custom_fields__seats, custom_fields__active, "
        f"custom_fields__salesforce_id FROM {RAW}.customers"
    ) == {
        "C-00001": ("SMB", "40", "true", None),
        "C-00002": (None, None, None, "SF-2"),
        "C-00003": (None, "12.5", "yes", None),
    }
    columns = warehouse.columns("customers")
    assert not {"seats", "active", "segment", "salesforce_id"} & set(columns)  # copies dropped
    assert warehouse.query(f"SELECT price FROM {RAW}.invoices__line_items__applied_tiers") == [
        ("1.00",)
    ]
    # "" is null, and an undeclared field that was never anything but null gets no column
    assert "applied_tiers" not in warehouse.columns("invoices__line_items")
    assert sorted(
        warehouse.query(f"SELECT id, list_price_base FROM {RAW}.plans__charges"), key=repr
    ) == [("CHG-00001", "100"), ("CHG-00999", None)]
    for table in warehouse.tables():
        variants = [c for c in warehouse.columns(table) if "__v_" in c]
        assert not variants, (table, variants)
    # every served record landed, with its money
    assert warehouse_summary(warehouse.path) == tenant_summary(tenant)


def test_an_unrecorded_drift_of_a_money_field_still_fails_naming_table_record_and_field(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    tenant = drifting_tenant()
    sandbox.put_tenant(tenant)
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()
    before = warehouse.state()
    target = bump(tenant["invoices"][2])
    target["invoice_amount"] = "abc"
    sandbox.put_tenant(tenant)
    with pytest.raises(Exception) as info:
        warehouse.run()
    message = str(info.value)
    for text in ("invoices", f"id={target['id']}", "'invoice_amount'"):
        assert text in message, message
    assert "abc" not in message
    assert warehouse.state() == before


# -------------------------------------------------------- 4. two companies, one warehouse


def test_the_warehouse_records_its_company_and_refuses_another_before_any_request(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    warehouse = Warehouse(sandbox, tmp_path)
    warehouse.run()
    recorded = warehouse.query(f"SELECT company_fingerprint, api_host FROM {RAW}._ordway_company")
    assert recorded == [(warehouse.settings.company_fingerprint, "127.0.0.1")]
    company = credentials_env()["ORDWAY_COMPANY"]
    assert company not in repr(recorded)
    before = warehouse.state()

    other = Warehouse(sandbox, tmp_path, ORDWAY_COMPANY="Another Company Ltd")
    sandbox.reset_stats()
    for attempt in ("local dlt state present", "local dlt directory lost"):
        with pytest.raises(WarehouseCompanyError) as info:
            other.run()
        message = str(info.value)
        assert "another Ordway company" in message, attempt
        assert "DUCKDB_PATH" in message and "DLT_PIPELINES_DIR" in message
        assert company not in message and "Another Company Ltd" not in message
        assert sandbox.stats()["requests"] == {}, attempt  # no request to Ordway
        assert warehouse.state() == before, attempt  # nothing written
        shutil.rmtree(other.settings.pipelines_dir)
        other.pipeline = make_pipeline(other.settings)

    # the right company with a lost local directory is recognised from the warehouse
    shutil.rmtree(warehouse.settings.pipelines_dir, ignore_errors=True)
    again = Warehouse(sandbox, tmp_path)
    again.run()
    assert again.query(f"SELECT count(*) FROM {RAW}._ordway_company") == [(1,)]


def test_a_separate_warehouse_takes_the_other_company(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    Warehouse(sandbox, tmp_path / "first").run()
    second = Warehouse(
        sandbox,
        tmp_path / "second",
        ORDWAY_BASE_URL=sandbox.base_url.replace("127.0.0.1", "localhost"),
    )
    second.run()  # another API host is another fingerprint, in its own warehouse: fine
    assert second.query(f"SELECT api_host FROM {RAW}._ordway_company") == [("localhost",)]


def test_the_cli_names_a_skipped_collection_and_still_exits_zero(
    sandbox: SandboxProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in source_env(sandbox, tmp_path).items():
        monkeypatch.setenv(name, value)
    sandbox.set_options({"unavailable": {"usages": 403}})
    assert main(["run", "--resources", "usages,invoices"]) == 0
    out = capsys.readouterr().out
    assert "skipped: usages: GET /api/v1/usages answered HTTP 403" in out
    assert "ORDWAY_SKIP_COLLECTIONS=usages" in out
    assert "invoices: 7 rows loaded" in out

    monkeypatch.setenv("ORDWAY_SKIP_COLLECTIONS", "usages,invoices")
    assert main(["run", "--resources", "usages,invoices"]) == 1
    assert "nothing to extract" in capsys.readouterr().err
