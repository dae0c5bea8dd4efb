"""The small interfaces the engine talks through, and the values that cross them.

Adapters (GitHub via PyGithub, git via GitPython, Flux via the kubernetes client, Slack in
handlers/) implement these; the engine's tests use fakes of our own. Nothing here imports an
SDK: the values are plain frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from slackbot.models import Event, Promotion
from slackbot.pipeline import FluxRef

# -- forge (GitHub) --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str
    author: str


@dataclass(frozen=True)
class Comparison:
    ahead_by: int
    behind_by: int
    commits: tuple[CommitInfo, ...]
    files: tuple[str, ...]


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    base: str
    head: str
    head_sha: str
    state: str  # "open" | "closed"
    merged: bool
    mergeable: bool | None
    body: str = ""
    author: str = ""
    merge_sha: str | None = None


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_sha: str


class Forge(Protocol):
    def branch_head(self, repo: str, branch: str) -> str: ...
    def compare(self, repo: str, base: str, head: str) -> Comparison: ...
    def find_open_pull(self, repo: str, base: str, head: str) -> PullRequest | None: ...
    def open_pull(self, repo: str, base: str, head: str, title: str, body: str) -> PullRequest: ...
    def get_pull(self, repo: str, number: int) -> PullRequest: ...
    def update_pull_body(self, repo: str, number: int, body: str) -> None: ...
    def check_states(self, repo: str, sha: str) -> dict[str, str]:
        """Every check and status context on the commit: name -> success|failure|pending."""
        ...
    def reviews(self, repo: str, number: int) -> list[Review]: ...
    def merge_pull(self, repo: str, number: int, sha: str, title: str) -> str:
        """Merge exactly `sha` (the sha guard); the merge commit's sha. Raises HeadMoved,
        MergeConflict or NotMergeable."""
        ...
    def comment(self, repo: str, number: int, body: str) -> None: ...
    def branch_exists(self, repo: str, branch: str) -> bool: ...
    def create_branch(self, repo: str, branch: str, sha: str) -> None: ...
    def merge_branch(self, repo: str, base: str, head: str, message: str) -> str | None:
        """Merge `head` into `base` on the server: the merge commit's sha, None when there was
        nothing to merge; MergeConflict when it does not apply cleanly."""
        ...


# -- cluster (Flux and Kubernetes) -----------------------------------------------------------


@dataclass(frozen=True)
class KustomizationStatus:
    ref: FluxRef
    ready: str  # "True" | "False" | "Unknown" (no Ready condition: "Unknown")
    reason: str
    message: str
    last_applied_revision: str | None
    last_attempted_revision: str | None
    suspended: bool
    reconciling: bool
    generation: int
    observed_generation: int
    last_handled_reconcile_at: str | None
    depends_on: tuple[FluxRef, ...] = ()

    @property
    def is_ready(self) -> bool:
        return self.ready == "True" and self.observed_generation >= self.generation

    @property
    def settled(self) -> bool:
        """Ready, or only re-running its periodic reconcile of what it last applied (Flux sets
        Ready=Unknown, reason Progressing, at the start of every reconcile): healthy either way.
        Not settled while a spec change, a new revision or a failure is in play."""
        return self.is_ready or (
            self.ready == "Unknown"
            and self.reason == "Progressing"
            and self.last_applied_revision is not None
            and self.last_attempted_revision == self.last_applied_revision
            and self.observed_generation >= self.generation
        )


@dataclass(frozen=True)
class Rollout:
    """A Deployment's rollout, judged as `kubectl rollout status` does."""

    name: str
    namespace: str
    desired: int
    updated: int
    ready: int
    available: int
    complete: bool
    failed: bool
    message: str


class Cluster(Protocol):
    def kustomization(self, ref: FluxRef) -> KustomizationStatus: ...
    def source_revision(self, ref: FluxRef) -> str | None: ...
    def request_reconcile(self, kustomization: FluxRef, source: FluxRef, token: str) -> None:
        """As `flux reconcile kustomization --with-source`: annotate the source, then the
        Kustomization, with reconcile.fluxcd.io/requestedAt = token."""
        ...
    def rollout(self, namespace: str, deployment: str) -> Rollout: ...


# -- the rest --------------------------------------------------------------------------------


class Workspace(Protocol):
    """Git operations the forge API cannot do; the rollback flows drive it."""

    def first_parent_history(self, repo: str, branch: str, limit: int) -> list[CommitInfo]:
        """The commits the branch pointed at, newest first (its first-parent chain)."""
        ...

    def revert_to(self, repo: str, branch: str, target: str, message: str,
                  new_branch: str | None = None) -> str:
        """A commit on top of `branch`'s head whose content is `target`'s, pushed to `branch`
        (fast-forward) or to `new_branch`; its sha. HeadMoved if `branch` moved meanwhile."""
        ...


class Directory(Protocol):
    """Who belongs to which group (Slack user groups, behind the edge)."""

    def is_member(self, group: str, user: str) -> bool: ...


class Notifier(Protocol):
    """Tells people what happened to a record.

    `ref` is the handle this notifier returned last time for the record (None the first
    time); it returns the handle to keep (its message, say) or None."""

    def promotion_changed(
        self, promotion: Promotion, event: Event, ref: str | None
    ) -> str | None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
