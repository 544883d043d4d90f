"""Command line: `python -m pipelines.ordway run [--mode M] [--start T] [--end T]
[--resources a,b]`.

Prints progress (logging) and one summary line per table; exits 1 with the error on failure.
A collection skipped as unavailable (HTTP 403/404 on its first page) gets a `skipped:` line; the
run still exits 0 (the other collections were loaded). `--resources` is intersected with
ORDWAY_COLLECTIONS / ORDWAY_SKIP_COLLECTIONS.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pipelines.config import ConfigError, OrdwaySettings, parse_timestamp
from pipelines.ordway.modes import MODES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines.ordway")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="extract Ordway into the warehouse")
    run.add_argument("--mode", choices=MODES, default="incremental")
    run.add_argument("--start", help="backfill: records updated at or after (date or ISO time)")
    run.add_argument("--end", help="backfill: records updated before (date or ISO time)")
    run.add_argument("--resources", help="comma-separated collections (default: per mode)")
    run.add_argument("-v", "--verbose", action="store_true", help="log every page")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # dlt and httpx are chatty; their messages may include request URLs
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        # imported here so `--help` stays fast
        from pipelines.ordway.pipeline import (
            make_pipeline,
            row_counts,
            run_extract,
            unavailable_collections,
        )

        settings = OrdwaySettings.from_env()
        start = parse_timestamp(args.start, "--start") if args.start else None
        end = parse_timestamp(args.end, "--end") if args.end else None
        resources = None
        if args.resources is not None:
            resources = [r.strip() for r in args.resources.split(",") if r.strip()]
            if not resources:
                raise ConfigError("--resources is empty")
        pipeline = make_pipeline(settings)
        run_extract(
            settings, args.mode, start=start, end=end, resources=resources, pipeline=pipeline
        )
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    counts = row_counts(pipeline)
    for table in sorted(counts):
        print(f"{table}: {counts[table]} rows loaded")
    for skipped in unavailable_collections(pipeline).values():
        print(f"skipped: {skipped.describe()}")
    print(f"ok: mode={args.mode}, {sum(counts.values())} rows in {len(counts)} tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
