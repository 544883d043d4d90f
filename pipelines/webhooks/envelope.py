"""The Ordway webhook envelope: its validation, its dedup key and the collections it touches.

Ordway posts ``{"object": "Customer", "action": "...", "timestamp": "<ISO 8601>", "data": {...}}``
where ``data`` is the record as the REST API returns it (ordway-api.md §12). There is no event id,
so a delivery is identified by its **dedup key**::

    <object>|<record id>|<action>|<version>

- ``object`` and ``action`` as sent (``Payment``, ``edit``);
- the record id: ``data.id`` (``data.name`` for webhook configurations, which have no id);
- ``version``: for the record-change actions (``create``, ``edit``, ``remove`` and their
  spellings in ``RECORD_ACTIONS``) the record's ``data.updated_date`` (the envelope's
  ``timestamp`` when the record has none): every change of a record moves its ``updated_date``,
  and a redelivery carries the same record; for any other action (``auto_retrial``, the
  maximum-failed-retries event) the envelope's ``timestamp``: those events do not change the
  record, so its ``updated_date`` would merge two different events into one.

Both timestamps are normalized to UTC (``2022-06-14T22:24:07.202000+00:00``) so ``Z`` and
``+00:00`` spellings of one instant give one key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.ordway.contract import COLLECTIONS

#: Actions that mean "this record was created, changed or removed" (their spelling is not
#: documented, ordway-api.md §12: the usual ones are accepted).
RECORD_ACTIONS = frozenset(
    {"create", "created", "edit", "edited", "update", "updated", "remove", "removed", "delete"}
)
REMOVE_ACTIONS = frozenset({"remove", "removed", "delete"})

#: Ordway object type -> the raw collections a targeted run re-reads for it. A customer's notes
#: and payment methods are read for the customers whose updated_date moved, so a Customer event
#: re-reads them too; contacts are embedded in customers.
OBJECT_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "Customer": ("customers", "customer_notes", "payment_methods"),
    "Contact": ("customers",),
    "Product": ("products",),
    "Plan": ("plans",),
    "Subscription": ("subscriptions",),
    "Order": ("orders",),
    "Invoice": ("invoices",),
    "Payment": ("payments",),
    "Credit": ("credits",),
    "Refund": ("refunds",),
    "DebitMemo": ("debit_memos",),
    "Usage": ("usages",),
    "BillingSchedule": ("billing_schedules",),
    "RevenueSchedule": ("revenue_schedules",),
    "RevenueRule": ("revenue_rules",),
    "JournalEntry": ("journal_entries",),
    "ChartOfAccount": ("chart_of_accounts",),
    "BillingRun": ("billing_runs",),
    "PaymentRun": ("payment_runs",),
    "Statement": ("statements",),
    "Coupon": ("coupons",),
    "Webhook": ("webhooks",),
    "CustomerNote": ("customer_notes",),
    "PaymentMethod": ("payment_methods",),
}
assert all(name in COLLECTIONS for names in OBJECT_COLLECTIONS.values() for name in names)

#: Payment statuses that are a failed attempt (the sandbox and Ordway's UI say ``Failed``).
FAILED_PAYMENT_STATUSES = frozenset({"failed", "declined"})


class EnvelopeError(ValueError):
    """The body is not a webhook envelope; the message says which field is wrong."""


def utc_text(value: Any, field: str) -> str:
    """An ISO 8601 timestamp as normalized UTC text; EnvelopeError naming ``field`` otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise EnvelopeError(f"{field} must be an ISO 8601 timestamp string, got {value!r:.60}")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise EnvelopeError(f"{field} is not an ISO 8601 timestamp: {value!r:.60}") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Envelope:
    """One validated delivery."""

    object: str
    action: str
    timestamp: str  # normalized UTC
    record_id: str
    version: str  # normalized UTC: updated_date (record actions) or timestamp
    data: dict[str, Any]

    @property
    def dedup_key(self) -> str:
        return f"{self.object}|{self.record_id}|{self.action}|{self.version}"

    @property
    def collections(self) -> tuple[str, ...]:
        """The raw collections to re-read; () for an object type this code does not know (the
        sensor then runs every collection)."""
        return OBJECT_COLLECTIONS.get(self.object, ())

    @property
    def is_remove(self) -> bool:
        return self.action.lower() in REMOVE_ACTIONS

    @property
    def alert_key(self) -> str | None:
        """The key a payment-failure alert is sent once for, or None when this delivery is not
        one: a Payment whose status is failed -> ``Payment|<id>|failed`` (one alert per failed
        attempt, whatever later edits of that payment are delivered); any action outside the
        record-change ones (the retry-rule events such as ``auto_retrial``) -> its dedup key."""
        if self.object == "Payment" and not self.is_remove:
            status = str(self.data.get("status") or "").strip().lower()
            if status in FAILED_PAYMENT_STATUSES:
                return f"Payment|{self.record_id}|failed"
        if self.action.lower() not in RECORD_ACTIONS:
            return self.dedup_key
        return None


def parse_envelope(body: bytes) -> Envelope:
    """Validates a delivery's body; EnvelopeError with a clear reason otherwise."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise EnvelopeError("body must be a JSON object {object, action, timestamp, data}")
    missing = [f for f in ("object", "action", "timestamp", "data") if f not in document]
    if missing:
        raise EnvelopeError(f"envelope lacks {', '.join(missing)}")
    names = {}
    for field in ("object", "action"):
        text = document[field]
        if not isinstance(text, str) or not text.strip():
            raise EnvelopeError(f"{field} must be a non-empty string, got {text!r:.60}")
        names[field] = text.strip()
    data = document["data"]
    if not isinstance(data, dict):
        raise EnvelopeError("data must be a JSON object (the record)")
    record_id = data.get("id", data.get("name"))
    if isinstance(record_id, bool) or not isinstance(record_id, str | int) or record_id == "":
        raise EnvelopeError("data has no record id (data.id)")
    timestamp = utc_text(document["timestamp"], "timestamp")
    action = names["action"]
    version = timestamp
    if action.lower() in RECORD_ACTIONS and data.get("updated_date") not in (None, ""):
        version = utc_text(data["updated_date"], "data.updated_date")
    return Envelope(
        object=names["object"],
        action=action,
        timestamp=timestamp,
        record_id=str(record_id),
        version=version,
        data=data,
    )


__all__ = [
    "FAILED_PAYMENT_STATUSES",
    "OBJECT_COLLECTIONS",
    "RECORD_ACTIONS",
    "REMOVE_ACTIONS",
    "Envelope",
    "EnvelopeError",
    "parse_envelope",
    "utc_text",
]
