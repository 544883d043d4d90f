"""Headless Debian Chromium driven by Playwright (``executable_path``, never a downloaded
browser), for the tests that look at pages as a person would: the Dagster UI and the finance
dashboard. And Dagster's GraphQL API, which those tests use to launch and inspect runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, sync_playwright

from tests.support.paths import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
#: Flags that work on these machines (no GPU, a closed network, a fresh profile).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots and other files tests write for people to look at (git-ignored).
TEST_OUTPUT = REPO_ROOT / "test-output"


@contextlib.contextmanager
def chromium(
    profile: Path, width: int = 1400, height: int = 900, *, bypass_csp: bool = False
) -> Iterator[BrowserContext]:
    """A headless Chromium context with a fresh profile directory ``profile``. ``bypass_csp``
    lets Playwright evaluate expressions on pages whose Content Security Policy forbids eval
    (the Dagster UI's)."""
    assert CHROMIUM.exists(), "headless Chromium is needed: `make chromium` (apt-get, as root)"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
            bypass_csp=bypass_csp,
        )
        try:
            yield context
        finally:
            context.close()


class DagsterGraphQL:
    """Dagster's GraphQL API at ``url`` (``http://host:port/graphql``)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(self.url, json={"query": query, "variables": variables}, timeout=60)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]
