"""The GitHub emulator: a loopback HTTP server speaking GitHub REST and git smart HTTP.

`GitHubEmulator` serves one repository (`/repos/{owner}/{name}/...`) over a real bare git
repository and `{base}/{owner}/{name}.git` through `git http-backend`, as strict as GitHub:
tokens (user PATs, App installation tokens that expire on the emulator's `clock`), a rate
budget, conditional requests, mergeability computed in the background, branch protection and
rulesets on merges and pushes, collaborator roles, App permissions, injectable faults
(`faults`) and signed webhooks (`webhooks.py`). Every request is answered, errors included,
with GitHub's status and body; nothing a client sends can crash it. It never talks to
anything but 127.0.0.1.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

from sandbox.github import (
    routes_access,
    routes_checks,
    routes_deployments,
    routes_git,
    routes_pulls,
    routes_users,
    shapes,
    webhooks,
)
from sandbox.github.admin import AdminActions
from sandbox.github.app import App
from sandbox.github.apps import AppInstallation
from sandbox.github.clock import Clock, SystemClock
from sandbox.github.faults import Faults
from sandbox.github.gateway import Exchange, Gateway
from sandbox.github.gitserve import HOOK_PATH, GitReply, GitService
from sandbox.github.gitstore import BareRepository
from sandbox.github.handler import handler_for
from sandbox.github.mergeability import DEFAULT_DELAY
from sandbox.github.models import GitHubUser
from sandbox.github.pages import WebPages
from sandbox.github.permissions import Principal
from sandbox.github.ratelimit import RateLimiter
from sandbox.github.routing import Response, Router
from sandbox.github.shapes import Urls
from sandbox.github.state import RepoState
from sandbox.httpserver import BackgroundServer, HttpEmulator

GIT_SERVICES = re.compile(r"^/(info/refs|git-upload-pack|git-receive-pack|HEAD|objects/.+)$")

_root = Router()
_root.extend(routes_users.router)
_repo_router = Router()
for _module in (routes_git, routes_pulls, routes_checks, routes_access, routes_deployments):
    _repo_router.extend(_module.router)


class GitHubEmulator(AdminActions, HttpEmulator):
    """GitHub REST + git smart HTTP over `bare_repo`, as repository `owner/name`.

    `users` each authenticate with their own token and have their own role (`permission`).
    `clock` is the emulator's time (a `ManualClock` in tests); `mergeability_delay` is how long
    `mergeable` stays null after a change. `push_requires_auth` makes pushes need a token (as
    on github.com; by default anonymous loopback pushes are allowed, and bind to no bypass
    list); `private` makes every read need one too. `rate_limit` is the hourly budget per
    token, answered with `rate_limit_status` (403 or 429) once spent. `web_pages` serves the
    `html_url`s as readable pages without a token (pages.py; the sandbox turns it on).
    """

    def __init__(
        self,
        bare_repo: Path,
        owner: str,
        name: str,
        users: list[GitHubUser],
        *,
        push_requires_auth: bool = False,
        private: bool = False,
        rate_limit: int = 5000,
        rate_limit_status: int = 403,
        clock: Clock | None = None,
        mergeability_delay: float = DEFAULT_DELAY,
        port: int = 0,
        web_pages: bool = False,
    ) -> None:
        self.owner = owner
        self.name = name
        self.bare_repo = Path(bare_repo)
        self.push_requires_auth = push_requires_auth or private
        self.private = private
        self.clock: Clock = clock or SystemClock()
        self.state = RepoState(BareRepository(self.bare_repo), owner, list(users), self.clock,
                               mergeability_delay)
        self.faults = Faults(self.clock)
        self.rates = RateLimiter(rate_limit, self.clock, rate_limit_status)
        self._server = BackgroundServer(handler_for(self), port=port)
        self.hooks = webhooks.WebhookSender()
        self.app = App(self.state, Urls(self._server.url, owner, name), self.hooks,
                       self.faults, private)
        self.installation: AppInstallation | None = None
        self.pages = WebPages(self.app) if web_pages else None
        self.gateway = Gateway(self.app, self.rates, _root, _repo_router, self.identify,
                               self._app_endpoints)
        self.git = GitService(self.state, self.bare_repo, self.full_name,
                              lambda: self.app.urls.html, lambda: self.url + HOOK_PATH,
                              private)

    # -- lifecycle ---------------------------------------------------------------------

    def stop(self) -> None:
        super().stop()
        self.hooks.stop()
        self.git.close()

    @property
    def clone_url(self) -> str:
        return self.app.urls.clone

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def mergeability_delay(self) -> float:
        return self.state.mergeability_tracker.delay

    # -- a test's hook on every API request ----------------------------------------------

    @property
    def before_request(self) -> Callable[[str, str], None] | None:
        """Run first on every API request (method, path), outside every lock: it may hold a
        request (a merge in flight when its client dies) or raise ApiError."""
        return self.gateway.before_request

    @before_request.setter
    def before_request(self, hook: Callable[[str, str], None] | None) -> None:
        self.gateway.before_request = hook

    # -- recording, for contract tests ---------------------------------------------------

    @property
    def recording(self) -> bool:
        return self.gateway.recording

    @recording.setter
    def recording(self, on: bool) -> None:
        self.gateway.recording = on

    @property
    def exchanges(self) -> list[Exchange]:
        """Every REST request answered while `recording`, oldest first."""
        return list(self.gateway.exchanges)

    # -- GitHub App and webhooks ----------------------------------------------------------

    def install_app(self, app_id: int, public_key_pem: str, installation_id: int,
                    slug: str = "promotebot", token_ttl_seconds: int = 3600,
                    permissions: dict[str, str] | None = None) -> AppInstallation:
        """Register a GitHub App (its public key verifies the App's JWTs) installed on this
        repository with `permissions` (default: what docs/deploy.md asks for); installation
        tokens act as the user `<slug>[bot]` and expire after `token_ttl_seconds`."""
        with self.state.lock:
            installation = AppInstallation(app_id, public_key_pem, installation_id, slug,
                                           token_ttl_seconds, self.state, permissions)
            self.installation = installation
            self.app.installation_id = installation_id
            self.app.integrations[slug] = shapes.integration(
                self.app.urls, slug, app_id, installation.permissions, self.state.created_at)
            return installation

    def _app_endpoints(self, method: str, path: str, headers: dict[str, str],
                       body: bytes) -> Response | None:
        app_path = path == "/app" or path.startswith("/app/") or path.endswith("/installation")
        if not app_path or self.installation is None:
            return None
        with self.state.lock:
            return self.installation.handle(method, path, headers, self.app, body)

    @property
    def webhook_url(self) -> str | None:
        return self.hooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.hooks.url = url

    @property
    def webhook_secret(self) -> str | None:
        return self.hooks.secret

    @webhook_secret.setter
    def webhook_secret(self, secret: str | None) -> None:
        self.hooks.secret = secret

    @property
    def deliveries(self) -> list[webhooks.Delivery]:
        """Every webhook delivery so far, oldest first, with the receiver's status."""
        return list(self.hooks.deliveries)

    def authenticated_clone_url(self, user: GitHubUser | str) -> str:
        """clone_url with a user's token (or an installation token) as Basic credentials."""
        if isinstance(user, GitHubUser):
            return self.clone_url.replace("://", f"://{user.login}:{user.token}@", 1)
        return self.clone_url.replace("://", f"://x-access-token:{user}@", 1)

    # -- who is calling ------------------------------------------------------------------

    def identify(self, token: str) -> Principal | None:
        """The caller a token names: a user, or an App installation while its token is valid."""
        if not token:
            return None
        with self.state.lock:
            if self.installation is not None:
                grant = self.installation.grant(token)
                if grant is not None:
                    return Principal(self.installation.bot, grant)
            user = self.state.tokens.get(token)
            return Principal(user) if user is not None and user.token else None

    def _git_caller(self, headers: dict[str, str]) -> tuple[Principal | None, bool]:
        """(the caller git's credentials name, whether any were sent)."""
        header = headers.get("authorization", "")
        if not header.strip():
            return None, False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return self.identify(value.strip()), True
        try:
            login, _, secret = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, True
        return self.identify(secret) or self.identify(login), True

    # -- git smart HTTP ------------------------------------------------------------------

    def git_path(self, path: str) -> str | None:
        """The smart-HTTP sub-path (`/info/refs`, ...) when `path` addresses this repository."""
        for repo_path in (f"/{self.owner}/{self.name}.git", f"/{self.owner}/{self.name}"):
            if path.lower().startswith(repo_path.lower() + "/"):
                rest = path[len(repo_path) :]
                if GIT_SERVICES.match(rest):
                    return rest
        return None

    def serve_git(self, method: str, sub: str, query: str, body: bytes,
                  headers: dict[str, str]) -> GitReply:
        outage = self.faults.current_outage()
        if outage is not None:
            return GitReply(outage.status, b"Server Error\n")
        who, sent = self._git_caller(headers)
        pushing = sub == "/git-receive-pack" or "service=git-receive-pack" in query
        needs_auth = self.private or (pushing and self.push_requires_auth)
        reply = self.git.serve(method, sub, query, body, headers, who, sent, needs_auth)
        if method == "POST" and sub == "/git-receive-pack" and reply.status == 200:
            with self.state.lock:
                sender = who.login if who is not None else self.owner
                for update in reply.updates:  # GitHub sends push first, then synchronize
                    webhooks.after_push(self.app, update, sender)
                webhooks.after_observe(self.app, self.state.observe(), sender)
        return reply
