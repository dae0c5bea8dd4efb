"""The path of one REST request through the emulated GitHub, in GitHub's order.

An outage answers 5xx first; App endpoints check the App's JWT; every other call needs a valid
token (401 "Bad credentials" otherwise, an expired installation token included). Then the
secondary rate limit (403/429 with Retry-After), the primary budget (403/429 with
x-ratelimit-remaining 0), the route (404), the App's permissions (403 "Resource not accessible
by integration"), the handler under the repository lock, a lost answer if one was injected,
and ETag / Last-Modified with 304 for a matching conditional GET, which spends nothing. Every
answer carries GitHub's rate-limit headers, and X-OAuth-Scopes for a personal access token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.github import webhooks
from sandbox.github.app import App
from sandbox.github.conditional import Validators
from sandbox.github.errors import ApiError, bad_credentials, not_found
from sandbox.github.models import user_id
from sandbox.github.permissions import Principal, check_app_access
from sandbox.github.ratelimit import Budget, RateLimiter
from sandbox.github.routing import Request, Response, Router

READS = ("GET", "HEAD")


@dataclass
class Exchange:
    """One answered request, kept when recording (the contract tests read them)."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    body: Any
    headers: dict[str, str]


def error_response(exc: ApiError) -> Response:
    return Response(exc.status, exc.body, dict(exc.headers))


class Gateway:
    def __init__(self, app: App, rates: RateLimiter, root: Router, repo_routes: Router,
                 identify: Callable[[str], Principal | None],
                 app_endpoints: Callable[[str, str, dict[str, str], bytes], Response | None]
                 ) -> None:
        self.app = app
        self.rates = rates
        self.validators = Validators(app.state.clock)
        self._root = root
        self._repo_routes = repo_routes
        self._identify = identify
        self._app_endpoints = app_endpoints
        self.recording = False
        self.exchanges: list[Exchange] = []
        # A test's hook run first on every API request (method, path), outside every lock:
        # it may hold a request (a merge in flight when its client dies) or raise ApiError.
        self.before_request: Callable[[str, str], None] | None = None

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
               headers: dict[str, str], request_id: str) -> Response:
        response = self._handle(method, path, query, body, headers, request_id)
        if self.recording:
            self.exchanges.append(Exchange(method, path, query, response.status, response.body,
                                           dict(response.headers)))
        return response

    def _handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                headers: dict[str, str], request_id: str) -> Response:
        if self.before_request is not None:
            try:
                self.before_request(method, path)
            except ApiError as exc:
                return error_response(exc)
        faults = self.app.faults
        outage = faults.current_outage()
        if outage is not None:
            return Response(outage.status, {"message": "Server Error",
                                            "documentation_url": "https://docs.github.com/rest"})
        try:
            answered = self._app_endpoints(method, path, headers, body)
        except ApiError as exc:
            return error_response(exc)
        if answered is not None:
            return answered
        principal = self._identify(_token(headers.get("authorization", "")))
        if principal is None or principal.user is None:
            return error_response(bad_credentials())
        secondary = faults.current_secondary()
        if secondary is not None:
            return Response(secondary.status, faults.secondary_body(request_id),
                            {"retry-after": faults.retry_after(secondary)})
        budget = _budget(principal)
        if path == "/rate_limit":
            return self._finish(Response(200, self.rates.overview(budget)), principal, budget,
                                spent=False)
        refusal = self.rates.exhausted(budget, request_id)
        if refusal is not None:
            return error_response(refusal)
        response = self._route(method, path, query, body, principal)
        loss = faults.take_loss(method, path) if response.status < 400 else None
        if loss is not None:
            response.lost = loss
        spent = True
        if method in READS and response.status == 200:
            key = path + "?" + "&".join(f"{k}={v[-1]}" for k, v in sorted(query.items()))
            etag, modified = self.validators.validators(principal.login, key, response.body)
            response.headers.update(self.validators.headers(etag, modified))
            if self.validators.not_modified(headers, etag, modified):
                response = Response(304, None, response.headers)
                spent = False
        return self._finish(response, principal, budget, spent)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
               principal: Principal) -> Response:
        urls = self.app.urls
        prefix = f"/repos/{urls.owner}/{urls.name}"
        if path.lower() == prefix.lower() or path.lower().startswith(prefix.lower() + "/"):
            found = self._repo_routes.match(method, path[len(prefix):])
        else:
            found = self._root.match(method, path)
        if found is None:
            return error_response(not_found())
        assert principal.user is not None
        req = Request(method, path, found.params, query, body, principal.user,
                      urls.base, principal)
        state = self.app.state
        writing = method not in READS
        try:
            with state.lock:
                check_app_access(principal, found.needs)
                if writing or "/pulls" in path:
                    # Catch up on branch moves made behind the API's back (a push straight
                    # into the bare repository) before anything about pull requests is read.
                    webhooks.after_observe(self.app, state.observe(), principal.login)
                response = found.handler(self.app, req)
                if writing:
                    webhooks.after_observe(self.app, state.observe(), principal.login)
                return response
        except ApiError as exc:
            return error_response(exc)

    def _finish(self, response: Response, principal: Principal, budget: Budget,
                spent: bool) -> Response:
        if spent:
            self.rates.spend(budget)
        response.headers.update(self.rates.headers(budget))
        if principal.app is None and principal.user is not None:
            response.headers["X-OAuth-Scopes"] = ", ".join(principal.user.scopes)
            response.headers["X-Accepted-OAuth-Scopes"] = "repo"
        return response


def _token(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return ""
    return token.strip()


def _budget(principal: Principal) -> Budget:
    if principal.app is not None:
        return Budget(f"installation:{principal.app.installation_id}", "installation",
                      principal.app.installation_id)
    login = principal.login
    return Budget(f"user:{login}", "user", user_id(login))
