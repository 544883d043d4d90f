"""Webhook test helpers: envelopes as Ordway sends them, and the receiver started as its own
process (``python -m pipelines.webhooks``) on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.paths import REPO_ROOT

SECRET = "test-webhook-secret-not-real"
HEADER = "X-Ordway-Webhook-Token"


def envelope(
    obj: str, action: str, data: dict[str, Any], timestamp: str = "2026-03-01T10:00:00.000Z"
) -> dict[str, Any]:
    return {"object": obj, "action": action, "timestamp": timestamp, "data": data}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReceiverProcess:
    """``python -m pipelines.webhooks`` with ``WEBHOOK_SECRET`` = ``SECRET`` storing in ``db``."""

    def __init__(self, db: Path, **env: str) -> None:
        self.db = db
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_SECRET_HEADER": HEADER,
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_PORT": str(self.port),
            "WEBHOOK_DB_PATH": str(db),
            **env,
        }
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ordway/webhooks"

    def start(self) -> ReceiverProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.webhooks"],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"receiver exited: {self.process.stdout.read()}")  # type: ignore[union-attr]
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("receiver did not start within 30 s")

    def kill(self) -> str:
        """SIGKILL (no shutdown handler runs); returns what it printed."""
        assert self.process is not None
        self.process.kill()
        out, _ = self.process.communicate(timeout=10)
        return out

    def __enter__(self) -> ReceiverProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()
