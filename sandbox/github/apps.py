"""A GitHub App installed on the emulated repository: JWT-authenticated App endpoints and
installation tokens.

As on github.com, the App authenticates with an RS256 JWT signed by its private key (`iss` its
app id, `exp` at most ten minutes ahead), trades it for an installation token at
POST /app/installations/{id}/access_tokens (optionally narrowed to fewer permissions), and the
REST API and git then accept that token (as the user `<slug>[bot]`, with the installation's
permissions) until it expires an hour later on the emulator's clock. JWTs are checked against
the wall clock, which is the one the client signs them with. Only the App's public key is
held here.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt

from sandbox.github import shapes
from sandbox.github.errors import ApiError, bad_json, not_found
from sandbox.github.models import GitHubUser
from sandbox.github.permissions import AppGrant, narrowed
from sandbox.github.routing import Response

if TYPE_CHECKING:
    from sandbox.github.app import App
    from sandbox.github.state import RepoState

MAX_JWT_SECONDS = 600  # GitHub refuses a JWT that expires more than 10 minutes ahead
CLOCK_SKEW = 60
# What docs/deploy.md asks the App to be granted.
PERMISSIONS = {"contents": "write", "pull_requests": "write", "checks": "read",
               "statuses": "write", "deployments": "write", "metadata": "read"}
EVENTS = ["pull_request", "pull_request_review", "check_run", "check_suite", "status"]
DOCS = "https://docs.github.com/rest/apps/apps"


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, documentation_url=DOCS)


@dataclass(frozen=True)
class _Token:
    expiry: float  # epoch seconds on the emulator's clock
    grant: AppGrant


class AppInstallation:
    def __init__(self, app_id: int, public_key_pem: str, installation_id: int, slug: str,
                 token_ttl_seconds: int, state: RepoState,
                 permissions: dict[str, str] | None = None):
        self.app_id = app_id
        self.public_key = public_key_pem
        self.installation_id = installation_id
        self.slug = slug
        self.token_ttl = token_ttl_seconds
        self.permissions = dict(PERMISSIONS if permissions is None else permissions)
        self.bot = GitHubUser(f"{slug}[bot]", "", slug, type="Bot")
        self._state = state
        self._tokens: dict[str, _Token] = {}
        self.minted = 0  # how many installation tokens were issued
        state.add_user(self.bot)

    # -- tokens ------------------------------------------------------------------------

    def grant(self, token: str) -> AppGrant | None:
        """The grant of one of our installation tokens while it is valid; None when expired or
        not ours."""
        held = self._tokens.get(token)
        if held is None:
            return None
        if self._state.clock.now() >= held.expiry:
            del self._tokens[token]
            return None
        return held.grant

    def _mint(self, permissions: dict[str, str]) -> tuple[str, float]:
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B")[:36]
        expiry = self._state.clock.now() + self.token_ttl
        grant = AppGrant(self.app_id, self.slug, self.installation_id, dict(permissions))
        self._tokens[token] = _Token(expiry, grant)
        self.minted += 1
        return token, expiry

    # -- the JWT -----------------------------------------------------------------------

    def verify_jwt(self, header: str) -> dict[str, Any]:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("A JSON web token could not be decoded")
        try:
            claims = jwt.decode(token.strip(), self.public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"], "verify_iss": False},
                                leeway=CLOCK_SKEW)
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized(
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires") from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthorized("A JSON web token could not be decoded") from exc
        if str(claims["iss"]) != str(self.app_id):
            raise _unauthorized(f"Integration not found for the JWT issuer {claims['iss']!r}")
        if float(claims["exp"]) - time.time() > MAX_JWT_SECONDS + CLOCK_SKEW:
            raise _unauthorized(
                "'Expiration time' claim ('exp') is too far in the future")
        return claims

    # -- routes ------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], app: App,
               body: bytes = b"") -> Response:
        self.verify_jwt(headers.get("authorization", ""))
        prefix = f"/app/installations/{self.installation_id}"
        if method == "GET" and path == "/app":
            return Response(200, self.app_json(app))
        if method == "GET" and path == "/app/installations":
            return Response(200, [self.installation_json(app)])
        if method == "GET" and path in (prefix, f"/repos/{app.urls.owner}/{app.urls.name}"
                                                  "/installation"):
            return Response(200, self.installation_json(app))
        if method == "POST" and path == prefix + "/access_tokens":
            try:
                asked = json.loads(body) if body.strip() else {}
            except ValueError as exc:
                raise bad_json() from exc
            requested = asked.get("permissions") if isinstance(asked, dict) else None
            permissions = narrowed(self.permissions, requested)
            token, expiry = self._mint(permissions)
            expires = datetime.fromtimestamp(expiry, UTC)
            return Response(201, {
                "token": token,
                "expires_at": shapes.iso(expires),
                "permissions": permissions,
                "repository_selection": "selected",
                "repositories": [app.repo_json()],
            })
        raise not_found()

    def app_json(self, app: App) -> dict[str, Any]:
        shaped = shapes.integration(app.urls, self.slug, self.app_id, self.permissions,
                                    self._state.created_at)
        return {**shaped, "events": list(EVENTS), "installations_count": 1}

    def installation_json(self, app: App) -> dict[str, Any]:
        url = f"{app.urls.base}/app/installations/{self.installation_id}"
        return {
            "id": self.installation_id, "account": shapes.owner(app.urls),
            "repository_selection": "selected", "access_tokens_url": url + "/access_tokens",
            "repositories_url": f"{app.urls.base}/installation/repositories",
            "html_url": f"{app.urls.base}/settings/installations/{self.installation_id}",
            "app_id": self.app_id, "app_slug": self.slug, "target_id": 1,
            "target_type": "Organization", "permissions": dict(self.permissions),
            "events": list(EVENTS), "created_at": shapes.iso(self._state.created_at),
            "updated_at": shapes.iso(self._state.created_at), "single_file_name": None,
            "suspended_by": None, "suspended_at": None,
        }
