"""Helpers for tests of the Ordway source: a generated sandbox, settings pointing at it, and
independent oracles computed from the raw tenant JSON with Decimal arithmetic (rows and money
sums per raw table, raw rows and cursors as a warehouse holds them)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from dlt.common.versioned_state import decompress_state

from ordway_sandbox.process import SandboxProcess, credentials_env
from pipelines.config import OrdwaySettings
from pipelines.ordway.contract import COLLECTIONS, DATASET_NAME

CUSTOMERS = 30
SEED = 11
AS_OF = "2025-03-31"


def generated_sandbox(*extra: str) -> SandboxProcess:
    """A sandbox serving a generated tenant that can be advanced day by day."""
    args = ["--customers", str(CUSTOMERS), "--seed", str(SEED), "--as-of", AS_OF, *extra]
    return SandboxProcess(args)


def source_env(sandbox: SandboxProcess, workdir: Path, **extra: str) -> dict[str, str]:
    env = {
        **credentials_env(),
        "ORDWAY_BASE_URL": sandbox.base_url,
        "ORDWAY_MAX_RPS": "0",
        "ORDWAY_MAX_RETRIES": "3",
        "DUCKDB_PATH": str(workdir / "ordway.duckdb"),
        "DLT_PIPELINES_DIR": str(workdir / "dlt"),
    }
    env.update(extra)
    return env


def settings_for(sandbox: SandboxProcess, workdir: Path, **extra: str) -> OrdwaySettings:
    return OrdwaySettings.from_env(source_env(sandbox, workdir, **extra))


# ------------------------------------------------------------------ oracles from the tenant


def _snake(name: str) -> str:
    """dlt's snake_case for the simple keys Ordway uses (Type -> type, camelCase -> camel_case)."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-zA-Z0-9_]", "_", name).lower()


def money_fields() -> dict[str, set[str]]:
    """Money columns per warehouse table, from the settings' field lists (configuration only)."""
    result: dict[str, set[str]] = {}
    for collection in COLLECTIONS.values():
        for path, types in collection.tables.items():
            table = "__".join((collection.name, *path))
            result[table] = {name.replace(".", "__") for name in types.money}
    return result


def _walk(table: str, record: Mapping[str, Any], counts: dict[str, int], sums, depth: int) -> None:
    money = money_fields().get(table, set())
    flat = _flatten(record)
    for column in money:
        value = flat.get(column)
        if value not in (None, "", "-"):
            sums[table][column] += Decimal(str(value))
    for key, value in record.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            child = f"{table}__{_snake(key)}"
            for item in value:
                counts[child] += 1
                _walk(child, item, counts, sums, depth + 1)


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{_snake(key)}__"))
        else:
            flat[f"{prefix}{_snake(key)}"] = value
    return flat


def tenant_summary(tenant: Mapping[str, Any]) -> dict[str, tuple[int, dict[str, Decimal]]]:
    """Rows and money sums per table as the raw tenant implies them."""
    counts: dict[str, int] = defaultdict(int)
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for name in COLLECTIONS:
        for record in tenant.get(name, []):
            counts[name] += 1
            _walk(name, record, counts, sums, 0)
    return {
        table: (count, {c: sums[table][c] for c in money_fields().get(table, set())})
        for table, count in counts.items()
    }


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def data_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
        [DATASET_NAME],
    ).fetchall()
    return [r[0] for r in rows if not r[0].startswith("_dlt")]


def warehouse_summary(path: Path) -> dict[str, tuple[int, dict[str, Decimal]]]:
    """Rows and money sums per table in the warehouse (excluding tombstoned ids)."""
    money = money_fields()
    result = {}
    with connect(path) as con:
        for table in data_tables(con):
            if table.startswith("_ordway_"):  # bookkeeping: deletions, company
                continue
            count = con.execute(f"SELECT count(*) FROM {DATASET_NAME}.{table}").fetchone()[0]
            if count == 0:
                continue
            sums = {}
            for column in sorted(money.get(table, set())):
                sql = f"SELECT coalesce(sum({column}), 0) FROM {DATASET_NAME}.{table}"
                try:
                    sums[column] = Decimal(con.execute(sql).fetchone()[0])
                except duckdb.BinderException:
                    sums[column] = Decimal(0)  # column never received a value
            result[table] = (count, sums)
    return result


def table_rows(path: Path, exclude_ids: Mapping[str, set[str]] | None = None) -> dict[str, list]:
    """Every data table as a sorted list of rows, without dlt bookkeeping columns.

    Child rows are keyed by their root record's id (through `_dlt_root_id`), so two warehouses
    loaded in different runs compare equal when they hold the same records. Columns that are
    NULL in every row are dropped (a column can exist in one warehouse only because an earlier
    version of some record had a value there).
    """
    exclude_ids = exclude_ids or {}
    result: dict[str, list] = {}
    with connect(path) as con:
        for table in data_tables(con):
            if table.startswith("_ordway_"):  # bookkeeping: deletions, company
                continue
            root = table.split("__", 1)[0]
            key = COLLECTIONS[root].primary_key
            all_columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ?",
                    [DATASET_NAME, table],
                ).fetchall()
            ]
            # merge tables carry _dlt_root_id; replace tables only link to their parent
            link = "_dlt_root_id" if "_dlt_root_id" in all_columns else "_dlt_parent_id"
            assert table == root or link == "_dlt_root_id" or table.count("__") == 1, table
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY column_name",
                    [DATASET_NAME, table],
                ).fetchall()
                if not r[0].startswith("_dlt")
            ]
            columns = [
                c
                for c in columns
                if con.execute(f'SELECT count("{c}") FROM {DATASET_NAME}.{table}').fetchone()[0]
            ]
            select = ", ".join(f't."{c}"' for c in columns)
            if table == root:
                sql = f"SELECT t.{key} AS _root, {select} FROM {DATASET_NAME}.{table} t"
            else:
                sql = (
                    f"SELECT r.{key} AS _root, {select} FROM {DATASET_NAME}.{table} t "
                    f"JOIN {DATASET_NAME}.{root} r ON t.{link} = r._dlt_id"
                )
            rows = con.execute(sql).fetchall()
            skip = exclude_ids.get(root, set())
            result[table] = sorted(
                ((tuple(columns), *row) for row in rows if str(row[0]) not in skip), key=repr
            )
    return {t: rows for t, rows in result.items() if rows}


def cursors(path: Path) -> dict[str, Any]:
    """The incremental cursors stored in the warehouse state (latest state version)."""
    with connect(path) as con:
        row = con.execute(
            f"SELECT state FROM {DATASET_NAME}._dlt_pipeline_state ORDER BY version DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return {}
    state = decompress_state(row[0])
    resources = state.get("sources", {}).get("ordway", {}).get("resources", {})
    return {
        name: value.get("incremental", {}).get("updated_date", {}).get("last_value")
        for name, value in resources.items()
    }


def parse_ms(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def expected_requests(records: list[dict[str, Any]], since: datetime, size: int) -> int:
    """Pages an `updated_date>=since` listing needs: ceil(n/size) data pages + the empty page."""
    since_ms = since.replace(microsecond=since.microsecond // 1000 * 1000)
    matching = sum(1 for r in records if parse_ms(r["updated_date"]) >= since_ms)
    return math.ceil(matching / size) + 1


def max_updated(records: list[dict[str, Any]]) -> datetime:
    return max(parse_ms(r["updated_date"]) for r in records)


def owner(collection: str, record: dict[str, Any]) -> str:
    """The customer a per-customer record belongs to (customer notes carry its number)."""
    customer = record["customer_id"]
    return f"C-{customer:05d}" if collection == "customer_notes" else str(customer)


def expected_fan_out_requests(
    old: Mapping[str, Any], new: Mapping[str, Any], collection: str, size: int
) -> tuple[int, int]:
    """(requests of the customers listing, requests of the sub-resources) a nightly run after a
    run that read ``old`` makes for per-customer ``collection`` on ``new``: the customers with
    ``updated_date >= old maximum - LOOKBACK`` are listed; those not read at that same
    ``updated_date`` before have their sub-resource listed (pages + the empty page)."""
    newest = max_updated(old["customers"])
    since = newest - LOOKBACK
    read_before = {
        c["id"]: c["updated_date"] for c in old["customers"] if parse_ms(c["updated_date"]) >= since
    }
    changed = [c for c in new["customers"] if parse_ms(c["updated_date"]) >= since]
    to_read = [c["id"] for c in changed if read_before.get(c["id"]) != c["updated_date"]]
    per_customer: dict[str, int] = defaultdict(int)
    for record in new[collection]:
        per_customer[owner(collection, record)] += 1
    listing = math.ceil(len(changed) / size) + 1
    return listing, sum(math.ceil(per_customer[c] / size) + 1 for c in to_read)


LOOKBACK = timedelta(hours=2)
