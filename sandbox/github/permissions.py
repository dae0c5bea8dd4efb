"""Who may do what on the emulated repository: collaborator roles and GitHub App permissions.

A user's role (admin, maintain, write, triage, read, none) decides whether their review counts
for branch protection, whether they may push, and whether protection applies to them at all
(admins, unless `enforce_admins`). An installation token carries the App's permissions
(`contents: write`, ...); a route needing more answers GitHub's 403 "Resource not accessible by
integration". Pure rules only: the server and the routes apply them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.github.errors import ApiError
from sandbox.github.models import GitHubUser

ROLES = ("none", "read", "triage", "write", "maintain", "admin")
# The ids GitHub gives repository roles in a ruleset's bypass list (actor_type RepositoryRole).
ROLE_IDS = {1: "read", 2: "maintain", 3: "triage", 4: "write", 5: "admin"}
ACCESS = ("none", "read", "write", "admin")
INTEGRATION_DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True)
class AppGrant:
    """The GitHub App behind an installation token, and what the token may do."""

    app_id: int
    slug: str
    installation_id: int
    permissions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user (a person, or an App's `<slug>[bot]`) and, for an
    installation token, the App's grant. None user: an anonymous git client."""

    user: GitHubUser | None
    app: AppGrant | None = None

    @property
    def login(self) -> str:
        return self.user.login if self.user else "anonymous"


def at_least(role: str, wanted: str) -> bool:
    return ROLES.index(role if role in ROLES else "none") >= ROLES.index(wanted)


def legacy_permission(role: str) -> str:
    """The `permission` field of the collaborator-permission endpoint (admin/write/read/none)."""
    return {"admin": "admin", "maintain": "write", "write": "write", "triage": "read",
            "read": "read"}.get(role, "none")


def flags(role: str) -> dict[str, bool]:
    """A collaborator's `permissions` object."""
    return {"admin": at_least(role, "admin"), "maintain": at_least(role, "maintain"),
            "push": at_least(role, "write"), "triage": at_least(role, "triage"),
            "pull": at_least(role, "read")}


def app_role(grant: AppGrant) -> str:
    """An App acts on the repository with write access when it may write contents."""
    level = grant.permissions.get("contents", "none")
    return "write" if level in ("write", "admin") else "read"


def grants(granted: Mapping[str, str], need: str) -> bool:
    """Whether `granted` ({"contents": "write"}) covers `need` ("contents:read")."""
    name, _, level = need.partition(":")
    have = granted.get(name, "none")
    return ACCESS.index(have if have in ACCESS else "none") >= ACCESS.index(level or "read")


def check_app_access(principal: Principal, needs: tuple[str, ...]) -> None:
    """Refuses an installation token lacking every one of `needs` (any one suffices)."""
    if principal.app is None or not needs:
        return
    if any(grants(principal.app.permissions, need) for need in needs):
        return
    accepted = ", ".join(n.replace(":", "=") for n in needs)
    raise ApiError(403, "Resource not accessible by integration",
                   documentation_url=INTEGRATION_DOCS,
                   headers={"x-accepted-github-permissions": accepted})


def narrowed(granted: Mapping[str, str], requested: Any) -> dict[str, str]:
    """The permissions of a token minted with `requested` ({"contents": "read"}): GitHub
    narrows to what is asked and refuses to widen (422); nothing asked (PyGithub sends {}) is
    everything the installation has."""
    if not requested:
        return dict(granted)
    if not isinstance(requested, dict):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/permissions', is not an object.")
    result: dict[str, str] = {}
    for name, level in requested.items():
        if not isinstance(level, str) or level not in ACCESS[1:]:
            raise ApiError(422, f"The permissions requested are not granted to this "
                                f"installation: {name}={level}")
        if not grants(granted, f"{name}:{level}"):
            raise ApiError(422, "The permissions requested are not granted to this "
                                "installation.")
        result[name] = level
    return result
