"""GitHub's error answers, as exceptions the route handlers raise and the server renders.

Bodies follow api.github.com: `message`, `documentation_url`, `status` (a string), and for
validation failures an `errors` list. Only shapes live here, no routing or state.

    ApiError(status, body)
      ├── bad_credentials()       401 {"message": "Bad credentials"}
      ├── protected(...)          405 a branch-protection refusal of a merge
      ├── not_found(...)          404 {"message": "Not Found"}
      ├── validation_failed(...)  422 {"message": "Validation Failed", "errors": [...]}
      └── unprocessable(...)      422 {"message": "Unprocessable Entity", "errors": ["..."]}
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"
PROTECTION_DOCS = "https://docs.github.com/articles/about-protected-branches"


class ApiError(Exception):
    """One error answer; `headers` go on the response beside the body (Retry-After, ...)."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        self.body: dict[str, Any] = {
            "message": message,
            **extra,
            "documentation_url": extra.get("documentation_url", DOCS),
            "status": str(status),
        }


def not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, message)


def validation_failed(*errors: dict[str, Any], message: str = "Validation Failed") -> ApiError:
    return ApiError(422, message, errors=list(errors))


def custom_error(resource: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"resource": resource, "code": "custom", "message": message}
    if field:
        error["field"] = field
    return error


def field_error(resource: str, field: str, code: str = "invalid") -> dict[str, Any]:
    return {"resource": resource, "field": field, "code": code}


def unprocessable(*messages: str) -> ApiError:
    return ApiError(422, "Unprocessable Entity", errors=list(messages))


def bad_json() -> ApiError:
    return ApiError(400, "Problems parsing JSON")


def bad_credentials() -> ApiError:
    return ApiError(401, "Bad credentials", documentation_url=DOCS)


def protected(message: str) -> ApiError:
    """A merge refused by branch protection (405, linking GitHub's protected-branch article)."""
    return ApiError(405, message, documentation_url=PROTECTION_DOCS)
