"""Fixtures for the Ordway source tests (helpers live in ``tests/support/source.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordway_sandbox.process import SandboxProcess
from tests.support.source import generated_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with generated_sandbox() as process:
        yield process
