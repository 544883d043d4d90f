"""The registry's reading rules (pipelines/config/variables.py): one parser per variable, blank
is unset, errors name the variable and never echo a secret."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.config import VARIABLES, ConfigError, duckdb_load_config, raw, required, value


def test_an_unregistered_name_cannot_be_read() -> None:
    with pytest.raises(KeyError, match="NOT_A_SETTING is not a registered variable"):
        value("NOT_A_SETTING", {"NOT_A_SETTING": "x"})


def test_a_variable_only_dbt_reads_has_no_python_reader() -> None:
    with pytest.raises(KeyError, match="DBT_THREADS is read by dbt"):
        value("DBT_THREADS", {"DBT_THREADS": "4"})


def test_unset_and_blank_give_the_default_and_values_are_stripped() -> None:
    assert value("FRESHNESS_HOURS", {}) == 36.0
    assert value("FRESHNESS_HOURS", {"FRESHNESS_HOURS": "   "}) == 36.0
    assert value("FRESHNESS_HOURS", {"FRESHNESS_HOURS": " 12 "}) == 12.0
    assert value("SLACK_CHANNEL", {}) is None


def test_each_value_gets_its_type() -> None:
    env = {
        "ORDWAY_PAGE_SIZE": "20",
        "TIEOUT_TOLERANCE": "0.01",
        "AS_OF_DATE": "2026-03-31",
        "ORDWAY_START_DATE": "2025-01-02T03:04:05+01:00",
        "DUCKDB_PATH": "x/y.duckdb",
        "REPORTING_CURRENCY": "eur",
        "WAREHOUSE": "SnowFlake",
    }
    assert value("ORDWAY_PAGE_SIZE", env) == 20 and isinstance(value("ORDWAY_PAGE_SIZE", env), int)
    assert value("TIEOUT_TOLERANCE", env) == Decimal("0.01")
    assert value("AS_OF_DATE", env) == date(2026, 3, 31)
    assert value("ORDWAY_START_DATE", env) == datetime(2025, 1, 2, 2, 4, 5, tzinfo=UTC)
    assert value("DUCKDB_PATH", env) == Path("x/y.duckdb")
    assert value("REPORTING_CURRENCY", env) == "EUR"
    assert value("WAREHOUSE", env) == "snowflake"


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("FRESHNESS_HOURS", "soon", "FRESHNESS_HOURS='soon' is not a number"),
        ("ROW_COUNT_DROP_PCT", "-1", "ROW_COUNT_DROP_PCT='-1' must be >= 0"),
        ("ORDWAY_MAX_RETRIES", "2.5", "ORDWAY_MAX_RETRIES='2.5' is not an integer"),
        ("TIEOUT_TOLERANCE", "a cent", "TIEOUT_TOLERANCE='a cent' is not an amount"),
        ("TIEOUT_TOLERANCE", "-0.01", "TIEOUT_TOLERANCE='-0.01' must be an amount >= 0"),
        ("ORDWAY_BACKFILL_START", "2020-13-01", "ORDWAY_BACKFILL_START='2020-13-01' is not a date"),
        ("WAREHOUSE", "bigquery", "WAREHOUSE='bigquery' must be 'duckdb' or 'snowflake'"),
        (
            "DAGSTER_WEBSERVER_URL",
            "localhost:3000",
            "DAGSTER_WEBSERVER_URL='localhost:3000' must be the http(s) address of the Dagster UI",
        ),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(
    name: str, given: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        value(name, {name: given})
    assert str(caught.value).startswith(message)


def test_a_secret_that_is_invalid_is_never_echoed() -> None:
    webhook = "ftp://hooks.slack.example/services/T0/B0/sekrit-path-4711"
    with pytest.raises(ConfigError) as caught:
        value("SLACK_WEBHOOK_URL", {"SLACK_WEBHOOK_URL": webhook})
    assert "sekrit" not in str(caught.value) and "SLACK_WEBHOOK_URL" in str(caught.value)
    url = "https://user:sekrit-4711@api.example.test/api/v1"
    with pytest.raises(ConfigError) as caught:
        value("ORDWAY_BASE_URL", {"ORDWAY_BASE_URL": url})
    assert "sekrit" not in str(caught.value) and "ORDWAY_BASE_URL" in str(caught.value)


def test_a_required_variable_that_is_missing_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^ORDWAY_API_KEY is not set \(the company's key\)$"):
        required("ORDWAY_API_KEY", "the company's key", {"ORDWAY_API_KEY": " "})


def test_passwords_keep_their_spaces_and_other_values_do_not() -> None:
    assert raw("SNOWFLAKE_PASSWORD", {"SNOWFLAKE_PASSWORD": " pass word "}) == " pass word "
    assert raw("SNOWFLAKE_USER", {"SNOWFLAKE_USER": " LOADER "}) == "LOADER"


def test_an_empty_duckdb_memory_limit_means_duckdbs_own_default_and_unset_means_256mb() -> None:
    assert duckdb_load_config({}) == {"memory_limit": "256MB"}
    assert duckdb_load_config({"DUCKDB_MEMORY_LIMIT": ""}) == {}
    assert duckdb_load_config({"DUCKDB_MEMORY_LIMIT": "1GB", "DUCKDB_THREADS": "2"}) == {
        "memory_limit": "1GB",
        "threads": "2",
    }


def test_every_secret_is_marked_so_and_every_credential_is_a_secret() -> None:
    secrets = {name for name, variable in VARIABLES.items() if variable.secret}
    assert {
        "ORDWAY_API_KEY",
        "ORDWAY_COMPANY",
        "ORDWAY_USER_EMAIL",
        "ORDWAY_USER_TOKEN",
        "SLACK_WEBHOOK_URL",
        "SLACK_BOT_TOKEN",
        "SNOWFLAKE_PASSWORD",
        "SNOWFLAKE_PRIVATE_KEY",
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
        "DAGSTER_POSTGRES_PASSWORD",
        "WEBHOOK_SECRET",
    } == secrets
