"""Request/response values, the route table and GitHub-style pagination for the emulator.

Routes match the raw (percent-encoded) path, then their parameters are unquoted, because
PyGithub quotes some refs with `safe=""` (`commits/heads%2Fdev`) and others keep slashes
(`compare/a/b...c`). Each route names the GitHub App permission it needs ("contents:read";
several mean any one of them). Owns no GitHub semantics; handlers live in the `routes_*`
modules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlencode

from sandbox.github.errors import ApiError, bad_json, field_error, validation_failed
from sandbox.github.models import GitHubUser
from sandbox.github.permissions import Principal

if TYPE_CHECKING:
    from sandbox.github.app import App

T = TypeVar("T")


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    raw_body: bytes
    user: GitHubUser
    base_url: str
    principal: Principal
    _json: Any = None
    _parsed: bool = False

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        if not self._parsed:
            self._parsed = True
            if self.raw_body.strip():
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError as exc:
                    raise bad_json() from exc
        return self._json

    def body(self) -> dict[str, Any]:
        """The JSON body as an object ({} when empty); anything else is a parse problem."""
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise bad_json()
        return data

    def string(
        self, data: dict[str, Any], key: str, resource: str, required: bool = False
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise validation_failed(field_error(resource, key, "missing_field"))
            return None
        if not isinstance(value, str):
            raise validation_failed(field_error(resource, key, "invalid"))
        return value


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    lost: str | None = None  # an injected fault: "drop" the connection or answer "502"


Handler = Callable[["App", Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    needs: tuple[str, ...]  # the App permissions that allow it (any one); () for none


@dataclass(frozen=True)
class Match:
    handler: Handler
    params: dict[str, str]
    needs: tuple[str, ...]


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler,
            needs: tuple[str, ...] = ()) -> None:
        self._routes.append(Route(method, re.compile(f"^{pattern}$"), handler, needs))

    def route(self, method: str, pattern: str,
              needs: str | tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        wanted = (needs,) if isinstance(needs, str) else needs

        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler, wanted)
            return handler

        return register

    def extend(self, other: Router) -> None:
        self._routes.extend(other._routes)

    def match(self, method: str, path: str) -> Match | None:
        lookup = "GET" if method == "HEAD" else method
        for route in self._routes:
            if route.method != lookup:
                continue
            found = route.pattern.match(path)
            if found:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                return Match(route.handler, params, route.needs)
        return None


def paginate(
    req: Request, items: Sequence[T], default: int = 30, maximum: int = 100
) -> tuple[list[T], dict[str, str]]:
    """One page of items and the Link header GitHub would send (PyGithub follows rel="next")."""
    try:
        per_page = min(max(int(req.arg("per_page") or default), 1), maximum)
        page = max(int(req.arg("page") or 1), 1)
    except ValueError as exc:
        raise ApiError(422, "Invalid request.\n\nInvalid page or per_page.") from exc
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = list(items[(page - 1) * per_page : page * per_page])
    links: list[str] = []

    def link(number: int, rel: str) -> str:
        query = {k: v[-1] for k, v in req.query.items()}
        query.update(page=str(number), per_page=str(per_page))
        return f'<{req.base_url}{req.path}?{urlencode(query)}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    return chunk, ({"Link": ", ".join(links)} if links else {})


def listing(req: Request, items: Sequence[Any], default: int = 30) -> Response:
    page, headers = paginate(req, items, default)
    return Response(200, page, headers)
