"""The fidelity test's view of Singer's tap-ordway (installed and run by
``ordway_sandbox/tap_ordway.py``, which the benchmark uses too): which of our collections each
tap stream reads, and the primary keys of the records a sync emitted. Used by
tests/ordway_sandbox/test_tap_ordway_fidelity.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ordway_sandbox.tap_ordway import TapError, discover, sync, tap_environment

#: Tap stream -> (our collection, the child path within it); the tap's primary key is its
#: first key property (``<singular>_id``, or ``code`` / ``name``).
STREAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "billing_runs": ("billing_runs", ()),
    "billing_schedules": ("billing_schedules", ()),
    "charges": ("plans", ("charges",)),
    "chart_of_accounts": ("chart_of_accounts", ()),
    "contacts": ("customers", ("contacts",)),
    "coupons": ("coupons", ()),
    "credits": ("credits", ()),
    "customer_notes": ("customer_notes", ()),
    "customers": ("customers", ()),
    "debit_memo": ("debit_memos", ()),
    "invoices": ("invoices", ()),
    "journal_entries": ("journal_entries", ()),
    "orders": ("orders", ()),
    "payment_methods": ("payment_methods", ()),
    "payment_runs": ("payment_runs", ()),
    "payments": ("payments", ()),
    "plans": ("plans", ()),
    "products": ("products", ()),
    "refunds": ("refunds", ()),
    "revenue_rules": ("revenue_rules", ()),
    "revenue_schedules": ("revenue_schedules", ()),
    "statements": ("statements", ()),
    "subscriptions": ("subscriptions", ()),
    "usages": ("usages", ()),
    "webhooks": ("webhooks", ()),
}


def run_tap(
    python: Path, config: Mapping[str, Any], workdir: Path
) -> tuple[dict[str, list[str]], str]:
    """Discover, select every stream, sync. Returns (the primary keys of the RECORD messages by
    stream, the tap's stderr); raises TapError when a step exits non-zero."""
    catalog = discover(python, config, workdir)
    keys = {s["tap_stream_id"]: s["key_properties"][0] for s in catalog["streams"]}
    synced = sync(python, config, catalog, workdir)
    records: dict[str, list[str]] = defaultdict(list)
    for line in synced.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "RECORD":
            stream = message["stream"]
            records[stream].append(str(message["record"][keys[stream]]))
    return dict(records), synced.stderr


__all__ = ["STREAMS", "TapError", "run_tap", "tap_environment"]
