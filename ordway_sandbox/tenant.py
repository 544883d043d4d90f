"""Deterministic synthetic Ordway tenant: ``build_tenant(customers, seed, as_of, start, ...)``.

See ``TENANT.md`` for the contract. The work is done by ``generator/`` (README.md, "Layout"):
``catalogue`` (static set-up), ``profiles`` (tenant profiles and edge-case knobs),
``simulation`` (each customer's life up to the end of ``as_of``), ``render`` (wire JSON), each
delegating to one part per business concern (``contracts``, ``billing``, ``collections``,
``usage``, ``revenue``); ids are assigned in creation order (``formats.assign_ids``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from datetime import date
from typing import Any

from ordway_sandbox import recognition
from ordway_sandbox.generator.formats import assign_ids
from ordway_sandbox.generator.profiles import (
    COLLECTIONS,
    DEFAULT_PROFILE,
    PROFILE_NAMES,
    EdgeCases,
    Profile,
    TenantSpec,
    profile_named,
)
from ordway_sandbox.generator.render import Renderer
from ordway_sandbox.generator.simulation import CustomerSim, World, arrival_day

__all__ = [
    "COLLECTIONS",
    "DEFAULT_AS_OF",
    "PROFILE_NAMES",
    "build_tenant",
    "default_start",
    "generator_options",
]

GENERATOR_VERSION = "2"
DEFAULT_AS_OF = date(2026, 6, 30)
"""``as_of`` when none is given: a fixed day, so that the function stays pure."""

ID_PREFIXES = {
    "contacts": "CT",
    "subscriptions": "S",
    "billing_schedules": "BS",
    "revenue_schedules": "RS",
    "invoices": "INV",
    "payments": "PMT",
    "credits": "CR",
    "refunds": "REF",
    "usages": "U",
    "journal_entries": "JE",
    "orders": "ORD",
    "debit_memos": "DM",
    "statements": "STM",
    "customer_notes": "CN",
    "payment_methods": "PM",
}


def default_start(as_of: date) -> date:
    """The first day of the month 36 months before ``as_of``'s month."""
    return recognition.add_months(as_of.replace(day=1), -36)


def build_tenant(
    customers: int,
    seed: int,
    as_of: date | None = None,
    start: date | None = None,
    *,
    profile: str = DEFAULT_PROFILE,
    drift: bool = False,
    large_contracts: bool = False,
    missing_rates: bool = False,
    base_currency: str = "USD",
    long_horizon: bool = False,
    unposted: bool = False,
) -> dict:
    """Simulate the company from ``start`` and return its snapshot at the end of ``as_of``.

    Pure and deterministic: the same arguments give the same JSON bytes. Returns
    ``{"_sandbox": {...parameters...}, "<collection>": [records...], ...}`` with every record
    exactly as ``GET /api/v1/<collection>`` returns it; every collection of ``COLLECTIONS`` is
    present (``[]`` when the profile does not use it).

    ``profile`` is one of ``PROFILE_NAMES`` and the keyword flags are the edge cases of
    ``generator/profiles.py`` (TENANT.md, "Profiles and edge cases"). ``_sandbox`` records the
    profile and every knob that differs from its default, so ``full`` with no knobs gives the
    same bytes as before profiles existed, and ``generator_options(tenant["_sandbox"])`` gives
    the keyword arguments back (what ``advance`` passes on).
    """
    if customers < 1:
        raise ValueError(f"customers must be >= 1, got {customers}")
    shape = profile_named(profile)
    edges = EdgeCases(
        drift=drift,
        large_contracts=large_contracts,
        missing_rates=missing_rates,
        base_currency=base_currency,
        long_horizon=long_horizon,
        unposted=unposted,
    )
    as_of = as_of or DEFAULT_AS_OF
    start = start or default_start(as_of)
    if as_of < start:
        raise ValueError(f"as_of {as_of} is before start {start}")
    spec = TenantSpec(seed, shape, edges)
    world = World(as_of.toordinal(), spec)
    for i, arrival in arrivals(shape, customers, start, as_of):
        CustomerSim(world, i, arrival, seed).run()
    for cust in world.customers:
        cust.id = f"C-{cust.idx:05d}"
    for name, prefix in ID_PREFIXES.items():
        assign_ids(getattr(world, name), prefix)
    renderer = Renderer(world, start)
    meta: dict = {
        "customers": customers,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "start": start.isoformat(),
        "generator_version": GENERATOR_VERSION,
    }
    if profile != DEFAULT_PROFILE:
        meta["profile"] = profile
    meta.update(edges.non_default())
    tenant: dict = {"_sandbox": meta}
    for name in COLLECTIONS:
        tenant[name] = renderer.render(name) if name in shape.served else []
    return tenant


def arrivals(shape: Profile, customers: int, start: date, as_of: date) -> Iterator[tuple[int, int]]:
    """(customer index, arrival day) of every customer who has arrived by the end of ``as_of``.

    ``empty`` has none; ``one-customer`` has customer 1 only, arriving on ``start`` (so its whole
    history is in the tenant; ``customers`` is ignored); the others follow ``arrival_day``.
    """
    if shape.empty:
        return
    if shape.single_customer:
        yield 1, start.toordinal()
        return
    i = 1
    while (arrival := arrival_day(i, customers, start)) <= as_of.toordinal():
        yield i, arrival
        i += 1


def generator_options(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The ``build_tenant`` keyword arguments recorded in a tenant's ``_sandbox`` (profile, knobs).

    Absent keys are defaults, so a tenant from before profiles existed gives ``{}``.
    """
    names = ("profile", *(f.name for f in fields(EdgeCases)))
    return {name: meta[name] for name in names if name in meta}
