"""`make demo`: the whole platform on a laptop, against the local Ordway sandbox.

1. Generates (or reuses, when it is already today's) a synthetic tenant of 250 customers, seed
   42, as of today (UTC) into `data/demo_tenant.json`. A new day keeps the tenant's `start`, so
   the company's history is the same and the next day's changes simply appear.
2. Starts the sandbox with it on an ephemeral loopback port and points `ORDWAY_*` at it.
3. Runs the `ordway_nightly` job (the same definition the schedule launches) into
   `DUCKDB_PATH` (default `data/ordway.duckdb`), printing each step; the run is recorded in
   `DAGSTER_HOME` (default `dagster_home/`) so `make ui` shows it. dbt's own log goes to
   `data/demo_dbt.log`.
4. Prints a summary from the published marts (`DUCKDB_PUBLISHED_PATH`, default
   `data/ordway_marts.duckdb`: what BI reads, replaced only after every test passed), stops the
   sandbox, and says how to explore further (`make ui`, `make dashboard`, `make mcp`).

The first run loads everything; later runs are incremental (only records changed since the
cursor minus the lookback are fetched).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 250
SEED = 42
DATA_DIR = REPO_ROOT / "data"
TENANT_PATH = DATA_DIR / "demo_tenant.json"
DBT_LOG = DATA_DIR / "demo_dbt.log"
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

OUT: TextIO = sys.stdout


def say(text: str = "") -> None:
    print(text, file=OUT, flush=True)


# ------------------------------------------------------------------------------- tenant


def demo_tenant(today: str) -> Path:
    """Writes today's tenant unless the file already holds it; keeps an earlier `start`."""
    from ordway_sandbox.tenant import build_tenant

    start = None
    if TENANT_PATH.exists():
        try:
            params = json.loads(TENANT_PATH.read_text(encoding="utf-8")).get("_sandbox", {})
        except (OSError, ValueError):
            params = {}
        if (
            params.get("as_of") == today
            and params.get("customers") == CUSTOMERS
            and params.get("seed") == SEED
        ):
            say(f"Reusing today's tenant {TENANT_PATH.relative_to(REPO_ROOT)}")
            return TENANT_PATH
        if params.get("customers") == CUSTOMERS and params.get("seed") == SEED:
            start = params.get("start")
    say(f"Generating the demo tenant ({CUSTOMERS} customers, seed {SEED}, as of {today})...")
    tenant = build_tenant(
        CUSTOMERS,
        seed=SEED,
        as_of=datetime.fromisoformat(today).date(),
        start=datetime.fromisoformat(start).date() if start else None,
    )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = TENANT_PATH.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(tenant, separators=(",", ":")), encoding="utf-8")
    tmp.replace(TENANT_PATH)
    records = sum(len(v) for k, v in tenant.items() if not k.startswith("_"))
    say(f"  {records:,} records written to {TENANT_PATH.relative_to(REPO_ROOT)}")
    return TENANT_PATH


# ----------------------------------------------------------------------------- progress


def _describe(event: Any) -> str | None:
    """One progress line for the events worth showing."""
    kind = event.dagster_event_type.value if event.dagster_event_type else None
    step = event.step_key or ""
    data = event.dagster_event.event_specific_data if event.dagster_event else None
    if kind == "STEP_START":
        return f"-> {step}"
    if kind == "STEP_SUCCESS":
        return f"   {step} done"
    if kind == "STEP_FAILURE":
        return f"   {step} FAILED"
    if kind == "ASSET_MATERIALIZATION":
        materialization = data.materialization
        key = materialization.asset_key
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        if key.path[0] == "ordway_raw":
            return (
                f"   loaded {'.'.join(key.path)}: {metadata.get('rows_loaded_total', 0):,} rows "
                f"written, {metadata.get('dagster/row_count', 0):,} in the table"
            )
        seconds = metadata.get("Execution Duration")
        timing = f" ({seconds:.1f}s)" if isinstance(seconds, float) else ""
        return f"   built {'.'.join(key.path)}{timing}"
    if kind == "ASSET_CHECK_EVALUATION" and not data.passed:
        verdict = "warns" if data.severity.value == "WARN" else "FAILED"
        return f"   check {data.check_name} on {data.asset_key.to_user_string()} {verdict}"
    return None


@contextlib.contextmanager
def progress(instance: Any, run_id: str) -> Iterator[dict[str, int]]:
    """Prints progress lines from the run's event log while the block runs."""
    stop = threading.Event()
    counts = {"checks_passed": 0, "checks_failed": 0, "checks_warned": 0}

    def follow() -> None:
        seen = 0
        # a partitioned raw asset is materialized once per monthly partition of the run, with the
        # same figures: one line for it
        shown: set[str] = set()
        while True:
            finished = stop.wait(0.5)
            try:
                events = instance.all_logs(run_id)
            except Exception:  # the run is not stored yet
                events = []
            for event in events[seen:]:
                kind = event.dagster_event_type.value if event.dagster_event_type else None
                if kind == "ASSET_CHECK_EVALUATION":
                    data = event.dagster_event.event_specific_data
                    warned = not data.passed and data.severity.value == "WARN"
                    outcome = "passed" if data.passed else ("warned" if warned else "failed")
                    counts[f"checks_{outcome}"] += 1
                line = _describe(event)
                if line and not (line.startswith("   loaded ") and line in shown):
                    shown.add(line)
                    say(line)
            seen = max(seen, len(events))
            if finished:
                return

    thread = threading.Thread(target=follow, name="demo-progress", daemon=True)
    thread.start()
    try:
        yield counts
    finally:
        stop.set()
        thread.join(timeout=30)


# ------------------------------------------------------------------------------ summary


def _money(value: Any) -> str:
    """At cents, half away from zero (a plain ``f"{value:,.2f}"`` rounds half to even)."""
    from apps.marts import cents

    return cents(Decimal(str(value or 0)))


def summary(duckdb_file: Path) -> None:
    import duckdb

    with duckdb.connect(str(duckdb_file), read_only=True) as con:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return con.execute(sql).fetchall()

        movements = rows(
            "SELECT month, opening_arr, new_arr, expansion_arr, contraction_arr, churn_arr, "
            "reactivation_arr, closing_arr, active_customers FROM marts.fct_arr_movements "
            "ORDER BY month DESC LIMIT 3"
        )
        say()
        say("Summary (reporting currency USD)")
        if movements:
            latest = movements[0]
            say(
                f"  Current ARR ({latest[0]:%b %Y}): USD {_money(latest[7])}, "
                f"{latest[8]} active customers"
            )
            say("  ARR movements, last three months:")
            say(
                f"    {'month':<9}{'opening':>16}{'new':>13}{'expansion':>13}{'contraction':>13}"
                f"{'churn':>13}{'reactivation':>13}{'closing':>16}"
            )
            for row in reversed(movements):
                say(
                    f"    {row[0]:%b %Y} "
                    + "".join(
                        f"{_money(v):>{w}}"
                        for v, w in zip(row[1:8], (16, 13, 13, 13, 13, 13, 16), strict=True)
                    )
                )
        closed = rows(
            "SELECT max(month) FROM marts.fct_revenue_monthly "
            "WHERE month < date_trunc('month', (SELECT max(as_of_date) FROM marts.fct_ar_aging))"
        )
        month = closed[0][0] if closed and closed[0][0] else None
        if month is None:
            month_row = rows("SELECT max(month) FROM marts.fct_revenue_monthly")
            month = month_row[0][0] if month_row else None
        if month is not None:
            recognized = rows(
                "SELECT sum(recognized_revenue_reporting) FROM marts.fct_revenue_monthly "
                f"WHERE month = DATE '{month}'"
            )[0][0]
            say(
                f"  Recognized revenue, {month:%b %Y} (last closed month): USD {_money(recognized)}"
            )
            deferred = rows(
                "SELECT currency, sum(closing_deferred) FROM marts.fct_deferred_revenue "
                f"WHERE month = DATE '{month}' GROUP BY currency ORDER BY currency"
            )
            usd = next((v for c, v in deferred if c == "USD"), 0)
            others = ", ".join(f"{c} {_money(v)}" for c, v in deferred if c != "USD")
            say(
                f"  Closing deferred revenue, {month:%b %Y}: USD {_money(usd)} on USD contracts"
                + (f" (plus {others} in document currency)" if others else "")
            )


# --------------------------------------------------------------------------------- main


def _is_first_run(duckdb_file: Path) -> bool:
    if not duckdb_file.exists():
        return True
    import duckdb

    try:
        with duckdb.connect(str(duckdb_file), read_only=True) as con:
            loads = con.execute("SELECT count(*) FROM ordway_raw._dlt_loads WHERE status = 0")
            return loads.fetchone()[0] == 0
    except duckdb.Error:
        return True


def main() -> int:
    os.chdir(REPO_ROOT)
    from scripts.run_nightly import ensure_dagster_home, failure_summary

    home = ensure_dagster_home()
    os.environ.setdefault("DUCKDB_PATH", str(DATA_DIR / "ordway.duckdb"))
    os.environ.setdefault("DLT_PIPELINES_DIR", str(DATA_DIR / "dlt"))
    os.environ["WAREHOUSE"] = "duckdb"
    from pipelines.config import duckdb_path

    duckdb_file = duckdb_path()
    today = datetime.now(UTC).date().isoformat()
    os.environ.setdefault("AS_OF_DATE", today)

    from dagster import DagsterInstance

    from ordway_sandbox.process import SandboxProcess

    tenant = demo_tenant(today)
    first = _is_first_run(duckdb_file)
    say("Starting the Ordway sandbox...")
    with SandboxProcess(tenant=tenant) as sandbox:
        os.environ.update(sandbox.env)
        os.environ["ORDWAY_BASE_URL"] = sandbox.base_url
        os.environ["ORDWAY_MAX_RPS"] = "0"
        say(f"  serving {sandbox.base_url}")
        say(
            "First run: loading the whole tenant (a few minutes)."
            if first
            else "Warehouse already loaded: this run is incremental (changes since the last load)."
        )
        from scripts.run_nightly import nightly_partitions, run_nightly

        instance = DagsterInstance.get()
        partitions = nightly_partitions(instance)
        say(
            f"Running ordway_nightly for partitions {partitions.start}..{partitions.end} "
            f"into {duckdb_file}"
        )
        run_id = str(uuid.uuid4())
        DBT_LOG.parent.mkdir(parents=True, exist_ok=True)
        with (
            progress(instance, run_id) as counts,
            DBT_LOG.open("w", encoding="utf-8") as dbt_log,
            contextlib.redirect_stdout(dbt_log),
        ):
            result = run_nightly(instance, partitions, run_id=run_id, run_config=QUIET_LOGGERS)
        requests = sum(sandbox.stats().get("requests", {}).values())
    say("Sandbox stopped.")
    if not result.success:
        say(f"\nThe run failed ({result.run_id}):\n{failure_summary(result)}")
        say(f"dbt log: {DBT_LOG.relative_to(REPO_ROOT)}")
        return 1
    written_by_asset: dict[Any, int] = {}  # one value per asset, whatever its partitions
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.path[0] == "ordway_raw":
                value = materialization.metadata.get("rows_loaded_total")
                written_by_asset[materialization.asset_key] = int(value.value) if value else 0
    written = sum(written_by_asset.values())
    kind = "full initial load" if first else "incremental run"
    say(
        f"\nRun {result.run_id} succeeded ({kind}): {requests:,} API requests, "
        f"{written:,} raw rows written; checks: {counts['checks_passed']} passed, "
        f"{counts['checks_failed']} failed, {counts['checks_warned']} warned."
    )
    from pipelines.publish import published_duckdb_path

    published = published_duckdb_path(duckdb_file)
    summary(published)
    say()
    say("Next:")
    say("  make ui      -> http://127.0.0.1:3000 : the asset graph, this run, checks, schedules")
    say(f"               (DAGSTER_HOME={home})")
    say("  query the published marts (what BI reads; always read_only=True):")
    say(
        f"    .venv/bin/python -c \"import duckdb; print(duckdb.connect('{published}', "
        "read_only=True).sql('select * from marts.fct_arr_movements order by month desc "
        "limit 12'))\""
    )
    from apps.settings import AppSettings

    apps = AppSettings.from_env()
    say(
        f"  make dashboard -> http://{apps.dashboard_host}:{apps.dashboard_port} : the finance "
        "dashboard (ARR bridge, retention, revenue, cash, AR aging) on the published marts"
    )
    say(
        "  make mcp     -> the read-only MCP server for agents (stdio; make mcp-http for "
        f"http://{apps.mcp_http_host}:{apps.mcp_http_port}/mcp), see the README's Agents section"
    )
    say("  make demo    -> again: an incremental run (only what changed is fetched)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
