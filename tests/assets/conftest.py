"""Fixtures for the Dagster tests: a clean environment (temporary warehouse, dlt directory and
lock, no Ordway credentials), a temporary Dagster instance, and a Slack stand-in receiving the
alerts (the helpers themselves live in ``tests/support/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance, instance_for_test

from tests.support.environment import isolate_environment
from tests.support.slack import WebhookReceiver


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    return isolate_environment(monkeypatch, tmp_path)


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as temporary:
        yield temporary


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.url)
        yield receiver
