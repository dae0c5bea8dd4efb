"""A GitHub App for the emulator's tests: one RSA key pair for the session, and a helper that
trades the App's JWT for an installation token the way PyGithub does."""

from __future__ import annotations

from functools import cache
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth

from sandbox.github import GitHubEmulator


@cache
def key_pair() -> tuple[str, str]:
    """(private PEM, public PEM), made once: RSA key generation is slow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


def mint(emulator: GitHubEmulator, app_id: int, installation: int,
         permissions: dict[str, str] | None = None) -> dict[str, Any]:
    """POST /app/installations/{id}/access_tokens with the App's JWT; the 201 body."""
    jwt = Auth.AppAuth(app_id, key_pair()[0]).create_jwt()
    response = requests.post(
        f"{emulator.url}/app/installations/{installation}/access_tokens",
        json={"permissions": permissions} if permissions else {},
        headers={"Authorization": f"Bearer {jwt}"}, timeout=5)
    assert response.status_code == 201, response.text
    return dict(response.json())
