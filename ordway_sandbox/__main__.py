"""Command line of the Ordway sandbox: ``python -m ordway_sandbox generate|serve``.

``generate`` writes a synthetic tenant (``tenant.build_tenant``) as compact deterministic JSON.
``serve`` serves a tenant file or a freshly generated tenant until SIGTERM/SIGINT. See README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TextIO

from ordway_sandbox.generator.profiles import (
    BASE_CURRENCIES,
    DEFAULT_PROFILE,
    PROFILE_NAMES,
    EdgeCases,
)
from ordway_sandbox.server import (
    DEFAULT_IGNORE_FILTER,
    DEFAULT_IGNORE_SORT,
    FaultConfig,
    GeneratorParams,
    SandboxApp,
    SandboxHTTPServer,
    ServeOptions,
    SettingsError,
    TenantError,
    load_credentials,
)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def today_utc() -> dt.date:
    """The default snapshot date: the tenant's history ends today (UTC)."""
    return dt.datetime.now(dt.UTC).date()


def build(
    customers: int,
    seed: int,
    as_of: dt.date,
    start: dt.date | None,
    options: dict[str, Any] | None = None,
) -> Any:
    """Call the generator (imported lazily so the server starts quickly for tenant files).

    ``options`` are the profile and edge-case keyword arguments (``tenant_options``).
    """
    from ordway_sandbox.tenant import build_tenant, default_start

    start = start or default_start(as_of)
    return build_tenant(customers, seed, as_of, start=start, **(options or {}))


def dump_tenant(tenant: Any) -> str:
    """The one canonical serialisation of a tenant file: compact, key order preserved."""
    return json.dumps(tenant, separators=(",", ":"), sort_keys=False)


def _add_tenant_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "tenant shape (generated tenants; see TENANT.md, 'Profiles and edge cases')"
    )
    group.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        default=DEFAULT_PROFILE,
        help="which modules the account uses; the others are served as [] (default full)",
    )
    group.add_argument(
        "--drift",
        action="store_true",
        help='recorded type drift: payment_options and custom fields as "" or typed, '
        'applied_tiers "" or a list, charge list_price_base "" or a number',
    )
    group.add_argument(
        "--large-contracts",
        action="store_true",
        help="C-00001 bills in IDR: multi-year contracts of about 1e11 IDR",
    )
    group.add_argument(
        "--missing-rates",
        action="store_true",
        help="some non-base-currency subscriptions, invoices and revenue lines lack exchange_rate",
    )
    group.add_argument(
        "--base-currency",
        choices=BASE_CURRENCIES,
        default=EdgeCases().base_currency,
        help="the currency every exchange_rate converts into (default USD)",
    )
    group.add_argument(
        "--long-horizon",
        action="store_true",
        help="C-00002 (C-00001 in one-customer) has a 30-year contract",
    )
    group.add_argument(
        "--unposted",
        action="store_true",
        help="revenue lines of the as-of month and the month before are not posted yet",
    )


def tenant_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``build_tenant`` keyword arguments the tenant-shape flags ask for (defaults left out)."""
    options: dict[str, Any] = {}
    if args.profile != DEFAULT_PROFILE:
        options["profile"] = args.profile
    edges = EdgeCases(**{f.name: getattr(args, f.name) for f in fields(EdgeCases)})
    return {**options, **edges.non_default()}


def _add_fault_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fault injection (all off by default)")
    group.add_argument("--rate-limit", type=float, metavar="RPS", help="token-bucket limit -> 429")
    group.add_argument("--burst", type=int, default=2, metavar="B", help="bucket size (default 2)")
    group.add_argument(
        "--no-retry-after", action="store_true", help="send 429 without a Retry-After header"
    )
    group.add_argument("--error-rate", type=float, default=0.0, metavar="P", help="share of 5xx")
    group.add_argument(
        "--fault-seed", type=int, default=0, metavar="S", help="seed of --error-rate"
    )
    group.add_argument("--latency-ms", type=float, default=0.0, metavar="MS", help="added latency")
    group.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND:COLLECTION:PAGE[:COUNT]",
        help="malformed|empty|error|error502|error503|error403|error404|timeout|short|repeat;"
        " repeatable",
    )
    group.add_argument(
        "--stall-seconds", type=float, default=30.0, help="stall of a timeout fault (default 30)"
    )
    group.add_argument(
        "--auth-fail-after", type=int, metavar="N", help="every API request after the Nth -> 401"
    )
    behaviour = parser.add_argument_group("endpoint behaviour")
    behaviour.add_argument(
        "--ignore-sort",
        action="append",
        metavar="C",
        help=f"collection whose sort is ignored; replaces the default {sorted(DEFAULT_IGNORE_SORT)}"
        " ('none' for no collection); repeatable",
    )
    behaviour.add_argument(
        "--ignore-filter",
        action="append",
        metavar="C",
        help="collection whose updated_date> is ignored; replaces the default "
        f"{sorted(DEFAULT_IGNORE_FILTER)} ('none' for no collection); repeatable",
    )
    behaviour.add_argument(
        "--wrap-usages", action="store_true", help='serve /usages as {"usages":[...],"total":N}'
    )
    behaviour.add_argument(
        "--unavailable",
        action="append",
        metavar="COLLECTION:STATUS[,...]",
        help="collections the plan does not include: every GET answers STATUS (403 or 404), "
        "e.g. usages:403,journal_entries:404; repeatable",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ordway_sandbox", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic tenant JSON file")
    generate.add_argument("--customers", type=int, required=True)
    generate.add_argument("--seed", type=int, required=True)
    generate.add_argument(
        "--as-of", type=_date, default=None, help="snapshot date YYYY-MM-DD (default: today, UTC)"
    )
    generate.add_argument("--start", type=_date, help="first day of history YYYY-MM-DD")
    generate.add_argument("--out", type=Path, required=True)
    _add_tenant_flags(generate)

    serve = commands.add_parser("serve", help="serve a tenant over HTTP on loopback")
    serve.add_argument("--port", type=int, required=True, help="0 = an ephemeral port")
    serve.add_argument("--host", default="127.0.0.1")
    source = serve.add_mutually_exclusive_group(required=True)
    source.add_argument("--tenant", type=Path, help="tenant JSON file, served as given")
    source.add_argument("--customers", type=int, help="generate a tenant with N customers")
    serve.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    serve.add_argument(
        "--as-of", type=_date, default=None, help="generator snapshot date (default: today, UTC)"
    )
    serve.add_argument("--start", type=_date, help="generator first day YYYY-MM-DD")
    _add_tenant_flags(serve)
    _add_fault_flags(serve)
    return root


def fault_config(args: argparse.Namespace) -> FaultConfig:
    return FaultConfig.from_mapping(
        {
            "rate_limit": args.rate_limit,
            "burst": args.burst,
            "no_retry_after": args.no_retry_after,
            "error_rate": args.error_rate,
            "fault_seed": args.fault_seed,
            "latency_ms": args.latency_ms,
            "faults": args.fault,
            "stall_seconds": args.stall_seconds,
            "auth_fail_after": args.auth_fail_after,
        }
    )


def serve_options(args: argparse.Namespace) -> ServeOptions:
    settings: dict[str, Any] = {"wrap_usages": args.wrap_usages, "unavailable": args.unavailable}
    if args.ignore_sort is not None:
        settings["ignore_sort"] = args.ignore_sort
    if args.ignore_filter is not None:
        settings["ignore_filter"] = args.ignore_filter
    return ServeOptions.from_mapping(settings)


def _generated_tenant(args: argparse.Namespace) -> tuple[Any, GeneratorParams]:
    as_of = args.as_of or today_utc()
    options = tenant_options(args)
    tenant = build(args.customers, args.seed, as_of, args.start, options)
    # `advance` rebuilds with the same start and shape, so learn the start the generator used.
    start = _date(tenant["_sandbox"]["start"])
    return tenant, GeneratorParams(args.customers, args.seed, as_of, start, options)


def cmd_generate(args: argparse.Namespace) -> int:
    tenant = build(
        args.customers, args.seed, args.as_of or today_utc(), args.start, tenant_options(args)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump_tenant(tenant), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


class StartupError(Exception):
    """``serve`` cannot start (bad setting, unreadable or invalid tenant): exit code 2."""


def build_app(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None, err: TextIO | None = None
) -> SandboxApp:
    """Everything ``serve`` does before it listens: settings, the tenant, the credentials.

    Notes (a generated tenant, credentials falling back to demo values) go to ``err`` (default
    stderr); ``environ`` (default ``os.environ``) gives the ``ORDWAY_*`` credentials. Raises
    ``StartupError`` with the message ``serve`` prints. ``process.SandboxThread`` calls this too,
    so the in-process server is configured by exactly the same code.
    """
    err = sys.stderr if err is None else err
    try:
        faults, options = fault_config(args), serve_options(args)
    except SettingsError as exc:
        raise StartupError(f"sandbox: {exc}") from None
    generator = None
    if args.tenant is not None:
        try:
            tenant = json.loads(args.tenant.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StartupError(f"sandbox: cannot read tenant file {args.tenant}: {exc}") from None
    else:
        tenant, generator = _generated_tenant(args)
        shape = "".join(f" {name}={value}" for name, value in generator.options.items())
        print(
            f"sandbox: generated tenant customers={generator.customers} seed={generator.seed} "
            f"as_of={generator.as_of} start={generator.start}{shape}",
            file=err,
        )

    credentials, defaulted = load_credentials(environ)
    if defaulted:
        print(
            f"sandbox: {', '.join(defaulted)} not set; expecting the demo value(s) "
            "(see .env.example)",
            file=err,
        )
    try:
        return SandboxApp(tenant, credentials, options=options, faults=faults, generator=generator)
    except TenantError as exc:
        raise StartupError(f"sandbox: invalid tenant: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        app = build_app(args)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2
    server = SandboxHTTPServer((args.host, args.port), app)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    url = f"http://{args.host}:{server.port}/api/v1"
    print(f"Ordway sandbox listening on {url} ({app.state.record_count} records)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        thread.join(timeout=5)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "generate":
        return cmd_generate(args)
    return cmd_serve(args)


if __name__ == "__main__":
    sys.exit(main())
