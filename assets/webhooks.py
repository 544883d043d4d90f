"""The webhook sensors: what the receiver (``pipelines/webhooks/``) stored becomes targeted runs
and payment-failure alerts. Both read the store at ``WEBHOOK_DB_PATH`` on each tick and skip
while it does not exist (no receiver has run).

- ``ordway_webhook_sync`` (every ``SYNC_INTERVAL_SECONDS``): the events stored since its cursor
  become **one** run of the ``ordway_nightly`` job, limited to the raw collections the events
  name (``OBJECT_COLLECTIONS``; an object type it does not know: every collection) plus
  ``_ordway_deletions``, every dbt model and ``published/marts``: the same source, merge, checks,
  ``dbt build`` and publication as the nightly run. Mode ``incremental`` (records changed since
  each collection's cursor minus the lookback); ``sweep`` when an event removes a record of an
  incremental collection (a complete listing of those collections tombstones it). The run re-reads
  Ordway: the webhook's payload is never written to the warehouse, so a late or reordered
  delivery can never make a record older than the warehouse holds.

  Batching: at most one run per tick, and none while an earlier webhook run is queued or
  running (the events wait for the next tick and go into one run). The cursor (``{"seq": N,
  "run_key": ...}``) is the newest event put into a requested run; Dagster saves it with the run
  request, whose run key (``ordway-webhooks-<first seq>-<last seq>``) keeps a re-evaluated tick
  from launching the same batch twice. The store's ``processed_at`` / ``run_key`` columns are
  filled from the saved cursor on the next tick (for inspection; the cursor is the truth).

- ``ordway_payment_failure_alert`` (every ``ALERT_INTERVAL_SECONDS``): each payment-failure
  event (``Envelope.alert_key``: a Payment with status failed, once per payment; a retry-rule
  event such as ``auto_retrial``, once per dedup key) -> ``post_alert``, then the key is
  recorded in the store's ``alerts`` table. A delivery Slack refuses fails the tick and is
  retried on the next one; a crash between posting and recording can repeat that one alert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dagster import (
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    PartitionKeyRange,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from assets.alerts import Alert, asset_url, post_alert
from assets.ingest import DELETIONS_KEY, RAW_COLLECTION_KEYS
from assets.jobs import NIGHTLY_JOB_NAME
from assets.names import MODE_TAG
from assets.partitions import month_key, range_tags
from pipelines.config import value
from pipelines.ordway.contract import COLLECTIONS
from pipelines.webhooks.envelope import REMOVE_ACTIONS
from pipelines.webhooks.store import StoredEvent, WebhookStore

SYNC_SENSOR_NAME = "ordway_webhook_sync"
ALERT_SENSOR_NAME = "ordway_payment_failure_alert"
#: At most one targeted run per interval: a burst of deliveries becomes one run.
SYNC_INTERVAL_SECONDS = 20
ALERT_INTERVAL_SECONDS = 15
#: Tag on every run the sync sensor requests: the sequence numbers of its events.
WEBHOOK_TAG = "ordway/webhooks"
ACTIVE_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


def webhook_store() -> WebhookStore | None:
    """The store at WEBHOOK_DB_PATH, or None while it does not exist."""
    path: Path = value("WEBHOOK_DB_PATH")
    return WebhookStore(path) if path.exists() else None


def affected_collections(events: Sequence[StoredEvent]) -> tuple[str, ...]:
    """The collections the events name, in contract order; every collection when one event's
    object type is unknown."""
    if any(not event.collections for event in events):
        return tuple(COLLECTIONS)
    named = {name for event in events for name in event.collections}
    return tuple(name for name in COLLECTIONS if name in named)


def sync_mode(events: Sequence[StoredEvent]) -> str:
    """``sweep`` when an event removes a record of an incremental collection, else
    ``incremental``."""
    removes = any(
        event.action.lower() in REMOVE_ACTIONS
        and any(COLLECTIONS[name].incremental for name in event.collections)
        for event in events
    )
    return "sweep" if removes else "incremental"


def sync_run_request(
    events: Sequence[StoredEvent], downstream: Sequence[AssetKey], now: datetime
) -> RunRequest:
    """The one run for ``events`` (oldest first)."""
    names = affected_collections(events)
    selection = [RAW_COLLECTION_KEYS[name] for name in names]
    selection += [DELETIONS_KEY, *downstream]
    month = month_key(now)
    first, last = events[0].seq, events[-1].seq
    return RunRequest(
        run_key=f"ordway-webhooks-{first}-{last}",
        asset_selection=list(dict.fromkeys(selection)),
        tags={
            **range_tags(PartitionKeyRange(month, month)),
            MODE_TAG: sync_mode(events),
            WEBHOOK_TAG: f"{first}-{last}",
        },
    )


def build_webhook_sync_sensor(downstream: Sequence[AssetKey]) -> SensorDefinition:
    """The sync sensor; ``downstream``: the dbt assets and ``published/marts``, rebuilt after
    every targeted extract."""

    @sensor(
        name=SYNC_SENSOR_NAME,
        job_name=NIGHTLY_JOB_NAME,
        minimum_interval_seconds=SYNC_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Turns the Ordway webhooks stored by the receiver (WEBHOOK_DB_PATH) into one "
            "ordway_nightly run of only the collections they touch (incremental; sweep for "
            "removals), then dbt build and publication. At most one run every 20 s, none while "
            "an earlier webhook run is active."
        ),
    )
    def ordway_webhook_sync(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        store = webhook_store()
        if store is None:
            return SkipReason(f"No webhook store at {value('WEBHOOK_DB_PATH')} yet.")
        cursor = json.loads(context.cursor) if context.cursor else {"seq": 0, "run_key": None}
        if cursor["run_key"]:
            store.mark_processed(cursor["seq"], cursor["run_key"])
        events = store.events_after(cursor["seq"])
        if not events:
            return SkipReason("No new webhook event.")
        active = [
            run
            for run in context.instance.get_runs(RunsFilter(statuses=ACTIVE_STATUSES), limit=50)
            if WEBHOOK_TAG in run.tags
        ]
        if active:
            return SkipReason(
                f"{len(events)} new webhook events wait for run {active[0].run_id} to finish."
            )
        request = sync_run_request(events, downstream, datetime.now(UTC))
        context.log.info(
            f"{len(events)} webhook events -> run {request.run_key} "
            f"({request.tags[MODE_TAG]}: {', '.join(affected_collections(events))})"
        )
        return SensorResult(
            run_requests=[request],
            cursor=json.dumps({"seq": events[-1].seq, "run_key": request.run_key}),
        )

    return ordway_webhook_sync


# ---------------------------------------------------------------------------- alerts


def _money(amount: object, currency: object) -> str:
    try:
        return f"{currency or ''} {Decimal(str(amount)):,.2f}".strip()
    except (InvalidOperation, ValueError):
        return f"{currency or ''} {amount}".strip()


def payment_failure_alert(event: StoredEvent) -> Alert:
    """What one payment-failure event says."""
    data = event.data
    if event.object == "Payment":
        attempt = data.get("failed_attempt")
        details = [
            f"customer: {data.get('customer_id') or '(unknown)'}",
            f"amount: {_money(data.get('payment_amount'), data.get('currency'))}",
            f"payment date: {data.get('payment_date') or '(unknown)'}",
        ]
        if attempt not in (None, "", 0):
            details.append(f"failed attempt: {attempt}")
        if data.get("failure_reason"):
            details.append(f"reason: {data['failure_reason']}")
        title = f"Ordway payment {event.record_id} failed"
        link = asset_url(RAW_COLLECTION_KEYS["payments"].path)
    else:
        title = f"Ordway {event.action} event on {event.object} {event.record_id}"
        details = [f"name: {data.get('name')}"] if data.get("name") else []
        if data.get("balance") is not None:
            details.append(f"balance: {_money(data.get('balance'), data.get('currency'))}")
        link = None
    details.append(f"received: {event.received_at}")
    return Alert(title=title, body="\n".join(details), link=link, link_label="Open in Dagster")


@sensor(
    name=ALERT_SENSOR_NAME,
    minimum_interval_seconds=ALERT_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Posts each payment failure delivered by Ordway's webhooks (a Payment with status "
        "Failed, once per payment; a retry-rule event such as auto_retrial, once per event) "
        "within seconds of its delivery; the alerted keys are kept in WEBHOOK_DB_PATH."
    ),
)
def ordway_payment_failure_alert(context: SensorEvaluationContext) -> SkipReason:
    store = webhook_store()
    if store is None:
        return SkipReason(f"No webhook store at {value('WEBHOOK_DB_PATH')} yet.")
    pending = store.unalerted()
    for event in pending:
        assert event.alert_key is not None
        destination = post_alert(payment_failure_alert(event), logger=context.log)
        store.record_alert(event.alert_key, event.seq)
        context.log.info(f"Payment failure alert {event.alert_key} sent to {destination}")
    if not pending:
        return SkipReason("No new payment failure.")
    return SkipReason(f"{len(pending)} payment failure alerts sent.")


__all__ = [
    "ALERT_SENSOR_NAME",
    "SYNC_SENSOR_NAME",
    "WEBHOOK_TAG",
    "build_webhook_sync_sensor",
    "ordway_payment_failure_alert",
    "payment_failure_alert",
    "sync_run_request",
]
