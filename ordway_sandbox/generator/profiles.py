"""Tenant profiles (which modules an account uses) and edge-case knobs (values real accounts hold).

A *profile* is a real account shape. It decides which collections hold records (the others are
served as ``[]``) and filters the simulation's choices, so that what is served stays internally
consistent: nothing served references a record that is not served.

An *edge case* changes values, not modules: type drift, IDR-sized contracts, missing exchange
rates, a base currency other than USD, a 30-year contract, revenue not yet posted. Each is off by
default, so the default tenant (profile ``full``, no knobs) is byte-identical to what the
generator made before profiles existed.

TENANT.md ("Profiles and edge cases") is the contract; this module is the one home of the rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields

from ordway_sandbox.generator import catalogue as cat

COLLECTIONS = (
    "revenue_rules",
    "chart_of_accounts",
    "products",
    "plans",
    "coupons",
    "webhooks",
    "customers",
    "customer_notes",
    "payment_methods",
    "subscriptions",
    "orders",
    "billing_schedules",
    "revenue_schedules",
    "billing_runs",
    "invoices",
    "debit_memos",
    "payment_runs",
    "payments",
    "credits",
    "refunds",
    "usages",
    "statements",
    "journal_entries",
)
"""Every collection a generated tenant serves, in the tenant's key order."""

REVENUE_MODULE = frozenset({"revenue_rules", "revenue_schedules"})
LEDGER = frozenset({"chart_of_accounts", "journal_entries"})
CONTRACTS = frozenset(
    {"subscriptions", "billing_schedules", "usages", "orders", "coupons", "billing_runs"}
)
"""Subscriptions and what comes with them: orders that become subscriptions, the coupons they
are sold with, the billing runs that bill them."""


@dataclass(frozen=True)
class Profile:
    """Which modules an account uses, and how the simulation's choices are filtered for it."""

    name: str
    served: frozenset[str]
    """Collections that hold records; every other collection is served as ``[]``."""
    usage_only: bool = False
    """Every contract is a single usage-based line (no recurring or one-time charges)."""
    sells_usage: bool = True
    """Usage charges may be sold (billing-only: no, as there are no subscriptions to meter)."""
    single_customer: bool = False
    """Exactly one customer, from ``start``, Enterprise with usage (exercises every module)."""

    @property
    def subscriptions(self) -> bool:
        return "subscriptions" in self.served

    @property
    def revenue(self) -> bool:
        return "revenue_schedules" in self.served

    @property
    def ledger(self) -> bool:
        return "chart_of_accounts" in self.served

    @property
    def empty(self) -> bool:
        return not self.served


ALL = frozenset(COLLECTIONS)
PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("full", ALL),
        Profile(
            "billing-only",
            ALL - REVENUE_MODULE - LEDGER - CONTRACTS,
            sells_usage=False,
        ),
        Profile("no-revenue-module", ALL - REVENUE_MODULE - {"journal_entries"}),
        Profile("usage-only", ALL, usage_only=True),
        Profile("one-customer", ALL, single_customer=True),
        Profile("empty", frozenset()),
    )
}
PROFILE_NAMES = tuple(PROFILES)
DEFAULT_PROFILE = "full"

BASE_CURRENCIES = tuple(cat.ALL_CURRENCIES)
LARGE_CONTRACT_CUSTOMER = 1
"""Customer index (``C-00001``) that bills in IDR with contracts around 1e11 (large_contracts)."""
LONG_HORIZON_CUSTOMER = 2
"""Customer index (``C-00002``; ``C-00001`` in one-customer) with a 30-year contract."""
LARGE_CURRENCY = "IDR"
LARGE_SEATS = (3200, 3600)
LARGE_USAGE_FACTOR = 2_500
LONG_HORIZON_MONTHS = 360
UNPOSTED_MONTHS = 2
"""With ``unposted``, the lines of the as-of month and the month before are not posted."""
MISSING_RATE_SHARE = 0.05


@dataclass(frozen=True)
class EdgeCases:
    """Edge-case knobs; every field's default is "off" (the tenant as before)."""

    drift: bool = False
    large_contracts: bool = False
    missing_rates: bool = False
    base_currency: str = cat.BASE_CURRENCY
    long_horizon: bool = False
    unposted: bool = False

    def __post_init__(self) -> None:
        if self.base_currency not in cat.ALL_CURRENCIES:
            raise ValueError(
                f"base_currency must be one of {', '.join(BASE_CURRENCIES)}, "
                f"got {self.base_currency!r}"
            )

    def non_default(self) -> dict[str, object]:
        """The knobs that differ from their default, as ``build_tenant`` keyword arguments."""
        defaults = EdgeCases()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }


@dataclass(frozen=True)
class TenantSpec:
    """Everything besides customers/as_of/start that shapes a generated tenant."""

    seed: int
    profile: Profile = field(default_factory=lambda: PROFILES[DEFAULT_PROFILE])
    edges: EdgeCases = field(default_factory=EdgeCases)

    @property
    def base(self) -> str:
        return self.edges.base_currency

    def is_large(self, idx: int) -> bool:
        return self.edges.large_contracts and idx == LARGE_CONTRACT_CUSTOMER

    def is_long(self, idx: int) -> bool:
        if not self.edges.long_horizon:
            return False
        if self.profile.single_customer:
            return idx == 1
        return idx == LONG_HORIZON_CUSTOMER

    def chance(self, *parts: object) -> float:
        """A deterministic draw in [0, 1) from the seed and ``parts`` (record ids, a salt).

        Keyed by stable ids, so a record's drifted value never changes when ``as_of`` advances.
        """
        text = "|".join(str(part) for part in (self.seed, *parts))
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}; expected one of {', '.join(PROFILE_NAMES)}"
        ) from None
