"""The emulator's in-memory records: users, pull requests, reviews, statuses, checks, comments.

Plain mutable dataclasses owned by `RepoState` and only touched under its lock. The git
data (branches, commits) is never copied here: it is read live from the bare repository.
These records hold no JSON shapes and no HTTP concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class GitHubUser:
    """A user of the emulated GitHub; `token` authenticates it (`type` "Bot" for a bot)."""

    login: str
    token: str
    name: str | None = None
    email: str | None = None
    type: str = "User"

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


@dataclass
class Protection:
    """The parts of branch protection the emulator enforces (others are stored and echoed)."""

    required_approving_review_count: int | None = None  # None: no review requirement
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    require_last_push_approval: bool = False
    required_status_checks: list[str] | None = None  # None: no status-check requirement
    strict: bool = False
    enforce_admins: bool = False
    raw: dict[str, object] = field(default_factory=dict)
