"""WAREHOUSE and the SNOWFLAKE_* settings (pipelines/config/warehouse.py, snowflake.py):
validation, the error messages, secrets kept out of messages and repr.

Keys are generated per test module with `cryptography`; nothing connects to a warehouse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import (
    ConfigError,
    check_warehouse_env,
    snowflake_settings_from_env,
    warehouse_kind,
)
from tests.support.snowflake_keys import BASE, PASSPHRASE, PASSWORD, pem_body


def _error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        snowflake_settings_from_env(env)
    return str(caught.value)


# ------------------------------------------------------------------ WAREHOUSE


def test_warehouse_defaults_to_duckdb_and_accepts_snowflake_in_any_case() -> None:
    assert warehouse_kind({}) == "duckdb"
    assert warehouse_kind({"WAREHOUSE": " "}) == "duckdb"
    assert warehouse_kind({"WAREHOUSE": "SnowFlake"}) == "snowflake"


def test_an_unknown_warehouse_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="WAREHOUSE='bigquery'"):
        warehouse_kind({"WAREHOUSE": "bigquery"})


def test_check_warehouse_env_ignores_snowflake_variables_for_duckdb() -> None:
    assert check_warehouse_env({"WAREHOUSE": "duckdb"}) is None


def test_check_warehouse_env_validates_snowflake_before_anything_runs() -> None:
    with pytest.raises(ConfigError, match="SNOWFLAKE_ACCOUNT is not set"):
        check_warehouse_env({"WAREHOUSE": "snowflake"})


# ------------------------------------------------------------------ required variables


@pytest.mark.parametrize(
    "variable",
    [
        "SNOWFLAKE_ACCOUNT",
        "SNOWFLAKE_USER",
        "SNOWFLAKE_ROLE",
        "SNOWFLAKE_WAREHOUSE",
        "SNOWFLAKE_DATABASE",
    ],
)
def test_each_missing_required_variable_is_named(variable: str) -> None:
    env = {**BASE, "SNOWFLAKE_PASSWORD": PASSWORD}
    del env[variable]
    assert _error(env).startswith(f"{variable} is not set")
    assert _error({**env, variable: "   "}).startswith(f"{variable} is not set")


def test_an_account_url_is_refused_with_a_hint() -> None:
    env = {**BASE, "SNOWFLAKE_PASSWORD": PASSWORD}
    message = _error({**env, "SNOWFLAKE_ACCOUNT": "https://xy123.snowflakecomputing.com"})
    assert "SNOWFLAKE_ACCOUNT must be the account identifier" in message


@pytest.mark.parametrize(
    "variable", ["SNOWFLAKE_ROLE", "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_DATABASE"]
)
def test_a_name_that_is_not_a_plain_identifier_is_refused(variable: str) -> None:
    message = _error({**BASE, "SNOWFLAKE_PASSWORD": PASSWORD, variable: "my db"})
    assert message.startswith(f"{variable}='my db' is not a plain Snowflake identifier")


def test_names_are_upper_cased_as_snowflake_resolves_unquoted_identifiers() -> None:
    settings = snowflake_settings_from_env({**BASE, "SNOWFLAKE_PASSWORD": PASSWORD})
    assert (settings.role, settings.warehouse, settings.database) == (
        "TRANSFORMER",
        "TRANSFORMING",
        "ANALYTICS",
    )


# ------------------------------------------------------------------ credentials


def test_password_is_the_fallback_when_no_key_is_set() -> None:
    settings = snowflake_settings_from_env({**BASE, "SNOWFLAKE_PASSWORD": PASSWORD})
    assert settings.authentication == "password"
    assert settings.password == PASSWORD
    assert settings.private_key is None


def test_no_key_and_no_password_names_all_three_variables() -> None:
    message = _error(dict(BASE))
    for variable in ("SNOWFLAKE_PRIVATE_KEY", "SNOWFLAKE_PRIVATE_KEY_PATH", "SNOWFLAKE_PASSWORD"):
        assert variable in message


def test_a_pem_key_in_the_environment_wins_over_a_password(pem: str) -> None:
    env = {**BASE, "SNOWFLAKE_PRIVATE_KEY": pem, "SNOWFLAKE_PASSWORD": PASSWORD}
    settings = snowflake_settings_from_env(env)
    assert settings.authentication == "key_pair"
    assert settings.password is None
    assert settings.private_key == pem.strip() + "\n"


def test_a_pem_key_with_escaped_newlines_is_accepted(pem: str) -> None:
    escaped = pem.strip().replace("\n", "\\n")
    settings = snowflake_settings_from_env({**BASE, "SNOWFLAKE_PRIVATE_KEY": escaped})
    assert settings.private_key == pem.strip() + "\n"


def test_a_key_file_is_read_and_validated(pem: str, tmp_path: Path) -> None:
    path = tmp_path / "rsa_key.p8"
    path.write_text(pem)
    settings = snowflake_settings_from_env({**BASE, "SNOWFLAKE_PRIVATE_KEY_PATH": str(path)})
    assert settings.private_key_path == path
    assert settings.private_key == pem.strip() + "\n"


def test_an_encrypted_key_needs_its_passphrase(encrypted_pem: str) -> None:
    env = {**BASE, "SNOWFLAKE_PRIVATE_KEY": encrypted_pem}
    assert _error(env) == "SNOWFLAKE_PRIVATE_KEY is encrypted; set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"
    settings = snowflake_settings_from_env({**env, "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE})
    assert settings.private_key_passphrase == PASSPHRASE


def test_a_wrong_passphrase_is_reported_without_the_passphrase(encrypted_pem: str) -> None:
    env = {
        **BASE,
        "SNOWFLAKE_PRIVATE_KEY": encrypted_pem,
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "wrong-Vq55-never-print",
    }
    message = _error(env)
    assert "SNOWFLAKE_PRIVATE_KEY: the private key cannot be loaded" in message
    assert "wrong-Vq55-never-print" not in message
    assert pem_body(encrypted_pem) not in message


def test_text_that_is_not_a_pem_key_is_refused_without_echoing_it() -> None:
    secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-pem"
    message = _error({**BASE, "SNOWFLAKE_PRIVATE_KEY": secret})
    assert message.startswith("SNOWFLAKE_PRIVATE_KEY is not a PEM private key")
    assert secret not in message


def test_a_damaged_pem_key_is_refused(pem: str) -> None:
    lines = pem.strip().splitlines()
    damaged = "\n".join([lines[0], lines[1][::-1], *lines[2:]])
    message = _error({**BASE, "SNOWFLAKE_PRIVATE_KEY": damaged})
    assert "SNOWFLAKE_PRIVATE_KEY: the private key cannot be loaded" in message
    assert lines[1][::-1] not in message


def test_a_missing_key_file_is_named_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.p8"
    message = _error({**BASE, "SNOWFLAKE_PRIVATE_KEY_PATH": str(path)})
    assert message == f"SNOWFLAKE_PRIVATE_KEY_PATH={path}: no such file"


def test_a_key_file_without_a_pem_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "public.pem"
    path.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    message = _error({**BASE, "SNOWFLAKE_PRIVATE_KEY_PATH": str(path)})
    assert message.startswith(f"SNOWFLAKE_PRIVATE_KEY_PATH={path} is not a PEM private key")


def test_both_key_variables_at_once_are_refused(pem: str, tmp_path: Path) -> None:
    path = tmp_path / "rsa_key.p8"
    path.write_text(pem)
    env = {**BASE, "SNOWFLAKE_PRIVATE_KEY": pem, "SNOWFLAKE_PRIVATE_KEY_PATH": str(path)}
    assert "are both set" in _error(env)


def test_a_passphrase_without_a_key_is_refused() -> None:
    env = {**BASE, "SNOWFLAKE_PASSWORD": PASSWORD, "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE}
    message = _error(env)
    assert message.startswith("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is set but neither")
    assert PASSPHRASE not in message and PASSWORD not in message


def test_secrets_never_appear_in_the_settings_repr(encrypted_pem: str) -> None:
    env = {
        **BASE,
        "SNOWFLAKE_PRIVATE_KEY": encrypted_pem,
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": PASSPHRASE,
    }
    settings = snowflake_settings_from_env(env)
    text = repr(settings)
    assert PASSPHRASE not in text and pem_body(encrypted_pem) not in text
    assert "myorg-myaccount" in text
    assert set(settings.secrets()) == {settings.private_key, PASSPHRASE}


# ------------------------------------------------------------------ endpoint


def test_host_port_and_protocol_reach_an_emulator() -> None:
    env = {
        **BASE,
        "SNOWFLAKE_PASSWORD": PASSWORD,
        "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": "8766",
        "SNOWFLAKE_PROTOCOL": "HTTP",
    }
    settings = snowflake_settings_from_env(env)
    assert (settings.host, settings.port, settings.protocol) == ("127.0.0.1", 8766, "http")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"SNOWFLAKE_HOST": "h", "SNOWFLAKE_PORT": "70000"},
            "SNOWFLAKE_PORT='70000' is not a port",
        ),
        ({"SNOWFLAKE_HOST": "h", "SNOWFLAKE_PORT": "http"}, "SNOWFLAKE_PORT='http' is not a port"),
        ({"SNOWFLAKE_HOST": "h", "SNOWFLAKE_PROTOCOL": "ftp"}, "SNOWFLAKE_PROTOCOL='ftp' must be"),
        ({"SNOWFLAKE_HOST": "https://h:443"}, "SNOWFLAKE_HOST='https://h:443' must be a host"),
        ({"SNOWFLAKE_PORT": "443"}, "need SNOWFLAKE_HOST"),
    ],
)
def test_a_malformed_endpoint_names_its_variable(extra: dict[str, str], expected: str) -> None:
    assert expected in _error({**BASE, "SNOWFLAKE_PASSWORD": PASSWORD, **extra})
