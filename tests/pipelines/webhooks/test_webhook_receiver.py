"""The receiver (pipelines/webhooks/): authentication, validation, durable storage, dedup."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from pipelines.webhooks.app import PATH, build_app
from pipelines.webhooks.store import WebhookStore
from tests.support.paths import REPO_ROOT
from tests.support.webhooks import HEADER, SECRET, ReceiverProcess, envelope

PAYMENT = {
    "id": "PMT-00042",
    "customer_id": "C-00007",
    "status": "Failed",
    "payment_amount": "120.00",
    "currency": "USD",
    "updated_date": "2026-03-01T09:59:58.123Z",
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "hooks" / "webhooks.sqlite3"


@pytest.fixture
def client(db: Path) -> TestClient:
    return TestClient(build_app(SECRET, HEADER, db))


def post(client: TestClient, body: object, secret: str | None = SECRET) -> httpx.Response:
    headers = {HEADER: secret} if secret is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(PATH, content=content, headers=headers)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("secret", [None, "wrong-secret", SECRET + "x", ""])
def test_delivery_without_the_right_secret_is_refused_stored_nowhere_and_never_logged(
    client: TestClient, db: Path, secret: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = post(client, envelope("Payment", "edit", PAYMENT), secret=secret)
    assert response.status_code == 401
    assert rows(db, "SELECT COUNT(*) FROM events") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM rejected") == [(0,)]
    assert HEADER in caplog.text
    assert SECRET not in caplog.text
    if secret:
        assert secret not in caplog.text


def test_accepted_delivery_is_on_disk_when_the_answer_arrives(client: TestClient, db: Path) -> None:
    response = post(client, envelope("Payment", "edit", PAYMENT))
    assert response.status_code == 200
    assert response.json() == {
        "status": "accepted",
        "dedup_key": "Payment|PMT-00042|edit|2026-03-01T09:59:58.123000+00:00",
    }
    # a separate connection (another process would see the same) reads the committed row
    stored = rows(db, "SELECT object, action, record_id, collections, alert_key, body FROM events")
    assert len(stored) == 1
    obj, action, record_id, collections, alert_key, body = stored[0]
    assert (obj, action, record_id, collections) == ("Payment", "edit", "PMT-00042", "payments")
    assert alert_key == "Payment|PMT-00042|failed"
    assert json.loads(body)["data"] == PAYMENT


def test_redelivery_is_acknowledged_and_ignored_whatever_the_timestamp_spelling(
    client: TestClient, db: Path
) -> None:
    first = envelope("Payment", "edit", PAYMENT, timestamp="2026-03-01T10:00:00.000Z")
    again = envelope(
        "Payment",
        "edit",
        {**PAYMENT, "updated_date": "2026-03-01T09:59:58.123+00:00"},
        timestamp="2026-03-01T10:00:31.000Z",  # a retry, sent later
    )
    assert post(client, first).json()["status"] == "accepted"
    assert post(client, again).json()["status"] == "duplicate"
    assert post(client, first).json()["status"] == "duplicate"
    assert rows(db, "SELECT COUNT(*), SUM(deliveries) FROM events") == [(1, 3)]


def test_a_later_edit_of_the_same_record_is_a_new_event(client: TestClient, db: Path) -> None:
    post(client, envelope("Payment", "edit", PAYMENT))
    later = {**PAYMENT, "status": "Succeeded", "updated_date": "2026-03-02T08:00:00Z"}
    assert post(client, envelope("Payment", "edit", later)).json()["status"] == "accepted"
    assert rows(db, "SELECT alert_key FROM events ORDER BY seq") == [
        ("Payment|PMT-00042|failed",),
        (None,),
    ]


def test_retry_rule_events_of_an_unchanged_customer_are_told_apart_by_their_timestamp(
    client: TestClient, db: Path
) -> None:
    customer = {"id": "C-00087", "updated_date": "2022-05-19T20:34:29.107Z"}
    for stamp in ("2022-06-14T22:24:07.202Z", "2022-06-15T22:24:07.202Z"):
        response = post(client, envelope("Customer", "auto_retrial", customer, stamp))
        assert response.json()["status"] == "accepted"
    keys = [k for (k,) in rows(db, "SELECT alert_key FROM events ORDER BY seq")]
    assert keys == [
        "Customer|C-00087|auto_retrial|2022-06-14T22:24:07.202000+00:00",
        "Customer|C-00087|auto_retrial|2022-06-15T22:24:07.202000+00:00",
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (json.dumps({"object": "Payment", "action": "edit"}).encode(), "lacks timestamp, data"),
        (json.dumps(envelope("Payment", "edit", {"status": "x"})).encode(), "no record id"),
        (json.dumps(envelope("", "edit", PAYMENT)).encode(), "object must be a non-empty"),
        (json.dumps(envelope("Payment", "edit", PAYMENT, "yesterday")).encode(), "timestamp"),
        (
            json.dumps(envelope("Payment", "edit", {**PAYMENT, "updated_date": "soon"})).encode(),
            "data.updated_date",
        ),
    ],
)
def test_a_body_that_is_not_an_envelope_gets_400_with_its_reason_and_is_kept(
    client: TestClient, db: Path, body: bytes, reason: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert reason in response.json()["reason"]
    kept = rows(db, "SELECT status, reason, body FROM rejected")
    assert len(kept) == 1
    assert kept[0][0] == 400 and reason in kept[0][1]
    assert kept[0][2] == body.decode()
    assert rows(db, "SELECT COUNT(*) FROM events") == [(0,)]


def test_the_store_hands_each_payment_failure_to_the_alert_sensor_once(db: Path) -> None:
    client = TestClient(build_app(SECRET, HEADER, db))
    post(client, envelope("Payment", "edit", PAYMENT))
    edited = {**PAYMENT, "updated_date": "2026-03-01T12:00:00Z", "notes": "customer called"}
    post(client, envelope("Payment", "edit", edited))  # still failed: same alert key
    store = WebhookStore(db)
    pending = store.unalerted()
    assert [(e.alert_key, e.seq) for e in pending] == [("Payment|PMT-00042|failed", 1)]
    store.record_alert(pending[0].alert_key or "", pending[0].seq)
    assert store.unalerted() == []


def test_receiver_killed_right_after_answering_keeps_every_accepted_delivery(
    tmp_path: Path,
) -> None:
    db = tmp_path / "webhooks.sqlite3"
    with ReceiverProcess(db) as receiver:
        answers = []
        for n in range(20):
            data = {**PAYMENT, "id": f"PMT-{n:05d}"}
            response = httpx.post(
                receiver.url, json=envelope("Payment", "edit", data), headers={HEADER: SECRET}
            )
            answers.append(response.status_code)
        log = receiver.kill()
    assert answers == [200] * 20
    assert rows(db, "SELECT COUNT(*) FROM events") == [(20,)]
    assert SECRET not in log


def test_receiver_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = ReceiverProcess(tmp_path / "w.sqlite3").env
    env.pop("WEBHOOK_SECRET")
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.webhooks"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "WEBHOOK_SECRET is not set" in done.stderr
