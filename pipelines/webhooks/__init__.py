"""The Ordway webhook receiver (``python -m pipelines.webhooks``, ``make webhooks``).

- ``envelope.py``: validation of ``{"object", "action", "timestamp", "data"}``, the dedup key,
  the collections an event touches, payment-failure alert keys;
- ``store.py``: the durable SQLite store (``WEBHOOK_DB_PATH``) of accepted, rejected and alerted
  deliveries;
- ``app.py``: the Starlette app (shared-secret header, 401/400/413, commit before 2xx).

The Dagster side (targeted runs, payment-failure alerts) is ``assets/webhooks.py``.
"""
