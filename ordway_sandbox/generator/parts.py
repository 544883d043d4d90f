"""How the generator is composed: one part per business concern, in simulation and in rendering.

``CustomerSim`` (simulation.py) is one customer: its random stream, its event queue and its
records. Its parts (``contracts``, ``billing``, ``collections``, ``usage``, ``revenue``) each
simulate one concern and share all of that through ``SimPart``; a part calls another through
``self.<concern>``. Because every part draws from the one ``rng`` in the order of the calls, the
sequence of draws is exactly that of a single class, and the tenant's bytes do not depend on how
the work is split.

``Renderer`` (render.py) is the snapshot at the end of ``as_of``; its parts render the
collections of their concern and share the snapshot's context through ``RenderPart``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ordway_sandbox.generator.billing import BillingRenderer, BillingSim
    from ordway_sandbox.generator.collections import CollectionsRenderer, CollectionsSim
    from ordway_sandbox.generator.contracts import ContractsRenderer, ContractsSim
    from ordway_sandbox.generator.model import Customer
    from ordway_sandbox.generator.render import Renderer
    from ordway_sandbox.generator.revenue import RevenueRenderer, RevenueSim
    from ordway_sandbox.generator.simulation import CustomerSim
    from ordway_sandbox.generator.usage import UsageRenderer, UsageSim


class SimPart:
    """One concern of a customer's simulation, sharing the customer's state with the others."""

    def __init__(self, sim: CustomerSim) -> None:
        self.sim = sim
        self.world = sim.world
        self.rng = sim.rng
        self.push = sim.push
        self.business_time = sim.business_time
        self.update_event = sim.update_event
        self.chance = sim.chance
        self.profile = sim.profile
        self.base = sim.base
        self.large = sim.large
        self.long = sim.long

    @property
    def cust(self) -> Customer:
        assert self.sim.cust is not None, "the customer has not arrived yet"
        return self.sim.cust

    @property
    def contracts(self) -> ContractsSim:
        return self.sim.contracts

    @property
    def billing(self) -> BillingSim:
        return self.sim.billing

    @property
    def collections(self) -> CollectionsSim:
        return self.sim.collections

    @property
    def usage(self) -> UsageSim:
        return self.sim.usage

    @property
    def revenue(self) -> RevenueSim:
        return self.sim.revenue


class RenderPart:
    """Renders one concern's collections, sharing the snapshot's context with the others."""

    def __init__(self, root: Renderer) -> None:
        self.root = root
        self.world = root.world
        self.spec = root.spec
        self.profile = root.profile
        self.edges = root.edges
        self.base = root.base
        self.as_of = root.as_of
        self.rate_of = root.rate_of
        self.drifting = root.drifting

    @property
    def contracts(self) -> ContractsRenderer:
        return self.root.contracts

    @property
    def billing(self) -> BillingRenderer:
        return self.root.billing

    @property
    def collections(self) -> CollectionsRenderer:
        return self.root.collections

    @property
    def usage(self) -> UsageRenderer:
        return self.root.usage

    @property
    def revenue(self) -> RevenueRenderer:
        return self.root.revenue
