"""The real ``python -m ordway_sandbox serve`` process (``SandboxProcess``), which every other
suite starts: the one test here that pays for an interpreter start-up and a socket of its own.

The rest of the server's behaviour is tested in-process (``SandboxThread``), configured by the
same CLI code.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from ordway_sandbox.process import SandboxError, SandboxProcess

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_tenant.json"


def test_the_serve_process_answers_over_a_socket_and_exits_0_on_sigterm_releasing_a_stall() -> None:
    args = ["--fault", "timeout:invoices:2", "--stall-seconds", "60"]
    process = SandboxProcess(args, tenant=TINY)
    process.start()
    try:
        assert process.port > 0
        assert process.base_url == f"http://127.0.0.1:{process.port}/api/v1"
        with process.client() as client:
            first = client.get("/invoices", params={"size": 3, "sort": "id"})
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/json; charset=utf-8"
        assert [r["id"] for r in first.json()] == ["INV-00001", "INV-00002", "INV-00003"]
        assert process.health()["records"] > 0
        assert process.stats()["requests"] == {"invoices": 1}

        outcome: list[object] = []

        def stalled() -> None:  # page 2 stalls for 60 s unless the server lets it go
            try:
                outcome.append(
                    httpx.get(
                        process.base_url + "/invoices",
                        params={"size": 3, "page": 2},
                        headers=process.headers,
                        timeout=90,
                    )
                )
            except httpx.HTTPError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=stalled)
        thread.start()
        time.sleep(0.5)
        started = time.monotonic()
    finally:
        process.stop()
    thread.join(timeout=10)
    assert time.monotonic() - started < 4
    assert process.exit_code == 0
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.HTTPError)


def test_a_process_that_cannot_start_raises_with_its_stderr_and_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-tenant.json"
    process = SandboxProcess(tenant=missing, startup_timeout=30)
    with pytest.raises(SandboxError, match=r"(?s)exited with code 2.*no-such-tenant\.json"):
        process.start()
    assert process.exit_code == 2
