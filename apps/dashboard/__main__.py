"""`make dashboard`: serves the finance dashboard on DASHBOARD_HOST:DASHBOARD_PORT.

    python -m apps.dashboard [--env-file .env] [--port N]

``--env-file`` loads the file as `make run` does (a value in the file wins over the shell), so
the dashboard reads the published marts (``DUCKDB_PUBLISHED_PATH``) and reporting currency the
nightly job used. Streamlit runs headless, bound to DASHBOARD_HOST (default 127.0.0.1: the
dashboard has no login, so expose it only behind your own access control), without usage
statistics, file watching or the developer toolbar.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from apps.settings import REPO_ROOT, AppSettings, settings_for_launch
from pipelines.config import ConfigError

APP = Path(__file__).resolve().with_name("app.py")


def streamlit_command(settings: AppSettings, port: int | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        settings.dashboard_host,
        "--server.port",
        str(port or settings.dashboard_port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.dashboard", description=__doc__)
    parser.add_argument("--env-file", help="dotenv file to load first (the file wins)")
    parser.add_argument("--port", type=int, help="overrides DASHBOARD_PORT")
    args = parser.parse_args(argv)
    try:
        settings = settings_for_launch(args.env_file)
    except ConfigError as exc:
        print(f"dashboard: {exc}", file=sys.stderr)
        return 2
    if not settings.published_path.is_file():
        print(
            f"dashboard: no published marts at {settings.published_path} yet; run `make demo` "
            "or `make run` first (the dashboard starts anyway and says so on every page)",
            file=sys.stderr,
        )
    print(
        f"Finance dashboard on http://{settings.dashboard_host}:"
        f"{args.port or settings.dashboard_port} reading {settings.published_path}",
        flush=True,
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    os.execve(sys.executable, streamlit_command(settings, args.port), env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
