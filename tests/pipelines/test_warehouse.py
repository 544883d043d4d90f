"""The warehouse as dlt and dbt reach it (pipelines/warehouse.py): the DuckDB file's directory,
dlt's Snowflake destination and credentials, and dbt's Snowflake environment.

Keys are generated per test module with `cryptography`; nothing connects to a warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from dbt.adapters.snowflake.auth import private_key_from_file, private_key_from_string

from pipelines.config import ConfigError, SnowflakeSettings, snowflake_settings_from_env
from pipelines.warehouse import (
    dbt_env,
    dlt_snowflake_credentials,
    dlt_snowflake_destination,
    ensure_duckdb_path,
)
from tests.support.snowflake_keys import BASE, PASSPHRASE, PASSWORD, der

# ------------------------------------------------------------------ DuckDB


def test_duckdb_parent_directory_is_created(tmp_path: Path) -> None:
    path = ensure_duckdb_path(tmp_path / "a" / "b" / "ordway.duckdb")
    assert path.parent.is_dir()


def test_an_unwritable_duckdb_location_fails_before_extraction(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="DUCKDB_PATH"):
        ensure_duckdb_path(blocker / "ordway.duckdb")


# ------------------------------------------------------------------ dlt


@pytest.fixture
def dlt_client(tmp_path: Path, encrypted_pem: str) -> Iterator[tuple[SnowflakeSettings, Any]]:
    env = {
        **BASE,
        "SNOWFLAKE_PRIVATE_KEY": encrypted_pem,
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE,
        "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": "8766",
        "SNOWFLAKE_PROTOCOL": "http",
    }
    settings = snowflake_settings_from_env(env)
    pipeline = dlt.pipeline(
        pipeline_name="warehouse_config",
        destination=dlt_snowflake_destination(settings),
        dataset_name="ordway_raw",
        pipelines_dir=str(tmp_path),
    )
    pipeline.extract(
        dlt.resource(
            [{"id": "INV-1", "updated_date": "2025-01-01T00:00:00Z", "line_items": [{"x": 1}]}],
            name="invoices",
            primary_key="id",
            write_disposition="merge",
            columns={
                "invoice_amount": {"data_type": "decimal", "precision": 38, "scale": 10},
                "updated_date": {"data_type": "timestamp"},
            },
        )
    )
    pipeline.normalize()
    yield settings, pipeline.destination_client()


def test_dlt_connects_with_the_decrypted_key_to_the_configured_endpoint(
    dlt_client: tuple[SnowflakeSettings, Any], key: rsa.RSAPrivateKey
) -> None:
    _, client = dlt_client
    params = client.config.credentials.to_connector_params()
    assert params["account"] == "myorg-myaccount"
    assert params["user"] == "ORDWAY_LOADER"
    assert (params["role"], params["warehouse"], params["database"]) == (
        "TRANSFORMER",
        "TRANSFORMING",
        "ANALYTICS",
    )
    assert (params["host"], int(params["port"]), params["protocol"]) == ("127.0.0.1", 8766, "http")
    assert params["private_key"] == der(key)
    assert "private_key_passphrase" not in params
    assert not params.get("password")


def test_dlt_names_the_raw_and_staging_schemas_in_upper_case(
    dlt_client: tuple[SnowflakeSettings, Any],
) -> None:
    _, client = dlt_client
    sql = client.sql_client
    # The database comes from the connection (SNOWFLAKE_DATABASE), not from the name.
    assert sql.fully_qualified_dataset_name() == '"ORDWAY_RAW"'
    assert sql.make_qualified_table_name("invoices__line_items") == (
        '"ORDWAY_RAW"."INVOICES__LINE_ITEMS"'
    )
    with sql.with_staging_dataset():
        assert sql.fully_qualified_dataset_name() == '"ORDWAY_RAW_STAGING"'


def test_dlt_creates_money_as_number_38_10_and_timestamps_with_time_zone(
    dlt_client: tuple[SnowflakeSettings, Any],
) -> None:
    _, client = dlt_client
    table = client.prepare_load_table("invoices")
    ddl = " ".join(client._get_table_update_sql("invoices", list(table["columns"].values()), False))
    assert '"INVOICE_AMOUNT" NUMBER(38,10)' in ddl
    assert '"UPDATED_DATE" TIMESTAMP_TZ' in ddl
    assert "TIMESTAMP_LTZ" not in ddl and "TIMESTAMP_NTZ" not in ddl


def test_dlt_removes_staged_files_and_tags_its_queries(
    dlt_client: tuple[SnowflakeSettings, Any],
) -> None:
    _, client = dlt_client
    assert client.config.keep_staged_files is False
    assert "{load_id}" in client.config.query_tag


def test_dlt_credentials_carry_a_password_only_without_a_key() -> None:
    settings = snowflake_settings_from_env({**BASE, "SNOWFLAKE_PASSWORD": PASSWORD})
    credentials = dlt_snowflake_credentials(settings)
    assert credentials["password"] == PASSWORD
    assert "private_key" not in credentials and "query" not in credentials


# ------------------------------------------------------------------ dbt


def test_dbt_env_passes_a_key_text_that_dbt_loads(
    encrypted_pem: str, key: rsa.RSAPrivateKey
) -> None:
    escaped = encrypted_pem.strip().replace("\n", "\\n")
    env = {
        **BASE,
        "SNOWFLAKE_PRIVATE_KEY": escaped,
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE,
        "SNOWFLAKE_PASSWORD": PASSWORD,
    }
    result = dbt_env(snowflake_settings_from_env(env))
    assert result["DBT_TARGET"] == "snowflake"
    assert result["SNOWFLAKE_PRIVATE_KEY_PATH"] == "" and result["SNOWFLAKE_PASSWORD"] == ""
    loaded = private_key_from_string(result["SNOWFLAKE_PRIVATE_KEY"], PASSPHRASE)
    assert loaded.private_numbers() == key.private_numbers()


def test_dbt_env_passes_a_key_file_by_path_and_blanks_the_key_text(
    pem: str, tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    path = tmp_path / "rsa_key.p8"
    path.write_text(pem)
    env = {**BASE, "SNOWFLAKE_PRIVATE_KEY_PATH": str(path), "SNOWFLAKE_PASSWORD": PASSWORD}
    result = dbt_env(snowflake_settings_from_env(env))
    assert result["SNOWFLAKE_PRIVATE_KEY"] == "" and result["SNOWFLAKE_PASSWORD"] == ""
    assert private_key_from_file(result["SNOWFLAKE_PRIVATE_KEY_PATH"]).private_numbers() == (
        key.private_numbers()
    )


def test_dbt_env_sets_every_profile_variable_so_the_callers_env_cannot_add_one() -> None:
    result = dbt_env(snowflake_settings_from_env({**BASE, "SNOWFLAKE_PASSWORD": PASSWORD}))
    profile = (Path(__file__).resolve().parents[2] / "dbt_project" / "profiles.yml").read_text()
    for variable in (
        "SNOWFLAKE_ACCOUNT",
        "SNOWFLAKE_USER",
        "SNOWFLAKE_PASSWORD",
        "SNOWFLAKE_PRIVATE_KEY",
        "SNOWFLAKE_PRIVATE_KEY_PATH",
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
        "SNOWFLAKE_ROLE",
        "SNOWFLAKE_WAREHOUSE",
        "SNOWFLAKE_DATABASE",
    ):
        assert f"env_var('{variable}'" in profile
        assert variable in result
    assert result["SNOWFLAKE_PASSWORD"] == PASSWORD
    assert result["SNOWFLAKE_PRIVATE_KEY"] == "" and result["SNOWFLAKE_HOST"] == ""
