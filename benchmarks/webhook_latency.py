"""Time from a webhook delivery to the updated published mart, on the sandbox.

    python -m benchmarks.webhook_latency      # also run at the end of `make bench`

After a nightly load of a small generated tenant, a payment fails on the payment run's last
attempt (a sandbox upsert, which delivers its webhook synchronously to the receiver process).
Measured, in seconds from the start of the delivery:

1. ``persisted``: the receiver answered 200 (it commits before answering);
2. ``run_finished``: one tick of ``ordway_webhook_sync`` requested the targeted run and that
   run (targeted extract, ``dbt build``, checks, publication) finished;
3. ``published``: the published ``fct_payment_failures`` shows the failed payment.

The sensor is ticked at once: in production add up to its interval (20 s) and any queue wait.
BENCH_QUICK=1 uses the same small tenant (8 customers); the figure is dominated by the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from dagster import SensorResult, build_sensor_context, instance_for_test

from ordway_sandbox.process import SandboxProcess
from pipelines.publish import published_duckdb_path

CUSTOMERS = 8
AS_OF, NEXT_DAY, PARTITION = "2026-06-20", "2026-06-21", "2026-06-01"
SECRET, HEADER = "bench-webhook-secret-not-real", "X-Ordway-Webhook-Token"
PAYMENT_ID = "PMT-90001"


def _receiver(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_SECRET_HEADER": HEADER,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_DB_PATH": str(db),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.webhooks"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("webhook receiver did not start within 30 s")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure() -> dict[str, Any]:
    from assets.definitions import defs
    from assets.jobs import NIGHTLY_JOB_NAME
    from assets.webhooks import SYNC_SENSOR_NAME
    from scripts.run_nightly import failure_summary, run_nightly

    args = ["--customers", str(CUSTOMERS), "--seed", "5", "--as-of", AS_OF]
    with (
        tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp,
        SandboxProcess(args) as sandbox,
        instance_for_test() as instance,
    ):
        work, db, port = Path(tmp), Path(tmp) / "webhooks.sqlite3", _free_port()
        receiver = _receiver(db, port)
        saved = dict(os.environ)
        os.environ.update(
            {
                **sandbox.env,
                "ORDWAY_BASE_URL": sandbox.base_url,
                "ORDWAY_MAX_RPS": "0",
                "AS_OF_DATE": NEXT_DAY,
                "DUCKDB_PATH": str(work / "ordway.duckdb"),
                "DLT_PIPELINES_DIR": str(work / "dlt"),
                "WEBHOOK_DB_PATH": str(db),
            }
        )
        try:
            night = run_nightly(instance, PARTITION)
            if not night.success:
                raise RuntimeError(f"nightly load failed: {failure_summary(night)}")
            published = published_duckdb_path(work / "ordway.duckdb", os.environ)
            sandbox.set_webhooks(
                {"url": f"http://127.0.0.1:{port}/ordway/webhooks", "headers": {HEADER: SECRET}}
            )
            template = next(p for p in sandbox.get_tenant()["payments"] if p["status"] == "Failed")
            stamp = f"{NEXT_DAY}T23:00:00.000Z"
            payment = {
                **template,
                "id": PAYMENT_ID,
                "failed_attempt": 3,
                "retried_attempts": 2,
                "created_date": stamp,
                "updated_date": stamp,
            }
            start = time.perf_counter()
            delivered = sandbox.upsert("payments", payment)["webhooks"]
            persisted = time.perf_counter() - start
            if delivered["failed"]:
                raise RuntimeError(f"webhook delivery failed: {delivered}")
            sync = defs.resolve_sensor_def(SYNC_SENSOR_NAME)
            tick = sync(build_sensor_context(instance=instance, definitions=defs))
            if not isinstance(tick, SensorResult) or len(tick.run_requests) != 1:
                raise RuntimeError(f"the sync sensor requested no run: {tick}")
            request = tick.run_requests[0]
            result = defs.resolve_job_def(NIGHTLY_JOB_NAME).execute_in_process(
                instance=instance,
                tags=request.tags,
                asset_selection=request.asset_selection,
                raise_on_error=False,
            )
            run_finished = time.perf_counter() - start
            if not result.success:
                raise RuntimeError(f"targeted run failed: {failure_summary(result)}")
            with duckdb.connect(str(published), read_only=True) as con:
                rows = con.execute(
                    "select outcome from marts.fct_payment_failures where payment_id = ?",
                    [PAYMENT_ID],
                ).fetchall()
            shown = time.perf_counter() - start
            if len(rows) != 1:
                raise RuntimeError(f"published fct_payment_failures shows {rows} for {PAYMENT_ID}")
        finally:
            os.environ.clear()
            os.environ.update(saved)
            receiver.kill()
            receiver.wait(timeout=10)
    return {
        "customers": CUSTOMERS,
        "persisted_s": round(persisted, 3),
        "run_finished_s": round(run_finished, 1),
        "published_s": round(shown, 1),
        "raw_collections": sorted(
            k.path[-1] for k in request.asset_selection if k.path[0] == "ordway_raw"
        ),
    }


def describe(figures: dict[str, Any]) -> str:
    return (
        f"webhook -> published mart ({figures['customers']} customers): receiver persisted "
        f"{figures['persisted_s']} s, targeted run finished {figures['run_finished_s']} s, "
        f"published fct_payment_failures shows it {figures['published_s']} s "
        f"(collections re-read: {', '.join(figures['raw_collections'])})"
    )


if __name__ == "__main__":
    # the description for a person (stderr, beside the run's logs), the figures as the last line
    # of stdout for `make bench` (benchmarks/run.py reads it)
    figures = measure()
    print(describe(figures), file=sys.stderr, flush=True)
    print(json.dumps(figures, default=str))
