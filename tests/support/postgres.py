"""A throwaway PostgreSQL server for tests: Debian's `postgresql` package (`.ci/run` installs it),
started by the test as an unprivileged process on an ephemeral loopback port.

    with PostgresServer() as pg:
        pg.env  # DAGSTER_POSTGRES_HOST/PORT/USER/PASSWORD/DB for deploy/dagster.yaml

PostgreSQL refuses to run as root, and tests run as root in CI: then the cluster belongs to the
`nobody` user (its data directory is created outside pytest's root-only temporary tree) and
every server command runs as that user. Authentication is `trust` on loopback only.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

UNPRIVILEGED_USER = "nobody"
SUPERUSER = "dagster"
DATABASE = "dagster"
#: Not a secret: the server trusts loopback connections; Dagster still reads it from the env.
PASSWORD = "dagster-test-only"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed or did not start; says how to fix it."""


def postgres_bin_dir() -> Path:
    """The directory of `initdb` and `pg_ctl`: on PATH, else Debian's newest
    /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does this)"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """initdb + pg_ctl start on 127.0.0.1:<ephemeral port>; stopped and removed on exit."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self.port = 0
        self.directory: Path | None = None
        self._user: str | None = UNPRIVILEGED_USER if os.geteuid() == 0 else None

    @property
    def data(self) -> Path:
        assert self.directory is not None
        return self.directory / "data"

    @property
    def env(self) -> dict[str, str]:
        return {
            "DAGSTER_POSTGRES_HOST": "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(self.port),
            "DAGSTER_POSTGRES_USER": SUPERUSER,
            "DAGSTER_POSTGRES_PASSWORD": PASSWORD,
            "DAGSTER_POSTGRES_DB": DATABASE,
        }

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, timeout: float = 120) -> str:
        completed = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self._user,
            cwd=self.directory,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            log = self.directory / "server.log" if self.directory else None
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise PostgresUnavailable(
                f"{args[0]} failed ({completed.returncode}): "
                f"{(completed.stdout + completed.stderr)[-2000:]}\n{tail}"
            )
        return completed.stdout

    def __enter__(self) -> PostgresServer:
        # /tmp itself, not pytest's tree: that is private to root, and the server runs as nobody
        self.directory = Path(tempfile.mkdtemp(prefix="dagster-postgres-"))
        if self._user is not None:
            user = pwd.getpwnam(self._user)
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self.port = _free_port()
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.directory} -c fsync=off"
            )
            self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.directory / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
            self._run(
                "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE
            )
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        self._cleanup()

    def _cleanup(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
