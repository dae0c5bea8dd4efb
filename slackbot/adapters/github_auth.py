"""A GitHub App installation's token that the bot can renew when GitHub refuses it.

PyGithub's AppInstallationAuth renews the token shortly before the `expires_at` GitHub gave,
judged by this machine's clock. GitHub judges by its own: a clock that drifts, a token
revoked, or an App whose key was rotated leave the bot with a token GitHub answers 401 to.
`RenewableInstallationAuth` keeps PyGithub's way of minting (the App's JWT, POST
.../access_tokens) and adds `renew`: after a 401 the next request, and the next git command,
carry a token minted then. The token itself is never logged.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from github.Auth import AppAuth, AppInstallationAuth
from github.InstallationAuthorization import InstallationAuthorization

RENEW_BEFORE = timedelta(seconds=60)  # mint a new token this long before GitHub's expires_at


class RenewableInstallationAuth(AppInstallationAuth):
    def __init__(self, app_auth: AppAuth, installation_id: int):
        super().__init__(app_auth, installation_id)
        self._lock = threading.Lock()
        self._held: InstallationAuthorization | None = None
        self.minted = 0

    @property
    def token(self) -> str:
        with self._lock:
            held = self._held
            if held is None or held.expires_at - RENEW_BEFORE < datetime.now(UTC):
                held = self._held = self._get_installation_authorization()
                self.minted += 1
            return held.token

    def current(self) -> str | None:
        """The token held now (None before the first request), without minting one."""
        with self._lock:
            return self._held.token if self._held is not None else None

    def renew(self, refused: str | None) -> None:
        """GitHub refused `refused`: the next use mints a new token (unless another thread
        already replaced it)."""
        with self._lock:
            if self._held is not None and (refused is None or self._held.token == refused):
                self._held = None

    def permissions(self) -> dict[str, str]:
        """What the held token may do, as GitHub granted it when minting it."""
        self.token  # noqa: B018 - mints one when none is held
        with self._lock:
            assert self._held is not None
            return {str(k): str(v) for k, v in (self._held.permissions or {}).items()}
