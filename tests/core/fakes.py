"""Fakes of our own for the engine's ports (plain functions or tiny classes).

They hold just enough state to answer the engine as GitHub and Flux would; the emulator tests
prove the real adapters against the real clients.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from slackbot.errors import ForgeUnavailable, HeadMoved, MergeConflict
from slackbot.events import Event
from slackbot.models import Promotion
from slackbot.pipeline import FluxRef
from slackbot.ports import (
    Applied,
    CommitInfo,
    Comparison,
    DeploymentSpec,
    KustomizationStatus,
    PullRequest,
    Review,
    Rollout,
)

_shas = (hashlib.sha1(str(n).encode()).hexdigest() for n in itertools.count(1))


def new_sha() -> str:
    return next(_shas)


class FakeClock:
    def __init__(self, start: datetime | None = None):
        # A Wednesday at noon UTC: inside the default prod change window.
        self.moment = start or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class FakeForge:
    heads: dict[str, str] = field(default_factory=dict)
    ahead: dict[tuple[str, str], int] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    checks: dict[str, dict[str, str]] = field(default_factory=dict)
    review_list: dict[int, list[Review]] = field(default_factory=dict)
    comments: list[tuple[int, str]] = field(default_factory=list)
    conflict: bool = False
    conflicting_bases: set[str] = field(default_factory=set)
    diverged: set[str] = field(default_factory=set)  # branches that cannot be fast-forwarded
    calls: list[str] = field(default_factory=list)
    first_commit_at: datetime | None = None  # what compare says of the oldest commit
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))
    # The write-back (slackbot/engine/writeback.py): what GitHub would show, kept apart from
    # `calls` so that tests of the flow need not list it.
    deployments: dict[int, DeploymentSpec] = field(default_factory=dict)
    deployment_statuses: list[tuple[int, str, str | None]] = field(default_factory=list)
    commit_statuses: list[tuple[str, str, str, str]] = field(default_factory=list)
    write_back_fails: bool = False  # every write-back call answers as a GitHub outage would

    refreshed: int = 0
    compared: list[tuple[str, str]] = field(default_factory=list)  # every compare(base, head)
    # What compare(base, head) lists, when a test gives it (else `ahead` copies of "change")
    commit_lists: dict[tuple[str, str], tuple[CommitInfo, ...]] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)  # each pull request's title, as opened

    def refresh(self, repo: str, change: object = None) -> None:
        self.refreshed += 1

    def branch_head(self, repo: str, branch: str) -> str:
        self.calls.append(f"branch_head {branch}")
        return self.heads[branch]

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        self.compared.append((base, head))
        listed = self.commit_lists.get((base, head))
        ahead = len(listed) if listed is not None else self.ahead.get((base, head), 1)
        commits = listed if listed is not None else tuple(
            CommitInfo(self.heads[head], "change", "dev") for _ in range(ahead))
        return Comparison(ahead, 0, commits, ("apps/myapp/base/deployment.yaml",) if ahead else (),
                          base_tree=f"tree-{self.heads[base]}",
                          head_tree=f"tree-{self.heads[head]}",
                          first_commit_at=self.first_commit_at if ahead else None)

    def find_open_pull(self, repo: str, base: str, head: str) -> PullRequest | None:
        return next((p for p in self.pulls.values()
                     if p.base == base and p.head == head and p.state == "open"), None)

    def open_pull(self, repo: str, base: str, head: str, title: str, body: str) -> PullRequest:
        self.calls.append(f"open_pull {head}->{base}")
        existing = self.find_open_pull(repo, base, head)
        if existing is not None:  # GitHub's 422 "A pull request already exists", adopted
            return replace(existing, adopted=True)
        number = next(self._numbers)
        pull = PullRequest(number, f"https://github.test/acme/myapp/pull/{number}", base, head,
                           self.heads[head], "open", False, True, body, "promotebot")
        self.pulls[number] = pull
        self.titles[number] = title
        return pull

    def get_pull(self, repo: str, number: int) -> PullRequest:
        pull = self.pulls[number]
        if pull.state == "open" and pull.head_sha != self.heads[pull.head]:
            pull = replace(pull, head_sha=self.heads[pull.head])
            self.pulls[number] = pull
        return pull

    def pull_body(self, repo: str, number: int) -> str:
        return self.pulls[number].body

    def update_pull_body(self, repo: str, number: int, body: str) -> None:
        self.pulls[number] = replace(self.pulls[number], body=body)

    def check_states(self, repo: str, sha: str) -> dict[str, str]:
        return dict(self.checks.get(sha, {}))

    def reviews(self, repo: str, number: int) -> list[Review]:
        return list(self.review_list.get(number, []))

    def merge_pull(self, repo: str, number: int, sha: str, title: str) -> str:
        self.calls.append(f"merge {number}")
        pull = self.get_pull(repo, number)
        if pull.head_sha != sha:
            raise HeadMoved("Head branch was modified. Review and try the merge again.")
        if self.conflict:
            raise MergeConflict("Pull Request is not mergeable")
        merge_sha = new_sha()
        self.pulls[number] = replace(pull, state="closed", merged=True, merge_sha=merge_sha)
        self.heads[pull.base] = merge_sha
        return merge_sha

    def comment(self, repo: str, number: int, body: str) -> None:
        self.comments.append((number, body))

    def branch_exists(self, repo: str, branch: str) -> bool:
        return branch in self.heads

    def create_branch(self, repo: str, branch: str, sha: str) -> None:
        self.calls.append(f"create_branch {branch}")
        self.heads[branch] = sha

    def merge_branch(self, repo: str, base: str, head: str, message: str) -> str | None:
        self.calls.append(f"merge_branch {head}->{base}")
        if base in self.conflicting_bases:
            raise MergeConflict("Merge conflict")
        if self.ahead.get((base, head), 1) == 0:
            return None
        self.heads[base] = new_sha()
        return self.heads[base]

    def create_deployment(self, repo: str, deploy: DeploymentSpec) -> int:
        self._write_back()
        number = 9000 + len(self.deployments) + 1
        self.deployments[number] = deploy
        return number

    def find_deployment(self, repo: str, deploy: DeploymentSpec) -> int | None:
        self._write_back()
        return next((n for n, d in self.deployments.items()
                     if (d.ref, d.environment, d.record) == (deploy.ref, deploy.environment,
                                                             deploy.record)), None)

    def deployment_status(self, repo: str, deployment_id: int, state: str, description: str,
                          log_url: str | None) -> None:
        self._write_back()
        assert deployment_id in self.deployments and len(description) <= 140
        self.deployment_statuses.append((deployment_id, state, log_url))

    def commit_status(self, repo: str, sha: str, context: str, state: str, description: str,
                      target_url: str | None) -> None:
        self._write_back()
        assert len(description) <= 140
        self.commit_statuses.append((sha, context, state, target_url or ""))

    def _write_back(self) -> None:
        if self.write_back_fails:
            raise ForgeUnavailable("GitHub answered 502")

    def fast_forward(self, repo: str, branch: str, sha: str) -> bool:
        self.calls.append(f"fast_forward {branch}")
        if branch in self.diverged:
            return False
        self.heads[branch] = sha
        return True

    # -- acting as people and CI ---------------------------------------------------------------

    def push(self, branch: str) -> str:
        self.heads[branch] = new_sha()
        return self.heads[branch]

    def review(self, number: int, user: str, state: str = "APPROVED") -> None:
        sha = self.get_pull("", number).head_sha
        self.review_list.setdefault(number, []).append(Review(user, state, sha))

    def set_check(self, sha: str, name: str, state: str) -> None:
        self.checks.setdefault(sha, {})[name] = state


@dataclass
class FakeCluster:
    """Kustomizations by name; `deploy` makes an env run a revision as Flux would report it."""

    kustomizations: dict[str, KustomizationStatus] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    rollouts: dict[tuple[str, str], Rollout] = field(default_factory=dict)
    # requestedAt sent, in order: (kind, name, token), kind "source" or "kustomization"
    reconciles: list[tuple[str, str, str]] = field(default_factory=list)

    def kustomization(self, ref: FluxRef) -> KustomizationStatus:
        return self.kustomizations[ref.name]

    def source_revision(self, ref: FluxRef) -> str | None:
        return self.sources.get(ref.name)

    def request_source_reconcile(self, source: FluxRef, token: str) -> None:
        self.reconciles.append(("source", source.name, token))

    def request_kustomization_reconcile(self, kustomization: FluxRef, token: str) -> None:
        self.reconciles.append(("kustomization", kustomization.name, token))
        if kustomization.name in self.kustomizations:  # the annotation, as the API shows it
            self.kustomizations[kustomization.name] = dataclasses.replace(
                self.kustomizations[kustomization.name], requested_at=token)

    def rollout(self, namespace: str, deployment: str, cluster: str | None = None) -> Rollout:
        return self.rollouts.get((namespace, deployment)) or Rollout(
            deployment, namespace, 1, 1, 1, 1, True, False, "successfully rolled out")

    def set_status(self, name: str, *, ready: str = "True", reason: str = "ReconciliationSucceeded",
                   message: str = "", applied: str | None = None,
                   attempted: str | None = None, suspended: bool = False,
                   depends_on: tuple[str, ...] | None = None) -> None:
        old = self.kustomizations.get(name)
        if depends_on is None:
            depends = old.depends_on if old else ()
        else:
            depends = tuple(FluxRef(d) for d in depends_on)
        self.kustomizations[name] = KustomizationStatus(
            ref=FluxRef(name), ready=ready, reason=reason,
            message=message or (f"Applied revision: {applied}" if ready == "True" else ""),
            last_applied_revision=applied, last_attempted_revision=attempted or applied,
            suspended=suspended, reconciling=ready != "True", generation=1,
            observed_generation=1, last_handled_reconcile_at=None, depends_on=depends,
            requested_at=old.requested_at if old else None,
        )

    def deploy(self, name: str, branch: str, sha: str) -> None:
        revision = f"{branch}@sha1:{sha}"
        self.sources[name] = revision
        self.set_status(name, applied=revision)


@dataclass
class FakeDirectory:
    groups: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def is_member(self, group: str, user: str) -> bool:
        return user in self.groups.get(group, set())

    def members(self, group: str) -> frozenset[str]:
        return frozenset(self.groups.get(group, set()))

    def name(self, user: str) -> str:
        return self.names.get(user, user)


@dataclass
class RecordingNotifier:
    seen: list[tuple[str, str]] = field(default_factory=list)  # (state, event kind)

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        self.seen.append((promotion.state.value, event.kind.value))


@dataclass
class FakeWorkspace:
    """Branch histories as lists of shas (newest first) over the fake forge's heads."""

    forge: FakeForge
    history: dict[str, list[str]] = field(default_factory=dict)
    reverts: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    applied: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)
    change_commits: dict[tuple[str, str], list[CommitInfo]] = field(default_factory=dict)
    has: dict[str, set[str]] = field(default_factory=dict)  # branch -> commits it contains
    conflicting: set[str] = field(default_factory=set)
    subjects: dict[str, str] = field(default_factory=dict)  # a commit's message, by sha

    def first_parent_history(self, repo: str, branch: str, limit: int) -> list[CommitInfo]:
        shas = self.history.get(branch) or [self.forge.heads[branch]]
        if shas[0] != self.forge.heads[branch]:
            shas = [self.forge.heads[branch], *shas]
            self.history[branch] = shas
        return [CommitInfo(sha, self.subjects.get(sha, f"commit {sha[:7]}"), "dev")
                for sha in shas[:limit]]

    def revert_to(self, repo: str, branch: str, target: str, message: str,
                  new_branch: str | None = None) -> str:
        sha = new_sha()
        self.reverts.append((branch, target, new_branch, sha))
        self.subjects[sha] = message
        if new_branch is None:
            self.forge.heads[branch] = sha
        else:
            self.forge.heads[new_branch] = sha
        return sha

    def apply_change(self, repo: str, branch: str, base: str, change: str, message: str,
                     new_branch: str | None = None) -> Applied | None:
        if branch in self.conflicting:
            raise MergeConflict(f"does not apply to {branch}")
        sha = new_sha()
        self.applied.append((branch, base, change, new_branch, sha))
        self.forge.heads[new_branch or branch] = sha
        return Applied(sha, ("apps/myapp/base/deployment.yaml",))

    def changes(self, repo: str, base: str, head: str) -> list[CommitInfo]:
        return list(self.change_commits.get((base, head), []))

    def contains(self, repo: str, branch: str, commits: tuple[str, ...]) -> bool:
        return all(c in self.has.get(branch, set()) for c in commits)
