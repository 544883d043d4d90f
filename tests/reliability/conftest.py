"""Every test of the reliability suite is an `e2e` test: `make test-reliability` runs them (with
the other `e2e`-marked scenarios), `make test` does not."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
