"""A local Snowflake emulator (fakesnow's server mode) for running dbt's Snowflake target offline.

    python -m scripts.snowflake_emulator [--port 0] [--host 127.0.0.1] [--database ORDWAY]

Starts fakesnow's HTTP server (the real `snowflake-connector-python`, and so dbt-snowflake,
talk to it as to Snowflake), creates the database, prints the connection settings as
`export NAME=value` lines followed by a line `# ready`, and serves until Ctrl-C / SIGTERM.
The data lives in memory and is gone when the process ends.

The emulator accepts any user and password; the printed `SNOWFLAKE_PASSWORD` is fakesnow's fixed
demo value, not a secret. What the emulator cannot do is listed in the README's Snowflake
section.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

READY_LINE = "# ready"
EMULATOR_ACCOUNT = "fakesnow"
EMULATOR_USER = "fake"
EMULATOR_PASSWORD = "snow"  # fakesnow's fixed value; the emulator accepts anything


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


def keep_aggregates_exact() -> None:
    """Stops fakesnow from casting SUM/AVG/... arguments to DOUBLE.

    fakesnow 0.12 wraps every numeric aggregate's argument in `TRY_CAST(... AS DOUBLE)` to
    imitate Snowflake's implicit VARCHAR-to-number cast, which turns `SUM(NUMBER(38,10))` into a
    float. Snowflake keeps NUMBER exact, and so does DuckDB underneath once the cast is gone.
    Cost: an aggregate over a VARCHAR column fails in the emulator (our models cast first).
    """
    import fakesnow.transforms

    fakesnow.transforms.numeric_agg_implicit_cast = lambda expression: expression


@contextlib.contextmanager
def running_emulator(
    host: str = "127.0.0.1", port: int | None = None, database: str = "ORDWAY"
) -> Iterator[dict[str, str]]:
    """Runs the emulator in a thread of this process and yields `emulator_env(...)`."""
    import fakesnow
    import snowflake.connector

    keep_aggregates_exact()
    with fakesnow.server(port=port or None, host=host) as connection:
        with contextlib.closing(snowflake.connector.connect(**connection)) as conn:
            conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        yield emulator_env(int(connection["port"]), host, database)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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


if __name__ == "__main__":
    sys.exit(main())
