"""Deterministic synthetic Ordway tenant: ``build_tenant(customers, seed, as_of, start)``.

See ``TENANT.md`` for the contract. The work is done by ``generator/``: ``catalogue`` (static
set-up), ``simulation`` (per-customer event simulation up to the end of ``as_of``), ``render``
(ids in creation order and wire JSON).
"""

from __future__ import annotations

from datetime import date

from ordway_sandbox import recognition
from ordway_sandbox.generator.render import Renderer, assign_ids
from ordway_sandbox.generator.simulation import CustomerSim, World, arrival_day

GENERATOR_VERSION = "1"
DEFAULT_AS_OF = date(2026, 6, 30)
"""``as_of`` when none is given: a fixed day, so that the function stays pure."""

COLLECTIONS = (
    "revenue_rules",
    "chart_of_accounts",
    "products",
    "plans",
    "customers",
    "subscriptions",
    "billing_schedules",
    "revenue_schedules",
    "invoices",
    "payments",
    "credits",
    "refunds",
    "usages",
    "journal_entries",
)

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
}


def default_start(as_of: date) -> date:
    """The first day of the month 36 months before ``as_of``'s month."""
    return recognition.add_months(as_of.replace(day=1), -36)


def build_tenant(
    customers: int, seed: int, as_of: date | None = None, start: date | None = None
) -> dict:
    """Simulate the company from ``start`` and return its snapshot at the end of ``as_of``.

    Pure and deterministic: the same arguments give the same JSON bytes. Returns
    ``{"_sandbox": {...parameters...}, "<collection>": [records...], ...}`` with every record
    exactly as ``GET /api/v1/<collection>`` returns it.
    """
    if customers < 1:
        raise ValueError(f"customers must be >= 1, got {customers}")
    as_of = as_of or DEFAULT_AS_OF
    start = start or default_start(as_of)
    if as_of < start:
        raise ValueError(f"as_of {as_of} is before start {start}")
    world = World(as_of.toordinal())
    last_day = as_of.toordinal()
    i = 1
    while True:
        arrival = arrival_day(i, customers, start)
        if arrival > last_day:
            break
        CustomerSim(world, i, arrival, seed).run()
        i += 1
    for cust in world.customers:
        cust.id = f"C-{cust.idx:05d}"
    for name, prefix in ID_PREFIXES.items():
        assign_ids(getattr(world, name), prefix)
    renderer = Renderer(world, start)
    tenant: dict = {
        "_sandbox": {
            "customers": customers,
            "seed": seed,
            "as_of": as_of.isoformat(),
            "start": start.isoformat(),
            "generator_version": GENERATOR_VERSION,
        }
    }
    for name in COLLECTIONS:
        tenant[name] = getattr(renderer, name)()
    return tenant
