"""Alert delivery: a Slack incoming webhook when ``SLACK_WEBHOOK_URL`` is set, the log otherwise.

The webhook URL is a secret (anyone holding it can post to the channel): it is never logged,
never put in an error message and never stored in run metadata.
"""

from __future__ import annotations

import logging
import os

import httpx

log = logging.getLogger(__name__)


class AlertDeliveryError(RuntimeError):
    """The webhook refused or could not be reached; the message never contains the URL."""


def post_alert(text: str, *, logger: logging.Logger | None = None) -> str:
    """Send ``text`` to Slack if configured, else write it to the log.

    Returns ``"slack"`` or ``"log"`` so callers can record where the alert went.
    """
    logger = logger or log
    url = os.environ.get("SLACK_WEBHOOK_URL", "").strip()
    if not url:
        logger.warning("ALERT (SLACK_WEBHOOK_URL not set, logging only): %s", text)
        return "log"
    try:
        response = httpx.post(url, json={"text": text}, timeout=10.0)
    except httpx.HTTPError as exc:
        raise AlertDeliveryError(
            f"Slack webhook unreachable ({type(exc).__name__}); alert text: {text[:200]}"
        ) from None
    if response.status_code >= 300:
        raise AlertDeliveryError(
            f"Slack webhook answered HTTP {response.status_code}: {response.text[:200]}"
        )
    logger.info("Alert posted to Slack (%d characters).", len(text))
    return "slack"
