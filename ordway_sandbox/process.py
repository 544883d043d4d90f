"""Run the sandbox server for a test, the demo or the benchmark, and talk to its admin API.

    with SandboxProcess(tenant={"invoices": [...]}, args=["--rate-limit", "2"]) as sandbox:
        client = sandbox.client()          # httpx.Client with base_url and the auth headers
        client.get("/invoices", params={"size": 50})
        sandbox.stats()["requests"]["invoices"]

``SandboxProcess`` runs ``python -m ordway_sandbox serve`` as a subprocess; ``SandboxThread``
serves the same app from a thread of this process (same arguments, same CLI parsing, same admin
helpers, no interpreter start-up). Both listen on an ephemeral loopback port. By default the
server expects the demo credentials of :func:`credentials_env` (whatever the caller's
environment says), so ``sandbox.headers`` always matches; pass ``env=`` to use others.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self

import httpx

from ordway_sandbox.server import AUTH_HEADER_BY_ENV, DEMO_CREDENTIALS, SandboxHTTPServer

REPO_ROOT = Path(__file__).resolve().parents[1]
LISTENING_PREFIX = "Ordway sandbox listening on "
HOST = "127.0.0.1"

Tenant = Mapping[str, Any] | str | os.PathLike[str] | None


class SandboxError(RuntimeError):
    """The sandbox failed to start, died, or an admin call was refused."""


def credentials_env() -> dict[str, str]:
    """The four ``ORDWAY_*`` credential variables with the sandbox's demo values."""
    return dict(DEMO_CREDENTIALS)


def auth_headers(credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    """The four Ordway auth headers for the given ``ORDWAY_*`` values (default: demo values)."""
    credentials = credentials or DEMO_CREDENTIALS
    return {header: credentials[env] for env, header in AUTH_HEADER_BY_ENV.items()}


class _Sandbox:
    """What both ways of running the server share: arguments, URLs, clients, the admin API."""

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        tenant: Tenant = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.args = list(args)
        self.tenant = tenant
        self.env = {**credentials_env(), **(env or {})}
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.port = 0
        self.exit_code: int | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._admin: httpx.Client | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _serve_args(self, tmp: Path) -> list[str]:
        """``serve`` arguments: loopback, an ephemeral port, ``args`` and the tenant file."""
        args = ["--host", HOST, "--port", "0", *self.args]
        if isinstance(self.tenant, Mapping):
            tenant_path = tmp / "tenant.json"
            tenant_path.write_text(json.dumps(self.tenant), encoding="utf-8")
            args += ["--tenant", str(tenant_path)]
        elif self.tenant is not None:
            args += ["--tenant", os.fspath(self.tenant)]
        return args

    def _listening(self, base_url: str) -> None:
        """Record where the server listens and open the admin client."""
        self.base_url = base_url
        self.port = int(base_url.rsplit(":", 1)[1].split("/", 1)[0])
        self._admin = httpx.Client(base_url=self.admin_url, timeout=120.0)

    def _close_admin(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    # ---- clients

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/api/v1")

    @property
    def admin_url(self) -> str:
        return self.root_url + "/_sandbox"

    @property
    def headers(self) -> dict[str, str]:
        """The auth headers this server accepts."""
        return auth_headers(self.env)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on ``base_url`` sending the accepted auth headers."""
        kwargs.setdefault("timeout", 30.0)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.base_url, headers=headers, **kwargs)

    # ---- admin API

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._admin is None:
            raise SandboxError("sandbox is not running")
        response = self._admin.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise SandboxError(
                f"{method} /_sandbox{path} -> {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def stats(self) -> dict[str, Any]:
        """``{"requests": {collection: n}, "statuses": {"200": n}, "log": [...]}``."""
        return self._call("GET", "/stats")

    def reset_stats(self) -> None:
        self._call("POST", "/stats/reset")

    def set_faults(self, faults: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the fault config (same names as the CLI flags); ``{}`` clears all faults."""
        return self._call("POST", "/faults", json=dict(faults))

    def set_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Replace ``ignore_sort`` / ``ignore_filter`` / ``wrap_usages`` / ``unavailable``;
        ``{}`` = defaults."""
        return self._call("POST", "/options", json=dict(options))

    def get_tenant(self) -> dict[str, Any]:
        return self._call("GET", "/tenant")

    def put_tenant(self, tenant: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "/tenant", json=dict(tenant))

    def set_webhooks(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Configure outgoing webhooks (``ordway_sandbox/server/webhooks.py``)."""
        return self._call("POST", "/webhooks", json=dict(config))

    def upsert(self, collection: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace one record (an edit in Ordway), delivering its webhook."""
        return self._call(
            "POST", "/upsert", json={"collection": collection, "record": dict(record)}
        )

    def webhooks(self) -> dict[str, Any]:
        """The webhook settings (header names only) and the log of every delivery attempt."""
        return self._call("GET", "/webhooks")

    def advance(self, days: int = 1) -> dict[str, Any]:
        """Rebuild a generated tenant ``days`` later; returns ``{"as_of", "start", "records"}``."""
        return self._call("POST", "/advance", params={"days": days})


class SandboxProcess(_Sandbox):
    """``python -m ordway_sandbox serve`` on 127.0.0.1 and an ephemeral port.

    Give the tenant as ``tenant=`` (a dict, written to a temporary file, or a path), or pass
    ``--tenant``/``--customers`` yourself in ``args``; ``args`` also takes any fault flag.
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        tenant: Tenant = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(args, tenant=tenant, env=env, startup_timeout=startup_timeout)
        self._process: subprocess.Popen[str] | None = None
        self._stderr_path: Path | None = None
        self._last_stderr = ""

    def start(self) -> SandboxProcess:
        """Start the server and wait for its listening line."""
        if self._process is not None:
            raise SandboxError("sandbox already started")
        self._tmpdir = tempfile.TemporaryDirectory(prefix="ordway-sandbox-")
        tmp = Path(self._tmpdir.name)
        command = [sys.executable, "-m", "ordway_sandbox", "serve", *self._serve_args(tmp)]
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr_path = tmp / "stderr.log"
        with self._stderr_path.open("w", encoding="utf-8") as stderr:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        try:
            line = self._wait_for_listening_line()
        except BaseException:
            self.stop()
            raise
        self._listening(line[len(LISTENING_PREFIX) :].split(" ", 1)[0])
        return self

    def _wait_for_listening_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._process.stdout

        def read() -> None:
            for line in stdout:
                lines.put(line)

        threading.Thread(target=read, name="sandbox-stdout", daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                if self._process.poll() is not None and lines.empty():
                    raise SandboxError(
                        f"sandbox exited with code {self._process.returncode} before listening; "
                        f"stderr:\n{self.stderr()}"
                    ) from None
                continue
            if line.startswith(LISTENING_PREFIX):
                return line.strip()
        raise SandboxError(
            f"sandbox did not print its listening line within {self.startup_timeout:g} s; "
            f"stderr:\n{self.stderr()}"
        )

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s); safe to call twice."""
        self._close_admin()
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            self.exit_code = process.returncode
            if process.stdout is not None:
                process.stdout.close()
        if self._tmpdir is not None:
            self._last_stderr = self.stderr()
            self._tmpdir.cleanup()
            self._tmpdir = None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stderr(self) -> str:
        """What the server wrote to stderr so far (kept after stop)."""
        if self._stderr_path is not None and self._stderr_path.exists():
            return self._stderr_path.read_text(encoding="utf-8", errors="replace")
        return self._last_stderr


class SandboxThread(_Sandbox):
    """The server in a thread of this process, on 127.0.0.1 and an ephemeral port.

    Takes the same arguments as :class:`SandboxProcess` and parses them with the same CLI code
    (``__main__.parser`` and ``build_app``), so it behaves like the subprocess minus what only a
    process has: signal handling and its exit code. A start-up error raises ``SandboxError`` with
    what ``serve`` would print, and ``exit_code`` is then 2 as the process would exit; notes
    ``serve`` prints on start-up are in ``stderr()``. ``startup_timeout`` is accepted for the
    same signature and unused (nothing to wait for).
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        tenant: Tenant = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(args, tenant=tenant, env=env, startup_timeout=startup_timeout)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stderr = io.StringIO()

    def start(self) -> SandboxThread:
        """Build the app as ``serve`` would and serve it from a daemon thread."""
        from ordway_sandbox.__main__ import StartupError, build_app, parser

        if self._server is not None:
            raise SandboxError("sandbox already started")
        self._tmpdir = tempfile.TemporaryDirectory(prefix="ordway-sandbox-")
        try:
            argv = ["serve", *self._serve_args(Path(self._tmpdir.name))]
            try:
                with contextlib.redirect_stderr(self._stderr):  # argparse prints, then exits
                    args = parser().parse_args(argv)
                app = build_app(args, environ={**os.environ, **self.env}, err=self._stderr)
            except SystemExit as exc:
                self._failed(exc.code if isinstance(exc.code, int) else 2)
            except StartupError as exc:
                print(exc, file=self._stderr)
                self._failed(2)
            self._server = SandboxHTTPServer((HOST, 0), app)
        finally:
            self._tmpdir.cleanup()  # the tenant file is read at start-up
            self._tmpdir = None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        self.exit_code = None
        self._listening(f"http://{HOST}:{self._server.port}/api/v1")
        return self

    def _failed(self, code: int) -> NoReturn:
        self.exit_code = code
        raise SandboxError(
            f"sandbox did not start (serve would exit with code {code}); stderr:\n{self.stderr()}"
        )

    def stop(self) -> None:
        """Stop serving and release stalled requests at once; safe to call twice."""
        self._close_admin()
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self.exit_code = 0

    @property
    def returncode(self) -> int | None:
        return None if self._server is not None else self.exit_code

    def stderr(self) -> str:
        """What ``serve`` printed to stderr while starting (kept after stop)."""
        return self._stderr.getvalue()
