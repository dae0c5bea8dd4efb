"""Routes outside the repository: the authenticated user and other users' profiles.

GET /user names the token's user; an installation token is not a user and gets GitHub's 403
"Resource not accessible by integration". GET /users/{login} knows the emulator's users only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.github.errors import ApiError, not_found
from sandbox.github.permissions import INTEGRATION_DOCS
from sandbox.github.routing import Request, Response, Router

if TYPE_CHECKING:
    from sandbox.github.app import App

router = Router()


@router.route("GET", "/user")
def get_me(app: App, req: Request) -> Response:
    if req.principal.app is not None:
        raise ApiError(403, "Resource not accessible by integration",
                       documentation_url=INTEGRATION_DOCS)
    return Response(200, app.user_json(req.user.login))


@router.route("GET", r"/users/(?P<login>[^/]+)")
def get_user(app: App, req: Request) -> Response:
    if req.params["login"] not in app.state.users:
        raise not_found()
    return Response(200, app.user_json(req.params["login"]))
