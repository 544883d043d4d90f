"""A local Snowflake emulator (fakesnow's server mode, patched) for running dlt's Snowflake
destination and dbt's Snowflake target offline. A test double: it lives with the tests, never in
the product.

    python -m tests.support.snowflake_emulator [--port 0] [--host 127.0.0.1] [--database ORDWAY]

(`make snowflake-emulator` runs it on port 8766.) Starts fakesnow's HTTP server with the patches
of tests/support/fakesnow_patches.py, creates the database, prints the connection settings as
`export NAME=value` lines followed by a line `# ready`, and serves until Ctrl-C / SIGTERM. The
data lives in memory and is gone when the process ends.

An unhandled exception inside the emulator (fakesnow answers HTTP 500, which the Snowflake
connector retries forever) is answered instead with a non-retryable error naming the statement,
and reported on stdout as a line starting with `FATAL_PREFIX`, which `EmulatorProcess` turns into
a test failure.

The emulator accepts any user and password; the printed `SNOWFLAKE_PASSWORD` is fakesnow's fixed
demo value, not a secret.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

READY_LINE = "# ready"
#: Printed (with the statement) when the emulator met an unhandled exception.
FATAL_PREFIX = "# EMULATOR-FATAL "
EMULATOR_ACCOUNT = "fakesnow"
EMULATOR_USER = "fake"
EMULATOR_PASSWORD = "snow"  # fakesnow's fixed value; the emulator accepts anything
REPO_ROOT = Path(__file__).resolve().parents[2]


def emulator_env(port: int, host: str, database: str) -> dict[str, str]:
    """The project's SNOWFLAKE_* variables pointing at an emulator on host:port (plain http)."""
    return {
        "WAREHOUSE": "snowflake",
        "SNOWFLAKE_ACCOUNT": EMULATOR_ACCOUNT,
        "SNOWFLAKE_USER": EMULATOR_USER,
        "SNOWFLAKE_PASSWORD": EMULATOR_PASSWORD,
        "SNOWFLAKE_ROLE": "TRANSFORMER",
        "SNOWFLAKE_WAREHOUSE": "TRANSFORMING",
        "SNOWFLAKE_DATABASE": database,
        "SNOWFLAKE_HOST": host,
        "SNOWFLAKE_PORT": str(port),
        "SNOWFLAKE_PROTOCOL": "http",
    }


# --------------------------------------------------------------------- the emulator process


@contextlib.contextmanager
def running_emulator(
    host: str = "127.0.0.1", port: int | None = None, database: str = "ORDWAY"
) -> Iterator[dict[str, str]]:
    """Runs the patched emulator (uvicorn) in a thread of this process and yields
    `emulator_env(...)`."""
    import socket

    import snowflake.connector
    import uvicorn

    from tests.support.fakesnow_patches import patched_app

    if not port:
        with contextlib.closing(socket.socket()) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    app = patched_app(on_fatal=lambda message: print(FATAL_PREFIX + message, flush=True))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="snowflake emulator", daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"the emulator could not listen on {host}:{port}")
    try:
        env = emulator_env(port, host, database)
        with contextlib.closing(
            snowflake.connector.connect(
                account=EMULATOR_ACCOUNT,
                user=EMULATOR_USER,
                password=EMULATOR_PASSWORD,
                host=host,
                port=port,
                protocol="http",
                session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            )
        ) as conn:
            conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        yield env
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=0, help="0 = an ephemeral port")
    parser.add_argument("--database", default="ORDWAY", help="database created at start")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running_emulator(args.host, args.port, args.database.upper()) as env:
        for name, value in env.items():
            print(f"export {name}={value}")
        print(READY_LINE, flush=True)
        stop.wait()
    return 0


# ------------------------------------------------------------------ the tests' side of it


class EmulatorError(RuntimeError):
    """The emulator failed to start, died, or met an unhandled exception (a fakesnow HTTP 500)."""


class EmulatorProcess:
    """`python -m tests.support.snowflake_emulator --port 0` as a subprocess.

    Its stdout is drained by a thread for as long as it runs (a full pipe would block the
    emulator), its stderr (uvicorn's log) goes to a file. `check()` raises `EmulatorError` if the
    emulator reported an unhandled exception or died; the context manager checks on exit.
    """

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.env: dict[str, str] = {}
        self.fatal: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def stderr_path(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp.name) / "stderr.log"

    def stderr_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.stderr_path.read_text(errors="replace")[-chars:]
        return ""

    def __enter__(self) -> EmulatorProcess:
        self._tmp = tempfile.TemporaryDirectory(prefix="snowflake-emulator-")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
        with self.stderr_path.open("w") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.snowflake_emulator", "--port", "0"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self._reader = threading.Thread(target=self._drain, name="emulator stdout", daemon=True)
        self._reader.start()
        try:
            self.env = self._wait_until_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fatal = list(self.fatal)
        self._stop()
        if exc_type is None and fatal:
            raise EmulatorError(
                "the emulator met an unhandled exception (fakesnow would answer HTTP 500): "
                + "\n".join(fatal)
            )

    def _drain(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            line = line.rstrip("\n")
            if line.startswith(FATAL_PREFIX):
                self.fatal.append(line.removeprefix(FATAL_PREFIX))
            self._lines.put(line)

    def _wait_until_ready(self) -> dict[str, str]:
        assert self._process is not None
        settings: dict[str, str] = {}
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1).strip()
            except queue.Empty:
                if self._process.poll() is not None:
                    raise EmulatorError(
                        f"emulator exited with code {self._process.returncode}: "
                        f"{self.stderr_tail()}"
                    ) from None
                continue
            if line == READY_LINE:
                return settings
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                settings[name] = value
        raise EmulatorError(f"emulator not ready within {self.timeout:g} s: {self.stderr_tail()}")

    def check(self) -> None:
        """Raises EmulatorError naming the statement if the emulator met an unhandled exception,
        or if it is no longer running."""
        if self.fatal:
            raise EmulatorError(
                "the emulator met an unhandled exception (fakesnow would answer HTTP 500): "
                + "\n".join(self.fatal)
                + f"\n--- emulator log:\n{self.stderr_tail()}"
            )
        if self._process is not None and self._process.poll() is not None:
            raise EmulatorError(
                f"the emulator exited with code {self._process.returncode}: {self.stderr_tail()}"
            )

    def _stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


if __name__ == "__main__":
    sys.exit(main())
