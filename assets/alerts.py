"""Alerts: what they say (``Alert``, built from a run's events by ``run_alert``) and where they
go (``post_alert``).

Destinations, the first one configured wins:

- ``SLACK_WEBHOOK_URL``: a Slack incoming webhook, posted with ``slack_sdk``'s
  ``WebhookClient`` (the channel is chosen when the webhook is created in Slack);
- ``SLACK_BOT_TOKEN`` + ``SLACK_CHANNEL``: a Slack app's bot token (``chat:write``), posted with
  ``chat.postMessage`` through ``dagster_slack.SlackResource``'s client;
- neither: the alert is written to the log as a warning.

Every alert is a header, a plain-text body and, where there is one, a button linking to the run
(or asset) in the Dagster UI at ``DAGSTER_WEBSERVER_URL``; the same content is in ``text``, the
notification fallback. The webhook URL and the bot token are secrets: they are never logged,
never put in an error message or an alert, never stored in run metadata (``slack_sdk``'s own
debug logging, which prints the URL and headers, is held at WARNING).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dagster import DagsterEvent, DagsterEventType, DagsterRun

from assets.names import (
    BACKFILL_TAG,
    IMPLICIT_ASSET_JOB_PREFIX,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
)
from pipelines.config import ConfigError, value

log = logging.getLogger(__name__)
# slack_sdk logs the webhook URL and the Authorization header at DEBUG (and retries at INFO).
logging.getLogger("slack_sdk").setLevel(logging.WARNING)

HEADER_CHARS = 150  # Slack's limit for a header block
SECTION_CHARS = 3000  # Slack's limit for a section's text
ERROR_CHARS = 1500
LISTED_ASSETS = 3


class AlertDeliveryError(RuntimeError):
    """Slack refused the alert or could not be reached; the message never contains the URL or
    the token."""


# ------------------------------------------------------------------------------ settings


def webserver_url() -> str:
    """DAGSTER_WEBSERVER_URL without a trailing slash (default http://127.0.0.1:3000)."""
    return value("DAGSTER_WEBSERVER_URL")


def run_url(run_id: str) -> str:
    return f"{webserver_url()}/runs/{run_id}"


def asset_url(asset_path: Sequence[str]) -> str:
    return f"{webserver_url()}/assets/{'/'.join(asset_path)}"


@dataclass(frozen=True)
class SlackDestination:
    kind: str  # "webhook" | "bot" | "log"
    secret: str = field(default="", repr=False)
    channel: str = ""


def slack_destination() -> SlackDestination:
    """Where alerts go, from SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN + SLACK_CHANNEL."""
    webhook = value("SLACK_WEBHOOK_URL")
    if webhook:
        return SlackDestination("webhook", secret=webhook)
    token = value("SLACK_BOT_TOKEN")
    channel = value("SLACK_CHANNEL")
    if token and not channel:
        raise ConfigError("SLACK_BOT_TOKEN is set but SLACK_CHANNEL is not (e.g. #finance-data)")
    if token:
        return SlackDestination("bot", secret=token, channel=channel)
    return SlackDestination("log")


# --------------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Alert:
    """A header line, a plain-text body and an optional link into the Dagster UI."""

    title: str
    body: str
    link: str | None = None
    link_label: str = "Open the run in Dagster"

    def text(self) -> str:
        """The whole alert as plain text (Slack's notification fallback, the log line)."""
        lines = [self.title, self.body]
        if self.link:
            lines.append(f"{self.link_label}: {self.link}")
        return "\n".join(line for line in lines if line)

    def blocks(self) -> list[dict[str, Any]]:
        """Slack Block Kit: header, body section, link button."""
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(self.title, HEADER_CHARS)},
            }
        ]
        if self.body:
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "plain_text", "text": _cut(self.body, SECTION_CHARS)},
                }
            )
        if self.link:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": self.link_label},
                            "url": self.link,
                        }
                    ],
                }
            )
        return blocks


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def post_alert(alert: Alert, *, logger: Any = None) -> str:
    """Sends ``alert`` to Slack if configured, else writes it to the log.

    Returns ``"slack"`` or ``"log"``; raises AlertDeliveryError when Slack refuses it or cannot
    be reached.
    """
    logger = logger or log
    destination = slack_destination()
    if destination.kind == "log":
        logger.warning(f"ALERT (no Slack destination configured, logging only): {alert.text()}")
        return "log"
    if destination.kind == "webhook":
        _post_webhook(destination.secret, alert)
    else:
        _post_bot(destination.secret, destination.channel, alert)
    logger.info(f"Alert posted to Slack: {alert.title}")
    return "slack"


def _post_webhook(url: str, alert: Alert) -> None:
    from slack_sdk.webhook import WebhookClient

    try:
        response = WebhookClient(url, timeout=10).send(text=alert.text(), blocks=alert.blocks())
    except Exception as exc:  # URLError, timeouts: their text can contain the host only
        raise AlertDeliveryError(
            f"Slack webhook unreachable ({type(exc).__name__}); alert not sent: {alert.title}"
        ) from None
    if response.status_code >= 300:
        raise AlertDeliveryError(
            f"Slack webhook answered HTTP {response.status_code}: {str(response.body)[:200]}; "
            f"alert not sent: {alert.title}"
        )


def _post_bot(token: str, channel: str, alert: Alert) -> None:
    from dagster_slack import SlackResource
    from slack_sdk.errors import SlackApiError

    client = SlackResource(token=token).get_client()
    try:
        client.chat_postMessage(channel=channel, text=alert.text(), blocks=alert.blocks())
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        raise AlertDeliveryError(
            f"Slack refused the message to {channel} ({error or 'no error code'}); "
            f"alert not sent: {alert.title}"
        ) from None
    except Exception as exc:
        raise AlertDeliveryError(
            f"Slack API unreachable ({type(exc).__name__}); alert not sent: {alert.title}"
        ) from None


# ------------------------------------------------------------------------- run reports


def run_label(run: DagsterRun) -> str:
    """A name for a run people recognise: the job, or for runs launched from the asset graph
    (``__ASSET_JOB``) the selected assets or checks; plus the backfill id and partitions."""
    parts: list[str] = []
    if run.job_name.startswith(IMPLICIT_ASSET_JOB_PREFIX):
        keys = sorted(key.to_user_string() for key in run.asset_selection or ())
        checks = sorted(
            f"{key.name} on {key.asset_key.to_user_string()}"
            for key in run.asset_check_selection or ()
        )
        if keys:
            parts.append(f"materialize {_summarize(keys)}")
        elif checks:
            parts.append(f"checks {_summarize(checks)}")
        else:
            parts.append("asset run")
    else:
        parts.append(run.job_name)
    tags = run.tags
    if tags.get(BACKFILL_TAG):
        parts.append(f"backfill {tags[BACKFILL_TAG]}")
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        parts.append(f"partitions {start}..{end}" if start != end else f"partition {start}")
    elif tags.get(PARTITION_TAG):
        parts.append(f"partition {tags[PARTITION_TAG]}")
    return ", ".join(parts)


def _summarize(names: list[str]) -> str:
    if len(names) <= LISTED_ASSETS:
        return ", ".join(names)
    groups: dict[str, int] = {}
    for name in names:
        group = name.split("/", 1)[0]
        groups[group] = groups.get(group, 0) + 1
    return f"{len(names)} assets (" + ", ".join(f"{g} {n}" for g, n in groups.items()) + ")"


@dataclass(frozen=True)
class CheckFailure:
    """A failed asset check of a run, with what it means for the run."""

    check: str
    asset: str
    severity: str  # ERROR | WARN
    blocking: bool
    explanation: str

    @property
    def blocks_run(self) -> bool:
        """Dagster fails the check's step and skips downstream assets for these."""
        return self.blocking and self.severity == "ERROR"

    def line(self) -> str:
        kind = "blocking" if self.blocks_run else "warning, not blocking"
        return f"{self.check} on {self.asset} ({kind}): {self.explanation}"


def _metadata_text(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _explanation(evaluation: Any) -> str:
    metadata = dict(evaluation.metadata or {})
    explanation = _metadata_text(metadata, "explanation")
    if explanation:
        return explanation
    if evaluation.description:
        return str(evaluation.description)
    unique_id = _metadata_text(metadata, "unique_id")
    if unique_id:  # a dbt test (dagster-dbt's metadata)
        failing = _metadata_text(metadata, "dagster_dbt/failed_row_count")
        rows = f", {failing} failing rows" if failing else ""
        return f"dbt test {unique_id} {_metadata_text(metadata, 'status') or 'failed'}{rows}"
    return "failed (the check's metadata in the Dagster UI has the details)"


def check_failures(events: Iterable[DagsterEvent]) -> list[CheckFailure]:
    """The failed asset check evaluations among ``events``, blocking ones first."""
    failures = []
    for event in events:
        if event.event_type_value != DagsterEventType.ASSET_CHECK_EVALUATION.value:
            continue
        evaluation = event.event_specific_data
        if evaluation is None or evaluation.passed:
            continue
        failures.append(
            CheckFailure(
                check=evaluation.check_name,
                asset=evaluation.asset_key.to_user_string(),
                severity=evaluation.severity.value,
                blocking=bool(evaluation.blocking),
                explanation=_explanation(evaluation),
            )
        )
    return sorted(failures, key=lambda f: (not f.blocks_run, f.asset, f.check))


def step_errors(events: Iterable[DagsterEvent]) -> list[str]:
    """``step <key> failed: <error>`` for each failed step, the user's error rather than
    Dagster's wrapper; steps failed only by a blocking check are left to ``check_failures``."""
    lines = []
    for event in events:
        if not event.is_step_failure or event.step_failure_data is None:
            continue
        error = event.step_failure_data.error
        while (
            error is not None and error.cause is not None and error.cls_name.startswith("Dagster")
        ):
            error = error.cause
        if error is not None and error.cls_name == "DagsterAssetCheckFailedError":
            continue
        message = f"{error.cls_name}: {_own_message(error)}" if error else "unknown error"
        lines.append(f"step {event.step_key} failed: {_cut(message, ERROR_CHARS)}")
    return lines


def _own_message(error: Any) -> str:
    """The error's message without the ``module.Class: `` prefix Dagster's error info repeats."""
    message = error.message.strip()
    first, _, rest = message.partition(": ")
    if rest and first.endswith(f".{error.cls_name}"):
        return rest.strip()
    return message


def run_alert(
    run: DagsterRun,
    events: Sequence[DagsterEvent],
    *,
    failed: bool,
    failure_message: str | None = None,
) -> Alert | None:
    """The alert for a finished run: a failed run always, a successful one only when checks
    failed (warnings); None for a clean success."""
    failures = check_failures(events)
    errors = step_errors(events)
    if not failed and not failures:
        return None
    blocking = [f for f in failures if f.blocks_run]
    warnings = [f for f in failures if not f.blocks_run]
    label = run_label(run)
    if failed:
        title = f"Ordway run failed: {label}"
    else:
        title = f"Ordway run succeeded with {len(warnings)} check warning(s): {label}"
    lines = [f"run id: {run.run_id}"]
    if blocking:
        lines.append("Blocking checks failed (downstream assets were not updated):")
        lines += [f"- {f.line()}" for f in blocking]
    if warnings:
        lines.append("Checks that warn (not blocking):")
        lines += [f"- {f.line()}" for f in warnings]
    if errors:
        lines.append("Failed steps:")
        lines += [f"- {e}" for e in errors]
    if failed and not blocking and not errors:
        lines.append(f"error: {_cut((failure_message or 'no error message').strip(), ERROR_CHARS)}")
    return Alert(title=title, body="\n".join(lines), link=run_url(run.run_id))
