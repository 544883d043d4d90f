"""Snowflake settings for configuration tests: a complete set of SNOWFLAKE_* variables and
generated RSA keys (PEM, encrypted PEM, DER); nothing connects to a warehouse."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PASSWORD = "pw-Zq81-never-print"
PASSPHRASE = "phrase-Kx72-never-print"
BASE = {
    "WAREHOUSE": "snowflake",
    "SNOWFLAKE_ACCOUNT": "myorg-myaccount",
    "SNOWFLAKE_USER": "ORDWAY_LOADER",
    "SNOWFLAKE_ROLE": "transformer",
    "SNOWFLAKE_WAREHOUSE": "transforming",
    "SNOWFLAKE_DATABASE": "analytics",
}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_text(key: rsa.RSAPrivateKey, passphrase: str | None = None) -> str:
    """The key as PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_body(text: str) -> str:
    """The base64 body of a PEM key: a fragment that must never appear in a message."""
    return text.splitlines()[1]
