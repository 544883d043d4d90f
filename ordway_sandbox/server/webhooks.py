"""Outgoing webhooks, as Ordway sends them (ordway-api.md §12): when the tenant changes (an
``advance`` or a DELETE), every created, edited or removed record of an object type the
configuration enables is POSTed as ``{"object", "action", "timestamp", "data"}`` to the
configured URL with the configured custom headers.

Configuration (``POST /_sandbox/webhooks``, README "Admin API"), every field optional::

    {"url": "http://...", "headers": {"X-...": "..."},
     "events": {"Payment": {"create": true, "edit": true, "remove": true}, ...},  # default: all
     "duplicates": 0,        # extra copies of every delivery (at-least-once)
     "reorder": false,       # deliver in a shuffled order (seeded by "seed")
     "retries": 3,           # further attempts after a 5xx, a timeout or a refused connection
     "timeout_seconds": 60,  # Ordway's documented delivery timeout
     "seed": 0}

Actions are ``create``, ``edit`` and ``remove`` (Ordway does not document their spelling:
inferred). A record is edited when its JSON changed. A failed payment with the payment run's
last attempt (``failed_attempt`` 3) also sends the retry-rule event of its customer
(``{"object": "Customer", "action": "auto_retrial", ...}``, the documented example). Delivery is
synchronous (the admin request that changed the tenant answers after it), so tests see every
delivery done; each attempt is logged (``GET /_sandbox/webhooks``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ordway_sandbox.server.faults import SettingsError
from ordway_sandbox.server.state import TenantState

#: collection -> Ordway object type (§12; types beyond the documented ones inferred).
OBJECT_TYPES = {
    "customers": "Customer",
    "products": "Product",
    "plans": "Plan",
    "subscriptions": "Subscription",
    "orders": "Order",
    "invoices": "Invoice",
    "payments": "Payment",
    "credits": "Credit",
    "refunds": "Refund",
    "debit_memos": "DebitMemo",
    "usages": "Usage",
    "billing_schedules": "BillingSchedule",
    "revenue_schedules": "RevenueSchedule",
    "revenue_rules": "RevenueRule",
    "journal_entries": "JournalEntry",
    "chart_of_accounts": "ChartOfAccount",
    "billing_runs": "BillingRun",
    "payment_runs": "PaymentRun",
    "statements": "Statement",
    "coupons": "Coupon",
    "customer_notes": "CustomerNote",
    "payment_methods": "PaymentMethod",
}
ACTIONS = ("create", "edit", "remove")
#: The payment run's last attempt (ordway_sandbox/generator/collections.py MAX_ATTEMPTS).
LAST_ATTEMPT = 3
RETRY_STATUSES = range(500, 600)


@dataclass(frozen=True)
class WebhookConfig:
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    #: object type -> enabled actions; None: every object and action.
    events: dict[str, frozenset[str]] | None = None
    duplicates: int = 0
    reorder: bool = False
    retries: int = 3
    timeout_seconds: float = 60.0
    seed: int = 0

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> WebhookConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SettingsError(f"unknown webhook settings {unknown}; known: {sorted(known)}")
        events = None
        if raw.get("events") is not None:
            if not isinstance(raw["events"], Mapping):
                raise SettingsError("webhook events must map object types to {action: bool}")
            events = {
                obj: frozenset(a for a, on in switches.items() if on and a in ACTIONS)
                for obj, switches in raw["events"].items()
            }
        try:
            return cls(
                url=str(raw.get("url", "")),
                headers={str(k): str(v) for k, v in dict(raw.get("headers", {})).items()},
                events=events,
                duplicates=int(raw.get("duplicates", 0)),
                reorder=bool(raw.get("reorder", False)),
                retries=int(raw.get("retries", 3)),
                timeout_seconds=float(raw.get("timeout_seconds", 60.0)),
                seed=int(raw.get("seed", 0)),
            )
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"invalid webhook settings: {exc}") from None

    def enabled(self, obj: str, action: str) -> bool:
        if self.events is None:
            return True
        return action in self.events.get(obj, frozenset())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def changes(before: TenantState, after: TenantState) -> list[dict[str, Any]]:
    """The envelopes for every record created, edited or removed from ``before`` to ``after``."""
    envelopes: list[dict[str, Any]] = []
    customers = after.collections.get("customers")
    for name, obj in OBJECT_TYPES.items():
        old, new = before.collections.get(name), after.collections.get(name)
        old_keys = old.positions if old else {}
        new_keys = new.positions if new else {}
        if new is not None:
            for key, position in new_keys.items():
                record = new.records[position]
                if key not in old_keys:
                    action = "create"
                elif old is not None and old.encoded[old_keys[key]] != new.encoded[position]:
                    action = "edit"
                else:
                    continue
                stamp = record.get("updated_date") or _now()
                envelopes.append(
                    {"object": obj, "action": action, "timestamp": stamp, "data": record}
                )
                if (
                    name == "payments"
                    and str(record.get("status", "")).lower() == "failed"
                    and record.get("failed_attempt") == LAST_ATTEMPT
                    and customers is not None
                    and record.get("customer_id") in customers.positions
                ):
                    customer = customers.records[customers.positions[record["customer_id"]]]
                    envelopes.append(
                        {
                            "object": "Customer",
                            "action": "auto_retrial",
                            "timestamp": stamp,
                            "data": customer,
                        }
                    )
        if old is not None:
            for key, position in old_keys.items():
                if key not in new_keys:
                    envelopes.append(
                        {
                            "object": obj,
                            "action": "remove",
                            "timestamp": _now(),
                            "data": old.records[position],
                        }
                    )
    return envelopes


class WebhookSender:
    """Delivers envelopes with the current configuration and logs every attempt."""

    def __init__(self) -> None:
        self.config = WebhookConfig()
        self._lock = threading.Lock()
        self.log: list[dict[str, Any]] = []

    def configure(self, config: WebhookConfig) -> None:
        with self._lock:
            self.config = config
            self.log = []

    def to_json(self) -> dict[str, Any]:
        config = self.config
        return {
            "url": config.url,
            "header_names": sorted(config.headers),
            "duplicates": config.duplicates,
            "reorder": config.reorder,
            "retries": config.retries,
            "log": list(self.log),
        }

    def deliver(self, before: TenantState, after: TenantState) -> dict[str, int]:
        """POSTs the enabled changes; returns counts (envelopes, attempts, delivered, failed)."""
        config = self.config
        if not config.url:
            return {"envelopes": 0, "attempts": 0, "delivered": 0, "failed": 0}
        with self._lock:
            envelopes = [
                e for e in changes(before, after) if config.enabled(e["object"], e["action"])
            ]
            queue = [e for e in envelopes for _ in range(1 + config.duplicates)]
            if config.reorder:
                random.Random(config.seed).shuffle(queue)
            counts = {"envelopes": len(envelopes), "attempts": 0, "delivered": 0, "failed": 0}
            for envelope in queue:
                ok = self._post(config, envelope, counts)
                counts["delivered" if ok else "failed"] += 1
            return counts

    def _post(self, config: WebhookConfig, envelope: dict[str, Any], counts: dict) -> bool:
        body = json.dumps(envelope).encode("utf-8")
        for attempt in range(1 + config.retries):
            counts["attempts"] += 1
            request = urllib.request.Request(
                config.url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", **config.headers},
            )
            try:
                with urllib.request.urlopen(request, timeout=config.timeout_seconds) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, TimeoutError, ConnectionError):
                status = 408  # what Ordway's webhook log records for a timeout
            self.log.append(
                {
                    "object": envelope["object"],
                    "action": envelope["action"],
                    "id": envelope["data"].get("id"),
                    "attempt": attempt + 1,
                    "status": status,
                }
            )
            if status < 300:
                return True
            if status not in RETRY_STATUSES and status != 408:
                return False
            time.sleep(min(0.05 * 2**attempt, 1.0))
        return False


__all__ = ["OBJECT_TYPES", "WebhookConfig", "WebhookSender", "changes"]
