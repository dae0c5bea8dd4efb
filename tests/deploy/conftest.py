"""Fixtures of the deployment tests: the full values file and a real GitHub App key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FULL_VALUES = Path(__file__).with_name("values-full.yaml")


@pytest.fixture
def full_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(FULL_VALUES.read_text())
    return values


@pytest.fixture(scope="session")
def app_private_key() -> str:
    """A PEM RSA key as GitHub hands a GitHub App's private key out."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
