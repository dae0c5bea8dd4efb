"""The GitHub emulator: a loopback HTTP server speaking GitHub REST and git smart HTTP.

`GitHubEmulator` serves one repository (`/repos/{owner}/{name}/...`) over a real bare git
repository, authenticates every API call by token (`Authorization: token|Bearer <t>`),
sends rate-limit headers, and serves `{base}/{owner}/{name}.git` through `git http-backend`.
Installed as a GitHub App (`install_app`), it verifies the App's RS256 JWTs and mints
installation tokens; with a webhook URL set, it delivers signed webhooks (`webhooks.py`).
Every request is answered, errors included, with GitHub's status and JSON body; nothing a
client sends can crash it. It never talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import base64
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from sandbox.github import routes_checks, routes_git, routes_pulls, webhooks
from sandbox.github.app import App
from sandbox.github.apps import AppInstallation
from sandbox.github.errors import ApiError, bad_credentials, not_found
from sandbox.github.githttp import run_http_backend
from sandbox.github.gitstore import BareRepository
from sandbox.github.models import CheckRun, GitHubUser, Protection
from sandbox.github.routing import Request, Response, Router
from sandbox.github.shapes import Urls
from sandbox.github.state import RepoState, now
from sandbox.httpserver import BackgroundServer, HttpEmulator, QuietHandler

log = logging.getLogger(__name__)
RATE_WINDOW = 3600
GIT_SERVICES = re.compile(r"^/(info/refs|git-upload-pack|git-receive-pack|HEAD|objects/.+)$")


@dataclass
class _Rate:
    used: int
    reset: int


class _RateLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._users: dict[str, _Rate] = {}

    def current(self, login: str) -> _Rate:
        rate = self._users.get(login)
        now = int(time.time())
        if rate is None or now >= rate.reset:
            rate = self._users[login] = _Rate(0, now + RATE_WINDOW)
        return rate

    def headers(self, login: str) -> dict[str, str]:
        rate = self.current(login)
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(self.limit - rate.used, 0)),
            "x-ratelimit-reset": str(rate.reset),
            "x-ratelimit-used": str(rate.used),
            "x-ratelimit-resource": "core",
        }

    def overview(self, login: str) -> dict[str, Any]:
        rate = self.current(login)
        core = {
            "limit": self.limit,
            "used": rate.used,
            "remaining": max(self.limit - rate.used, 0),
            "reset": rate.reset,
        }
        other = {"limit": 30, "used": 0, "remaining": 30, "reset": rate.reset}
        return {"resources": {"core": core, "search": other, "graphql": dict(core)}, "rate": core}


_root = Router()


@_root.route("GET", "/user")
def _get_me(app: App, req: Request) -> Response:
    return Response(200, app.user_json(req.user.login))


@_root.route("GET", r"/users/(?P<login>[^/]+)")
def _get_user(app: App, req: Request) -> Response:
    if req.params["login"] not in app.state.users:
        raise not_found()
    return Response(200, app.user_json(req.params["login"]))


_repo_router = Router()
for _module in (routes_git, routes_pulls, routes_checks):
    _repo_router.extend(_module.router)


class GitHubEmulator(HttpEmulator):
    """GitHub REST + git smart HTTP over `bare_repo`, as repository `owner/name`.

    `users` each authenticate with their own token. `push_requires_auth` makes git pushes
    need HTTP Basic credentials whose password is a user's token (as github.com does); by
    default anyone on loopback may push. `rate_limit` is the per-user hourly budget. `url` is
    the API base URL (PyGithub's base_url).
    """

    def __init__(
        self,
        bare_repo: Path,
        owner: str,
        name: str,
        users: list[GitHubUser],
        *,
        push_requires_auth: bool = False,
        rate_limit: int = 5000,
        port: int = 0,
    ) -> None:
        self.owner = owner
        self.name = name
        self.bare_repo = Path(bare_repo)
        self.push_requires_auth = push_requires_auth
        self.state = RepoState(BareRepository(self.bare_repo), owner, list(users))
        self.rates = _RateLimiter(rate_limit)
        self._server = BackgroundServer(self._handler_class(), port=port)
        self.hooks = webhooks.WebhookSender()
        self.app = App(self.state, Urls(self._server.url, owner, name), self.hooks)
        self.installation: AppInstallation | None = None
        # A test's hook run first on every API request (method, path), outside every lock:
        # it may hold a request (a merge in flight when its client dies) or raise ApiError.
        self.before_request: Callable[[str, str], None] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def stop(self) -> None:
        super().stop()
        self.hooks.stop()

    @property
    def clone_url(self) -> str:
        return self.app.urls.clone

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    # -- GitHub App and webhooks ----------------------------------------------------------

    def install_app(self, app_id: int, public_key_pem: str, installation_id: int,
                    slug: str = "promotebot", token_ttl_seconds: int = 3600) -> AppInstallation:
        """Register a GitHub App (its public key verifies the App's JWTs) installed on this
        repository; installation tokens act as the user `<slug>[bot]`."""
        with self.state.lock:
            installation = AppInstallation(app_id, public_key_pem, installation_id, slug,
                                           token_ttl_seconds, self.state)
            self.installation = installation
            self.app.installation_id = installation_id
            return installation

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

    def _open_heads(self) -> dict[int, str]:
        return {pr.number: self.state.head_sha(pr)
                for pr in self.state.pulls.values() if pr.state == "open"}

    def _synchronized(self, before: dict[int, str], sender: str) -> None:
        """pull_request synchronize for every open pull request whose head moved."""
        for number, old in sorted(before.items()):
            pr = self.state.pulls[number]
            new = self.state.head_sha(pr)
            if pr.state == "open" and new and new != old:
                self.app.emit("pull_request", partial(
                    webhooks.pull_request, self.app, pr, "synchronize", sender,
                    before=old, after=new))

    def authenticated_clone_url(self, user: GitHubUser) -> str:
        """clone_url with the user's token as Basic credentials (for `push_requires_auth`)."""
        return self.clone_url.replace("://", f"://{user.login}:{user.token}@", 1)

    # -- acting as CI and as an admin, in process ---------------------------------------

    def set_check(
        self, sha: str, name: str, conclusion: str | None = "success", status: str = "completed"
    ) -> int:
        """Creates a check run on a commit (conclusion None: still running); returns its id."""
        with self.state.lock:
            full = self.state.repo.resolve(sha)
            if full is None:
                raise ValueError(f"unknown commit {sha}")
            stamp = now()
            run = CheckRun(
                self.state.next_id(),
                full,
                name,
                "completed" if conclusion else status,
                conclusion,
                None,
                None,
                stamp,
                stamp if conclusion else None,
                {},
                "sandbox-ci",
            )
            self.state.check_runs[run.id] = run
            webhooks.after_check(self.app, run, created=True, was_completed=False)
            return run.id

    def set_status(
        self, sha: str, context: str, state: str, description: str | None = None
    ) -> None:
        """Posts a commit status (error | failure | pending | success) as the CI would."""
        if state not in routes_checks.STATUS_STATES:
            raise ValueError(f"bad status state {state}")
        with self.state.lock:
            full = self.state.repo.resolve(sha)
            if full is None:
                raise ValueError(f"unknown commit {sha}")
            routes_checks.add_status(
                self.app, full, state, context, description, None, "sandbox-ci"
            )

    def protect_branch(
        self,
        branch: str,
        *,
        required_approving_review_count: int | None = None,
        required_status_checks: list[str] | None = None,
        strict: bool = False,
        dismiss_stale_reviews: bool = False,
    ) -> None:
        """Branch protection as PUT .../branches/{b}/protection would set it."""
        with self.state.lock:
            self.state.protections[branch] = Protection(
                required_approving_review_count=required_approving_review_count,
                required_status_checks=list(required_status_checks)
                if required_status_checks is not None
                else None,
                strict=strict,
                dismiss_stale_reviews=dismiss_stale_reviews,
            )

    def unprotect_branch(self, branch: str) -> None:
        with self.state.lock:
            self.state.protections.pop(branch, None)

    def pull_request(self, number: int) -> dict[str, Any]:
        """The pull request's JSON as GET /pulls/{n} returns it."""
        with self.state.lock:
            return self.app.pull_json(self.app.pull(str(number)), detail=True)

    # -- HTTP --------------------------------------------------------------------------

    def _handler_class(self) -> type[QuietHandler]:
        emulator = self

        class Handler(_Handler):
            owner: ClassVar[GitHubEmulator] = emulator

        return Handler

    def handle_api(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Response:
        if self.before_request is not None:
            try:
                self.before_request(method, path)
            except ApiError as exc:
                return _error(exc)
        app_path = path == "/app" or path.startswith("/app/") or path.endswith("/installation")
        if app_path and self.installation is not None:
            try:
                with self.state.lock:
                    return self.installation.handle(method, path, headers, self.app)
            except ApiError as exc:
                return _error(exc)
        user = self._authenticate(headers.get("authorization", ""))
        if user is None:
            return _error(bad_credentials())
        if path == "/rate_limit":
            return Response(200, self.rates.overview(user.login), self.rates.headers(user.login))
        rate = self.rates.current(user.login)
        if rate.used >= self.rates.limit:
            error = ApiError(
                403,
                f"API rate limit exceeded for user ID {user.login}.",
                documentation_url="https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            )
            return Response(403, error.body, self.rates.headers(user.login))
        rate.used += 1
        response = self._route(method, path, query, body, user)
        response.headers.update(self.rates.headers(user.login))
        return response

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, user: GitHubUser
    ) -> Response:
        prefix = f"/repos/{self.owner}/{self.name}"
        if path.lower() == prefix.lower() or path.lower().startswith(prefix.lower() + "/"):
            found = _repo_router.match(method, path[len(prefix) :])
        else:
            found = _root.match(method, path)
        if found is None:
            return _error(not_found())
        handler, params = found
        req = Request(method, path, params, query, body, user, self.url)
        try:
            with self.state.lock:
                watching = method not in ("GET", "HEAD") and self.hooks.enabled
                before = self._open_heads() if watching else {}
                response = handler(self.app, req)
                if watching:
                    self._synchronized(before, user.login)
                return response
        except ApiError as exc:
            return _error(exc)

    def _authenticate(self, header: str) -> GitHubUser | None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.strip():
            return None
        if self.installation is not None and not self.installation.token_valid(token.strip()):
            return None
        return self.state.tokens.get(token.strip())

    def git_user(self, headers: dict[str, str]) -> GitHubUser | None:
        header = headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return self.state.tokens.get(secret) or self.state.tokens.get(login)
        return self._authenticate(header)

    def git_path(self, path: str) -> str | None:
        """The smart-HTTP sub-path (`/info/refs`, ...) when `path` addresses this repository."""
        for repo_path in (f"/{self.owner}/{self.name}.git", f"/{self.owner}/{self.name}"):
            if path.lower().startswith(repo_path.lower() + "/"):
                rest = path[len(repo_path) :]
                if GIT_SERVICES.match(rest):
                    return rest
        return None


def _error(exc: ApiError) -> Response:
    return Response(exc.status, exc.body)


class _Handler(QuietHandler):
    owner: ClassVar[GitHubEmulator]

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_request_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.read_body()

    def _dispatch(self) -> None:
        emulator = self.owner
        request_id = uuid.uuid4().hex[:16].upper()
        try:
            body = self._read_request_body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            split = urlsplit(self.path)
            git_sub = emulator.git_path(split.path)
            if git_sub is not None:
                self._serve_git(git_sub, split.query, body, headers)
                return
            response = emulator.handle_api(self.command, split.path, self.query, body, headers)
        except Exception:  # never crash: one request's failure is that request's 500
            log.exception(
                "github emulator: %s %s failed (request %s)",
                self.command,
                self.path_only,
                request_id,
            )
            response = Response(
                500,
                {
                    "message": "Server Error",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "500",
                },
            )
        response.headers.setdefault("x-github-request-id", request_id)
        response.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        if response.status == 204 or response.body is None:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_json(response.status, response.body, response.headers)

    def _serve_git(self, sub: str, query: str, body: bytes, headers: dict[str, str]) -> None:
        emulator = self.owner
        pushing = sub == "/git-receive-pack" or "service=git-receive-pack" in query
        user = emulator.git_user(headers)
        if pushing and emulator.push_requires_auth and user is None:
            message = (
                b"Invalid username or token. "
                b"Password authentication is not supported for Git operations.\n"
            )
            self.send_bytes(
                401, message, "text/plain", {"WWW-Authenticate": 'Basic realm="GitHub"'}
            )
            return
        watching = pushing and sub == "/git-receive-pack" and emulator.hooks.enabled
        if watching:
            with emulator.state.lock:
                before = emulator._open_heads()
        result = run_http_backend(
            emulator.bare_repo,
            self.command,
            sub,
            query,
            body,
            headers,
            user.login if user else "anonymous",
        )
        if watching:
            with emulator.state.lock:
                emulator._synchronized(before, user.login if user else emulator.owner)
        content_type = "application/octet-stream"
        extra: dict[str, str] = {}
        for key, value in result.headers:
            if key.lower() == "content-type":
                content_type = value
            elif key.lower() not in ("content-length", "transfer-encoding"):
                extra[key] = value
        self.send_bytes(result.status, result.body, content_type, extra)
