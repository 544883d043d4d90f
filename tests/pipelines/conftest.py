"""Fixtures shared by the tests of pipelines/ (keys for the Snowflake settings; the helpers are in
``tests/support/snowflake_keys.py``)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.snowflake_keys import PASSPHRASE, new_key, pem_text


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def pem(key: rsa.RSAPrivateKey) -> str:
    return pem_text(key)


@pytest.fixture(scope="module")
def encrypted_pem(key: rsa.RSAPrivateKey) -> str:
    return pem_text(key, PASSPHRASE)
