"""The Ordway source's settings (pipelines/config/ordway.py): defaults, validation, the
collections chosen, the company fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.config import ConfigError, OrdwaySettings
from pipelines.ordway.contract import COLLECTIONS

CREDENTIALS = {
    "ORDWAY_API_KEY": "k",
    "ORDWAY_COMPANY": "c",
    "ORDWAY_USER_EMAIL": "e@x.test",
    "ORDWAY_USER_TOKEN": "t",
}


def test_defaults_match_the_documented_values() -> None:
    settings = OrdwaySettings.from_env(CREDENTIALS)
    assert settings.base_url == "https://api.ordwaylabs.com/api/v1"
    assert settings.page_size == 50
    assert settings.page_size_for(COLLECTIONS["revenue_schedules"]) == 500
    assert settings.lookback_seconds == 7200
    assert settings.max_rps == 2
    assert settings.timeout_seconds == 30
    assert settings.max_retries == 6
    assert settings.max_pages == 20000
    assert settings.start_date == datetime(2000, 1, 1, tzinfo=UTC)
    assert settings.warehouse == "duckdb"
    assert settings.duckdb_path == Path("data/ordway.duckdb")
    assert settings.pipelines_dir == Path("data/dlt")


@pytest.mark.parametrize("missing", sorted(CREDENTIALS))
def test_a_missing_credential_is_named_before_any_request(missing: str) -> None:
    env = {k: v for k, v in CREDENTIALS.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        OrdwaySettings.from_env(env)


def test_environment_selects_the_sandbox_host_and_base_url_wins() -> None:
    sandbox = OrdwaySettings.from_env({**CREDENTIALS, "ORDWAY_ENVIRONMENT": "sandbox"})
    assert sandbox.base_url == "https://sandbox.ordwaylabs.com/api/v1"
    both = OrdwaySettings.from_env(
        {**CREDENTIALS, "ORDWAY_ENVIRONMENT": "sandbox", "ORDWAY_BASE_URL": "http://h:1/api/v1/"}
    )
    assert both.base_url == "http://h:1/api/v1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORDWAY_ENVIRONMENT", "prod"),
        ("ORDWAY_BASE_URL", "ftp://api.ordwaylabs.com/api/v1"),
        ("ORDWAY_BASE_URL", "https:///api/v1"),
        ("ORDWAY_LOOKBACK_HOURS", "-1"),
        ("ORDWAY_PAGE_SIZE", "0"),
        ("ORDWAY_MAX_RPS", "fast"),
        ("ORDWAY_START_DATE", "yesterday"),
        ("WAREHOUSE", "bigquery"),
    ],
)
def test_invalid_values_are_rejected_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        OrdwaySettings.from_env({**CREDENTIALS, name: value})


def test_settings_repr_hides_credentials() -> None:
    settings = OrdwaySettings.from_env({**CREDENTIALS, "ORDWAY_USER_TOKEN": "sekrit-token"})
    assert "sekrit-token" not in repr(settings)


def test_every_collection_is_extracted_unless_the_collection_settings_choose() -> None:
    assert OrdwaySettings.from_env(CREDENTIALS).collections == tuple(COLLECTIONS)
    chosen = OrdwaySettings.from_env(
        {**CREDENTIALS, "ORDWAY_COLLECTIONS": " customers, invoices ,payments,"}
    )
    assert chosen.collections == ("invoices", "payments", "customers")  # in COLLECTIONS order
    both = OrdwaySettings.from_env(
        {
            **CREDENTIALS,
            "ORDWAY_COLLECTIONS": "invoices,payments,customers",
            "ORDWAY_SKIP_COLLECTIONS": "payments",
        }
    )
    assert both.collections == ("invoices", "customers")
    skipping = OrdwaySettings.from_env(
        {**CREDENTIALS, "ORDWAY_SKIP_COLLECTIONS": "usages,revenue_schedules"}
    )
    assert skipping.collections == tuple(
        n for n in COLLECTIONS if n not in ("usages", "revenue_schedules")
    )
    assert skipping.enabled(["usages", "invoices", "revenue_schedules"]) == ("invoices",)


@pytest.mark.parametrize("name", ["ORDWAY_COLLECTIONS", "ORDWAY_SKIP_COLLECTIONS"])
def test_an_unknown_collection_name_is_refused_naming_the_variable_and_the_known_names(
    name: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        OrdwaySettings.from_env({**CREDENTIALS, name: "invoices,quotes"})
    message = str(info.value)
    assert name in message and "quotes" in message
    assert all(known in message for known in COLLECTIONS)


def test_settings_that_leave_no_collection_are_refused() -> None:
    with pytest.raises(ConfigError, match="ORDWAY_SKIP_COLLECTIONS"):
        OrdwaySettings.from_env(
            {**CREDENTIALS, "ORDWAY_COLLECTIONS": "usages", "ORDWAY_SKIP_COLLECTIONS": "usages"}
        )


def test_the_company_fingerprint_ignores_case_and_spacing_but_not_the_api_host() -> None:
    def fingerprint(company: str, **env: str) -> str:
        settings = OrdwaySettings.from_env({**CREDENTIALS, "ORDWAY_COMPANY": company, **env})
        return settings.company_fingerprint

    base = fingerprint("Acme Corp")
    assert fingerprint("  acme   CORP ") == base
    assert fingerprint("Acme Corp", ORDWAY_BASE_URL="https://API.ordwaylabs.com:443/api/v1") == base
    assert fingerprint("Acme Corporation") != base
    assert fingerprint("Acme Corp", ORDWAY_ENVIRONMENT="sandbox") != base
    assert "acme" not in base.lower() and len(base) == 64
