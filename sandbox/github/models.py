"""The emulator's in-memory records: users, pull requests, reviews, statuses, checks, comments.

Plain mutable dataclasses owned by `RepoState` and only touched under its lock. The git
data (branches, commits) is never copied here: it is read live from the bare repository.
These records hold no JSON shapes and no HTTP concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def user_id(login: str) -> int:
    """A stable numeric id for a login (GitHub's user ids are numbers)."""
    return 1000 + sum((i + 1) * ord(c) for i, c in enumerate(login)) % 1_000_000


@dataclass(frozen=True)
class GitHubUser:
    """A user of the emulated GitHub; `token` (a classic personal access token with `scopes`)
    authenticates it, `type` is "Bot" for a bot. `permission` is the user's role on the
    repository: admin, maintain, write, triage, read or none."""

    login: str
    token: str
    name: str | None = None
    email: str | None = None
    type: str = "User"
    permission: str = "write"
    scopes: tuple[str, ...] = ("repo",)

    @property
    def commit_email(self) -> str:
        return self.email or f"{self.login}@users.noreply.github.com"


@dataclass
class Review:
    id: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | PENDING | DISMISSED
    body: str
    commit_id: str
    submitted_at: datetime | None


@dataclass
class PullRequest:
    number: int
    id: int
    title: str
    body: str | None
    user: str
    base: str
    head: str
    draft: bool
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    # Frozen once closed, so a closed PR keeps the heads it had (GitHub does the same).
    closed_head_sha: str | None = None
    closed_base_sha: str | None = None
    reviews: list[Review] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    comments: list[IssueComment] = field(default_factory=list)

    @property
    def merged(self) -> bool:
        return self.merged_at is not None


@dataclass
class IssueComment:
    id: int
    issue_number: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class CommitStatus:
    id: int
    sha: str
    state: str  # error | failure | pending | success
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime
    updated_at: datetime


@dataclass
class CheckRun:
    id: int
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    details_url: str | None
    external_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    output: dict[str, object]
    creator: str


@dataclass(frozen=True)
class Actors:
    """Users (logins), teams (slugs) and GitHub Apps (slugs), as protection lists name them."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()


@dataclass
class Protection:
    """Classic branch protection: what the emulator enforces on merges and pushes (the rest of
    a PUT body is kept in `raw` and echoed)."""

    required_approving_review_count: int | None = None  # None: no pull request required
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    require_last_push_approval: bool = False
    required_status_checks: list[str] | None = None  # None: no status-check requirement
    strict: bool = False
    enforce_admins: bool = False
    restrictions: Actors | None = None  # None: everyone with write access may push
    bypass_pull_request_allowances: Actors = field(default_factory=Actors)
    allow_force_pushes: bool = False
    allow_deletions: bool = False
    raw: dict[str, object] = field(default_factory=dict)


@dataclass
class Team:
    id: int
    slug: str
    members: tuple[str, ...]
    permission: str = "push"


@dataclass(frozen=True)
class BypassActor:
    """A ruleset's exception: `actor_type` Integration (a GitHub App id), RepositoryRole (a
    role id, `permissions.ROLE_IDS`), Team (a team id), User (a user id) or OrganizationAdmin;
    `bypass_mode` always, or pull_request (only when merging a pull request)."""

    actor_id: int | None
    actor_type: str
    bypass_mode: str = "always"


@dataclass
class Ruleset:
    """A repository ruleset targeting branches: `include`/`exclude` are ref name patterns
    (refs/heads/prod, refs/heads/release/*, ~DEFAULT_BRANCH, ~ALL); `rules` are GitHub's rule
    objects ({"type": "pull_request", "parameters": {...}}, ...)."""

    id: int
    name: str
    enforcement: str  # active | disabled | evaluate
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    rules: list[dict[str, Any]]
    bypass_actors: tuple[BypassActor, ...]
    created_at: datetime
    updated_at: datetime


@dataclass
class DeploymentStatus:
    """One status of a Deployment (routes_deployments.py)."""


    id: int
    state: str
    description: str
    environment: str
    log_url: str
    environment_url: str
    creator: str
    created_at: datetime


@dataclass
class Deployment:
    """A Deployment of a commit to an environment, with its statuses, oldest first."""


    id: int
    sha: str
    ref: str
    task: str
    payload: dict[str, Any] | str
    environment: str
    description: str | None
    creator: str
    created_at: datetime
    transient: bool
    production: bool
    statuses: list[DeploymentStatus] = field(default_factory=list)
