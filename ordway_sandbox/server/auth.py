"""The four-header authentication of the API (ordway-api.md §2): what is expected, and the check."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

DEMO_CREDENTIALS = {
    "ORDWAY_API_KEY": "demo-api-key",
    "ORDWAY_COMPANY": "Demo Company",
    "ORDWAY_USER_EMAIL": "demo@example.com",
    "ORDWAY_USER_TOKEN": "demo-user-token",
}
AUTH_HEADER_BY_ENV = {
    "ORDWAY_API_KEY": "X-API-KEY",
    "ORDWAY_COMPANY": "X-User-Company",
    "ORDWAY_USER_EMAIL": "X-User-Email",
    "ORDWAY_USER_TOKEN": "X-User-Token",
}


def load_credentials(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The four expected credentials from the environment, and which fell back to demo values."""
    environ = os.environ if environ is None else environ
    credentials, defaulted = {}, []
    for name, demo in DEMO_CREDENTIALS.items():
        value = environ.get(name)
        if not value:
            value = demo
            defaulted.append(name)
        credentials[name] = value
    return credentials, defaulted


class Authenticator:
    """Checks the four headers against the expected credentials, in constant time."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        # Header name (lower case) -> expected value as UTF-8 bytes.
        self._expected = [
            (AUTH_HEADER_BY_ENV[name].lower(), value.encode("utf-8"))
            for name, value in credentials.items()
        ]

    def accepts(self, headers: Mapping[str, str]) -> bool:
        ok = True
        for name, expected in self._expected:
            given = headers.get(name)
            # Header values arrive decoded as latin-1: re-encode to recover the raw bytes.
            raw = given.encode("latin-1", "replace") if given is not None else b""
            ok &= hmac.compare_digest(raw, expected) and given is not None
        return ok
