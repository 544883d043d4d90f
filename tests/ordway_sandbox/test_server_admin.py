"""Generated tenants: ``advance``, the ``generate`` command and serving ``--customers``.

The first tests replace the generator module with a stand-in (so they pin down exactly what the
server asks of ``build_tenant``); the last ones use the real generator when it is present.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordway_sandbox.__main__ import main
from ordway_sandbox.process import SandboxError, SandboxThread, auth_headers
from ordway_sandbox.server import (
    DEMO_CREDENTIALS,
    GeneratorParams,
    SandboxApp,
    SandboxHTTPServer,
)
from ordway_sandbox.tenant import default_start

CALLS: list[tuple[int, int, dt.date | None, dt.date | None]] = []


def fake_build_tenant(
    customers: int, seed: int, as_of: dt.date | None = None, start: dt.date | None = None
) -> dict[str, Any]:
    """One invoice per day from ``start`` to ``as_of``: advancing a day adds one record."""
    CALLS.append((customers, seed, as_of, start))
    assert as_of is not None and start is not None
    days = (as_of - start).days + 1
    return {
        "_sandbox": {
            "customers": customers,
            "seed": seed,
            "as_of": as_of.isoformat(),
            "start": start.isoformat(),
        },
        "invoices": [{"id": f"INV-{n:05d}", "seed": seed} for n in range(1, days + 1)],
    }


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> list:
    module = types.ModuleType("ordway_sandbox.tenant")
    module.build_tenant = fake_build_tenant  # type: ignore[attr-defined]
    module.default_start = default_start  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ordway_sandbox.tenant", module)
    CALLS.clear()
    return CALLS


@pytest.fixture
def served_app() -> Iterator[tuple[SandboxApp, str]]:
    start, as_of = dt.date(2024, 1, 1), dt.date(2024, 1, 10)
    app = SandboxApp(
        fake_build_tenant(3, 9, as_of, start),
        DEMO_CREDENTIALS,
        generator=GeneratorParams(customers=3, seed=9, as_of=as_of, start=start),
    )
    server = SandboxHTTPServer(("127.0.0.1", 0), app)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.port}"
    server.stop()
    thread.join(timeout=5)


def test_default_start_is_the_first_of_the_month_36_months_earlier() -> None:
    assert default_start(dt.date(2026, 3, 15)) == dt.date(2023, 3, 1)
    assert default_start(dt.date(2026, 1, 31)) == dt.date(2023, 1, 1)
    assert default_start(dt.date(2025, 12, 1)) == dt.date(2022, 12, 1)


def test_advance_rebuilds_days_later_with_the_same_start_and_swaps(
    fake_generator: list, served_app: tuple[SandboxApp, str]
) -> None:
    _app, root = served_app
    headers = auth_headers()
    before = httpx.get(root + "/api/v1/invoices", headers=headers, params={"size": 50}).json()
    assert len(before) == 10
    response = httpx.post(root + "/_sandbox/advance", params={"days": 3})
    assert response.status_code == 200
    assert response.json() == {
        "as_of": "2024-01-13",
        "start": "2024-01-01",
        "records": 13,
        "webhooks": {"envelopes": 0, "attempts": 0, "delivered": 0, "failed": 0},  # none set
    }
    assert fake_generator[-1] == (3, 9, dt.date(2024, 1, 13), dt.date(2024, 1, 1))
    after = httpx.get(root + "/api/v1/invoices", headers=headers, params={"size": 50}).json()
    assert [r["id"] for r in after][:3] == ["INV-00013", "INV-00012", "INV-00011"]
    again = httpx.post(root + "/_sandbox/advance").json()
    assert again["as_of"] == "2024-01-14"
    assert fake_generator[-1][2:] == (dt.date(2024, 1, 14), dt.date(2024, 1, 1))


def test_advance_rejects_a_bad_days_value(served_app: tuple[SandboxApp, str]) -> None:
    _app, root = served_app
    for days in ("0", "-1", "soon"):
        response = httpx.post(root + "/_sandbox/advance", params={"days": days})
        assert response.status_code == 400
        assert "days" in response.json()["errors"]["details"]["message"]


def test_put_tenant_ends_generated_mode(
    fake_generator: list, served_app: tuple[SandboxApp, str]
) -> None:
    _app, root = served_app
    calls = len(fake_generator)
    assert httpx.put(root + "/_sandbox/tenant", json={"invoices": []}).status_code == 200
    assert httpx.post(root + "/_sandbox/advance").status_code == 409
    assert len(fake_generator) == calls


def test_generate_writes_compact_deterministic_json(fake_generator: list, tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "tenant.json", tmp_path / "b.json"
    args = ["generate", "--customers", "2", "--seed", "5", "--as-of", "2024-02-03"]
    assert main([*args, "--out", str(first)]) == 0
    assert main([*args, "--start", "2021-02-01", "--out", str(second)]) == 0
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    assert text.startswith(
        '{"_sandbox":{"customers":2,"seed":5,"as_of":"2024-02-03","start":"2021-02-01"},'
        '"invoices":['
    )
    assert ": " not in text and ", " not in text
    assert fake_generator == [(2, 5, dt.date(2024, 2, 3), dt.date(2021, 2, 1))] * 2
    assert (
        len(json.loads(text)["invoices"]) == 1098
    )  # 2021-02-01..2024-02-03 inclusive: 3 * 365 + 3 days


# ---------------------------------------------------------------- the real generator


def _require_generator() -> None:
    try:
        from ordway_sandbox.tenant import build_tenant  # noqa: F401
    except ImportError:
        pytest.skip("ordway_sandbox/tenant.py (helper B) is not there yet")


def test_serving_a_generated_tenant_and_advancing_it() -> None:
    _require_generator()
    args = ["--customers", "3", "--seed", "7", "--as-of", "2025-06-30"]
    with SandboxThread(args, startup_timeout=120) as process, process.client() as client:
        customers = client.get("/customers", params={"size": 50}).json()
        assert customers and all(c["id"].startswith("C-") for c in customers)
        before = process.get_tenant()
        result = process.advance(days=2)
        assert result["as_of"] == "2025-07-02"
        assert result["start"] == "2022-06-01"
        after = process.get_tenant()
        assert after != before


def test_a_server_that_cannot_start_raises_with_its_stderr(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-tenant.json"
    process = SandboxThread(tenant=missing, startup_timeout=30)
    with pytest.raises(SandboxError, match=r"no-such-tenant\.json"):
        process.start()
    assert process.exit_code == 2
