"""The small interfaces the core talks through, and the values that cross them.

Adapters (Redis, GitHub via PyGithub, git via GitPython, Flux via the kubernetes client, Slack
in handlers/) implement these; the core's tests use fakes of our own. Nothing here imports an
SDK: the values are plain frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slackbot.events import Event
from slackbot.models import Block, BlockKind, Promotion, QueueEntry, State
from slackbot.pipeline import FluxRef
from slackbot.webhooks import Change

# -- store (Redis) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fence:
    """Proof of holding an env's lock. A newer token makes every older one stale."""

    app: str
    env: str
    owner: str
    token: int

    @property
    def value(self) -> str:
        return f"{self.owner}:{self.token}"


@dataclass(frozen=True)
class EnvRecords:
    """What the store knows of one env at one moment: its live record, its blocks (as
    `Store.blocks` lists them) and its queue."""

    live: Promotion | None
    blocks: tuple[Block, ...]
    queue: tuple[QueueEntry, ...]


class Store(Protocol):
    """The single source of truth: records, locks, idempotency keys, the audit trail, freezes
    and holds. Every write of a record is a compare-and-set (ConcurrentUpdate when it loses);
    a fenced write also fails once the fence's lock was taken over (StaleFence)."""

    def ping(self) -> bool: ...
    def next_id(self) -> int: ...
    def get(self, promotion_id: int) -> Promotion | None: ...
    def live(self, app: str, env: str) -> Promotion | None: ...
    def live_all(self) -> list[Promotion]: ...
    def history(self, app: str, env: str, limit: int = 20) -> list[Promotion]: ...
    def finished(self, app: str, env: str, since: datetime, until: datetime,
                 limit: int = 5000) -> list[Promotion]:
        """The env's deployed and failed records that finished within [since, until] (both
        included), newest first, at most `limit`."""
        ...
    def create(self, promotion: Promotion, event: Event) -> Promotion: ...
    def transition(self, current: Promotion, event: Event, state: State | None = None,
                   fence: Fence | None = None, **changes: Any) -> Promotion: ...
    def notice(self, promotion_id: int) -> str | None: ...
    def set_notice(self, promotion_id: int, ref: str) -> None: ...
    def mark_aftercare(self, promotion_id: int) -> None: ...
    def clear_aftercare(self, promotion_id: int) -> None: ...
    def aftercare_due(self) -> list[int]: ...
    def mark_notice_due(self, promotion_id: int) -> None: ...
    def clear_notice_due(self, promotion_id: int) -> None: ...
    def notices_due(self) -> list[int]: ...
    def acquire(self, app: str, env: str, owner: str, ttl_ms: int) -> Fence | None: ...
    def release(self, fence: Fence) -> bool: ...
    def extend(self, fence: Fence, ttl_ms: int) -> bool: ...
    def claim_key(self, key: str, owner: str, ttl_ms: int) -> bool: ...
    def unclaim_key(self, key: str, owner: str) -> bool: ...
    def pace(self, key: str, interval_ms: int) -> int: ...
    def claim_once(self, key: str, ttl_seconds: int = 3600) -> bool: ...
    def append_event(self, event: Event) -> None: ...
    def events(self, promotion_id: int | None = None, count: int = 1000) -> list[Event]: ...
    def set_block(self, block: Block, event: Event) -> None: ...
    def swap_block(self, block: Block, event: Event, expected: Block | None) -> bool:
        """Compare-and-set: store `block` (with its event) only if the env's block of its kind
        is still `expected` (None: there is none); False, and nothing written, otherwise."""
        ...
    def clear_block(self, kind: BlockKind, app: str, env: str, event: Event,
                    expected: Block | None = None) -> bool:
        """Remove the env's block of `kind` (with its event); with `expected`, only if it is
        still that one. False, and nothing written, when there was nothing to remove."""
        ...
    def blocks(self, app: str, env: str) -> list[Block]: ...
    def add_viewer(self, user: str, at: datetime) -> None: ...
    def viewers(self, since: datetime | None = None) -> list[str]: ...
    def forget_viewers(self, before: datetime) -> int: ...
    # -- the queue of an env (slackbot/engine/queueing.py); each operation is atomic --------
    def enqueue(self, entry: QueueEntry) -> tuple[QueueEntry, int, bool]:
        """Put the entry at the end of its env's line: (the entry as stored, its position from
        1, True); a person already in that line keeps their place: (theirs, it, False)."""
        ...
    def leave_queue(self, app: str, env: str, user: str) -> QueueEntry | None: ...
    def queue(self, app: str, env: str) -> list[QueueEntry]: ...
    def env_records(self, app: str, envs: list[str]) -> list[EnvRecords]:
        """`live`, `blocks` and `queue` of each of the app's `envs` at one moment, in their
        order (status reads every env at once: one round trip, not three per env)."""
        ...
    def claim_queued(self, app: str, env: str, at: datetime) -> QueueEntry | None:
        """Take the head of the line to start it: None when the line is empty or another
        start of the env is under way (its claim stands until `release_claim`)."""
        ...
    def release_claim(self, app: str, env: str, requeue: bool) -> None:
        """End the env's start: the claimed entry back at the head (`requeue`) or gone."""
        ...
    def claim(self, app: str, env: str) -> tuple[QueueEntry, datetime] | None: ...
    # -- due times of timers (slackbot/engine/timers.py) -----------------------------------
    def set_due(self, promotion_id: int, at: datetime) -> None: ...
    def clear_due(self, promotion_id: int) -> None: ...
    def take_due(self, now: datetime, limit: int = 100) -> list[int]:
        """The records due by `now`, each taken off the index by exactly one caller."""
        ...
    # -- small facts the bot remembers (slackbot/devdeploys.py) -----------------------------
    def remember(self, key: str, value: str, ttl_seconds: int) -> None: ...
    def recall(self, key: str) -> str | None: ...


# -- forge (GitHub) --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    message: str
    author: str  # the GitHub login when GitHub knows the author, else the git author's name
    login: bool = False  # `author` is a GitHub login (it may be @-mentioned on GitHub)


@dataclass(frozen=True)
class Comparison:
    ahead_by: int
    behind_by: int
    commits: tuple[CommitInfo, ...]
    files: tuple[str, ...]  # what `head` changed since the merge base
    base_tree: str = ""  # the content of each side (a tree's sha), to compare content, not history
    head_tree: str = ""
    first_commit_at: datetime | None = None  # the oldest commit's committer time, if known
    merge_base: str = ""  # the sha both sides share (a compare link from it keeps its meaning)
    # `head`'s sha as the comparison shows it ("" when it cannot tell: more commits ahead than
    # one answer lists); the merge base when nothing is ahead
    head_sha: str = ""

    @property
    def changes_content(self) -> bool:
        """Merging `head` into `base` would change `base`'s files (not merely add commits)."""
        if self.ahead_by == 0 or not self.files:
            return False
        return not (self.base_tree and self.base_tree == self.head_tree)


@dataclass(frozen=True)
class Applied:
    """A change applied onto a branch as a new commit (Workspace.apply_change)."""

    sha: str
    files: tuple[str, ...]  # the files the commit changes there


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
    adopted: bool = False  # open_pull found this one already open (nothing was created)


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_sha: str
    writer: bool = True  # has write access to the repository (the adapter asks GitHub)


@dataclass(frozen=True)
class DeploymentSpec:
    """What a GitHub Deployment says: the merged (or reverted) sha deployed to an env, by
    which record."""

    ref: str
    environment: str
    record: str  # the record's name (P-12), in the payload
    description: str
    production: bool


class CardLinks(Protocol):
    """A link to a record's card for people on GitHub (the front end's business: the core
    never knows what the card is)."""

    def card_link(self, promotion_id: int) -> str | None: ...


class Forge(Protocol):
    """GitHub. Reads may answer from what GitHub said a moment ago (webhooks and the bot's
    own writes make that stale); `refresh` makes the next reads ask GitHub again."""

    def refresh(self, repo: str, change: Change | None = None) -> None:
        """What `change` names (None: everything about `repo`) may have changed on GitHub."""
        ...
    def branch_head(self, repo: str, branch: str) -> str: ...
    def compare(self, repo: str, base: str, head: str) -> Comparison: ...
    def find_open_pull(self, repo: str, base: str, head: str) -> PullRequest | None: ...
    def open_pull(self, repo: str, base: str, head: str, title: str, body: str) -> PullRequest: ...
    def get_pull(self, repo: str, number: int) -> PullRequest: ...
    def pull_body(self, repo: str, number: int) -> str:
        """The pull request's body as GitHub has it (the bot's own last write while nothing
        said it changed since)."""
        ...
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
        """Merge `head` (a branch or a sha) into `base` on the server: the merge commit's sha,
        None when there was nothing to merge; MergeConflict when it does not apply cleanly."""
        ...
    def fast_forward(self, repo: str, branch: str, sha: str) -> bool:
        """Move `branch` to `sha` if that is a fast-forward (never forced); False when it is
        not (the branch holds commits `sha` lacks, or it moved meanwhile)."""
        ...
    # -- write-back: what the bot deployed, shown on GitHub (slackbot/engine/writeback.py) --
    def create_deployment(self, repo: str, deploy: DeploymentSpec) -> int:
        """A GitHub Deployment of `deploy.ref` to `deploy.environment`; its id."""
        ...
    def find_deployment(self, repo: str, deploy: DeploymentSpec) -> int | None:
        """The Deployment an earlier create made for `deploy` (same sha, environment and
        record in its payload), if any: a restart between the create and its record."""
        ...
    def deployment_status(self, repo: str, deployment_id: int, state: str, description: str,
                          log_url: str | None) -> None:
        """in_progress | success | failure | ... on the Deployment; `log_url` the card."""
        ...
    def commit_status(self, repo: str, sha: str, context: str, state: str, description: str,
                      target_url: str | None) -> None:
        """pending | success | failure | error under `context` on the commit."""
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
    # How long Flux waits out one health check: spec.timeout, else spec.interval (None: unknown).
    # Flux does not cancel a running one when a new revision arrives.
    timeout: timedelta | None = None
    requested_at: str | None = None  # its reconcile.fluxcd.io/requestedAt annotation

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
    # What the Deployment's pods run: spec.template.spec.containers[].image, in order
    images: tuple[str, ...] = ()


class Cluster(Protocol):
    def kustomization(self, ref: FluxRef) -> KustomizationStatus: ...
    def source_revision(self, ref: FluxRef) -> str | None: ...
    def request_source_reconcile(self, source: FluxRef, token: str) -> None:
        """Annotate the GitRepository (reconcile.fluxcd.io/requestedAt = token): fetch now. The
        first half of `flux reconcile kustomization --with-source`."""
        ...
    def request_kustomization_reconcile(self, kustomization: FluxRef, token: str) -> None:
        """Annotate the Kustomization the same way: apply now. The second half, sent once the
        source's artifact has the revision (before, it would re-apply the old one first)."""
        ...
    def rollout(self, namespace: str, deployment: str, cluster: str | None = None) -> Rollout:
        """`cluster`: the env's (the pipeline's name); None: the bot's own cluster."""
        ...


# -- the rest --------------------------------------------------------------------------------


class Workspace(Protocol):
    """Git operations the forge API cannot do; the rollback flows drive it. A branch or a sha is
    accepted wherever a revision is named."""

    def first_parent_history(self, repo: str, branch: str, limit: int) -> list[CommitInfo]:
        """The commits the branch pointed at, newest first (its first-parent chain)."""
        ...

    def revert_to(self, repo: str, branch: str, target: str, message: str,
                  new_branch: str | None = None) -> str:
        """A commit on top of `branch`'s head whose content is `target`'s, pushed to `branch`
        (fast-forward) or to `new_branch`; its sha. HeadMoved if `branch` moved meanwhile."""
        ...

    def apply_change(self, repo: str, branch: str, base: str, change: str, message: str,
                     new_branch: str | None = None) -> Applied | None:
        """A commit on top of `branch`'s head that makes there the change from `base` to
        `change` (a three-way merge with `base` as the merge base: a revert carried down, a
        revert undone), pushed to `branch` or to `new_branch`. None when the head already is
        so (nothing to apply); MergeConflict when it does not apply cleanly; HeadMoved if
        `branch` moved meanwhile."""
        ...

    def changes(self, repo: str, base: str, head: str) -> list[CommitInfo]:
        """The commits, merges left out, that `head` has and `base` lacks; oldest first."""
        ...

    def contains(self, repo: str, branch: str, commits: tuple[str, ...]) -> bool:
        """Every one of `commits` is in the branch's history."""
        ...


class Directory(Protocol):
    """Who belongs to which group (Slack user groups, behind the edge), and what people are
    called (for the texts the bot writes into GitHub, where a Slack id means nothing)."""

    def is_member(self, group: str, user: str) -> bool: ...
    def members(self, group: str) -> frozenset[str]:
        """Everyone in the group (reminders and escalations tell them)."""
        ...

    def name(self, user: str) -> str:
        """The person's display name; the id itself when it cannot be read."""
        ...


class Notifier(Protocol):
    """Tells people what happened to a record: called after every recorded step, on the thread
    that took it. It must return at once (a slow surface queues its own work) and never
    raise into the core: a notice that failed must not undo a recorded step."""

    def promotion_changed(self, promotion: Promotion, event: Event) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
