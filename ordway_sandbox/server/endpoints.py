"""Where the API's collections differ from each other: the one table to edit for a collection.

Any collection in the tenant document is served (``GET /<collection>``, ``/<collection>/<key>``,
``DELETE /<collection>/<key>``) with the default rules: keyed by ``id``, pages of at most 50,
``sort`` and ``updated_date>`` honoured. A collection that behaves differently on the real API
(ordway-api.md §5.3.3, §10, §14) gets one entry in ``COLLECTION_RULES``; a per-parent
sub-resource such as ``/customers/{id}/payment_methods`` is an entry with ``parent``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class Parent:
    """Sub-resource ``/<collection>/<id>/<child>``: the child records whose ``key`` is ``<id>``
    (with ``by_number``: whose ``key`` is the number in ``<id>``, ``C-00012`` -> 12, the parent's
    internal database id, which is what Ordway's customer notes carry, ordway-api.md §11.4)."""

    collection: str
    key: str
    by_number: bool = False

    def child_value(self, parent_key: str) -> str | None:
        """The value a child's ``key`` has under the parent ``parent_key`` (None: no child can
        match, a key without digits has no internal number here)."""
        if not self.by_number:
            return parent_key
        digits = "".join(ch for ch in parent_key if ch.isdigit())
        return str(int(digits)) if digits else None


@dataclass(frozen=True)
class CollectionRules:
    key: str = "id"
    """The field of ``GET /<collection>/<key>`` and ``DELETE``; unique per record."""
    max_page_size: int = MAX_PAGE_SIZE
    """``size`` is silently clamped to this."""
    ignores_sort: bool = False
    """The endpoint ignores ``sort`` (the default of ``--ignore-sort``)."""
    ascending_when_unsorted: bool = False
    """While ``sort`` is ignored, serve ascending key order instead of the default descending."""
    ignores_updated_filter: bool = False
    """The endpoint ignores ``updated_date>`` (the default of ``--ignore-filter``)."""
    parent: Parent | None = None
    """Also served as a sub-resource of ``parent.collection`` (the list, filtered by its key)."""


DEFAULT_RULES = CollectionRules()

COLLECTION_RULES: dict[str, CollectionRules] = {
    "chart_of_accounts": CollectionRules(key="code"),
    "webhooks": CollectionRules(key="name"),
    "statements": CollectionRules(ignores_sort=True),
    "revenue_schedules": CollectionRules(max_page_size=500),
    "billing_schedules": CollectionRules(ignores_sort=True, ascending_when_unsorted=True),
    "revenue_rules": CollectionRules(ignores_sort=True, ignores_updated_filter=True),
    "billing_runs": CollectionRules(ignores_updated_filter=True),
    "coupons": CollectionRules(ignores_updated_filter=True),
    "payment_methods": CollectionRules(parent=Parent("customers", "customer_id")),
    "customer_notes": CollectionRules(parent=Parent("customers", "customer_id", by_number=True)),
}


def rules_for(collection: str) -> CollectionRules:
    return COLLECTION_RULES.get(collection, DEFAULT_RULES)


def sub_resource(parent: str, child: str) -> Parent | None:
    """The link if ``/<parent>/<id>/<child>`` is a sub-resource route, else None."""
    link = rules_for(child).parent
    return link if link is not None and link.collection == parent else None


DEFAULT_IGNORE_SORT = frozenset(name for name, r in COLLECTION_RULES.items() if r.ignores_sort)
DEFAULT_IGNORE_FILTER = frozenset(
    name for name, r in COLLECTION_RULES.items() if r.ignores_updated_filter
)
