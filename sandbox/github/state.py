"""The emulated repository's behaviour: pull-request gates, mergeability and real merges.

Holds the in-memory records (pull requests, reviews, statuses, check runs, labels, collaborator
roles, teams, branch protection, rulesets) beside the bare repository, and implements what
GitHub does with them: combined status, mergeable / mergeable_state from a real trial merge
(null while being computed, `mergeability`), stale approvals dismissed when a head moves, and
merges (merge, squash, rebase, server-side branch merge) as git commits and compare-and-swap
ref moves. The rules of protection live in `protection`. Callers hold `lock` around every
call. No HTTP or JSON shapes here, only ApiErrors.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.github import protection
from sandbox.github.clock import Clock, SystemClock, utc
from sandbox.github.errors import ApiError
from sandbox.github.gitstore import ZERO_SHA, BareRepository, CommitInfo
from sandbox.github.mergeability import DEFAULT_DELAY, MergeabilityTracker
from sandbox.github.models import (
    CheckRun,
    CommitStatus,
    Deployment,
    GitHubUser,
    Label,
    Protection,
    PullRequest,
    Review,
    Ruleset,
    Team,
    user_id,
)
from sandbox.github.permissions import Principal
from sandbox.github.protection import PushVerdict, RefUpdate

GITHUB_COMMITTER = ("GitHub", "noreply@github.com")
CHECK_SUCCESS = {"success", "neutral", "skipped"}
NOT_MERGEABLE = "Pull Request is not mergeable"
BASE_MODIFIED = "Base branch was modified. Review and try the merge again."


@dataclass(frozen=True)
class Mergeability:
    mergeable: bool | None
    state: str  # clean | blocked | behind | dirty | unstable | draft | unknown
    problems: tuple[str, ...]  # why it is blocked or behind


@dataclass
class Observed:
    """What changed since the last look: pull requests whose head moved (old, new) and the
    approvals that this dismissed as stale."""

    moves: list[tuple[PullRequest, str, str]] = field(default_factory=list)
    dismissed: list[tuple[PullRequest, Review]] = field(default_factory=list)


class RepoState:
    def __init__(self, repo: BareRepository, owner: str, users: list[GitHubUser],
                 clock: Clock | None = None,
                 mergeability_delay: float = DEFAULT_DELAY) -> None:
        self.repo = repo
        self.owner = owner
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.users: dict[str, GitHubUser] = {u.login: u for u in users}
        self.tokens: dict[str, GitHubUser] = {u.token: u for u in users}
        self.roles: dict[str, str] = {u.login: u.permission for u in users}
        self.created_at = self.now()
        self.pulls: dict[int, PullRequest] = {}
        self.statuses: list[CommitStatus] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.deployments: dict[int, Deployment] = {}
        self.labels: dict[str, Label] = {}
        self.protections: dict[str, Protection] = {}
        self.rulesets: dict[int, Ruleset] = {}
        self.teams: dict[str, Team] = {}
        self.mergeability_tracker = MergeabilityTracker(self.clock, mergeability_delay)
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1001)
        self._trials: dict[tuple[str, str], bool] = {}
        self._test_merges: dict[tuple[str, str], str] = {}
        self._heads: dict[int, str] = {}

    def now(self) -> datetime:
        return utc(self.clock)

    def next_id(self) -> int:
        return next(self._ids)

    def next_number(self) -> int:
        return next(self._numbers)

    def add_user(self, user: GitHubUser) -> None:
        self.users[user.login] = user
        if user.token:
            self.tokens[user.token] = user
        self.roles.setdefault(user.login, user.permission)

    def role(self, login: str) -> str:
        """The user's role on the repository (none for strangers)."""
        return self.roles.get(login, "none")

    @staticmethod
    def user_id(login: str) -> int:
        return user_id(login)

    # -- heads of a pull request -------------------------------------------------------

    def head_sha(self, pr: PullRequest) -> str:
        if pr.state == "closed" and pr.closed_head_sha:
            return pr.closed_head_sha
        return self.repo.branch_sha(pr.head) or pr.closed_head_sha or ""

    def base_sha(self, pr: PullRequest) -> str:
        if pr.state == "closed" and pr.closed_base_sha:
            return pr.closed_base_sha
        return self.repo.branch_sha(pr.base) or pr.closed_base_sha or ""

    def watch(self, pr: PullRequest) -> None:
        """Starts following an opened (or reopened) pull request's head and mergeability."""
        head, base = self.head_sha(pr), self.base_sha(pr)
        self._heads[pr.number] = head
        self.mergeability_tracker.note(pr.number, base, head)

    def observe(self) -> Observed:
        """Notices the branch moves since the last look (pushes over git, merges, ref updates,
        or commits written straight into the bare repository): restarts the mergeability
        computation and, where protection says so, dismisses approvals made stale."""
        observed = Observed()
        if not any(pr.state == "open" for pr in self.pulls.values()):
            return observed
        branches = self.repo.branches()
        for pr in sorted(self.pulls.values(), key=lambda p: p.number):
            if pr.state != "open":
                continue
            head, base = branches.get(pr.head, ""), branches.get(pr.base, "")
            self.mergeability_tracker.note(pr.number, base, head)
            old = self._heads.get(pr.number)
            self._heads[pr.number] = head
            if old is None or not head or old == head:
                continue
            observed.moves.append((pr, old, head))
            if protection.dismisses_stale_reviews(self, pr.base):
                for review in pr.reviews:
                    if review.state == "APPROVED" and review.commit_id != head:
                        review.state = "DISMISSED"
                        observed.dismissed.append((pr, review))
        return observed

    # -- statuses and checks -----------------------------------------------------------

    def latest_statuses(self, sha: str) -> list[CommitStatus]:
        latest: dict[str, CommitStatus] = {}
        for s in self.statuses:
            if s.sha == sha:
                latest[s.context] = s
        return sorted(latest.values(), key=lambda s: s.id, reverse=True)

    def combined_state(self, sha: str) -> str:
        states = [s.state for s in self.latest_statuses(sha)]
        if any(s in ("error", "failure") for s in states):
            return "failure"
        if not states or "pending" in states:
            return "pending"
        return "success"

    def latest_check_runs(self, sha: str) -> list[CheckRun]:
        latest: dict[str, CheckRun] = {}
        for run in sorted(self.check_runs.values(), key=lambda r: r.id):
            if run.head_sha == sha:
                latest[run.name] = run
        return sorted(latest.values(), key=lambda r: r.id, reverse=True)

    def context_states(self, sha: str) -> dict[str, str]:
        """Every status context and check name on a commit -> success | pending | failure."""
        result: dict[str, str] = {}
        for s in self.latest_statuses(sha):
            result[s.context] = {"success": "success", "pending": "pending"}.get(s.state, "failure")
        for run in self.latest_check_runs(sha):
            if run.status != "completed":
                state = "pending"
            else:
                state = "success" if run.conclusion in CHECK_SUCCESS else "failure"
            # A failing source wins over a passing one with the same name.
            if result.get(run.name) != "failure":
                result[run.name] = state
        return result

    # -- mergeability ------------------------------------------------------------------

    def trial_merge_clean(self, base_sha: str, head_sha: str) -> bool:
        key = (base_sha, head_sha)
        if key not in self._trials:
            self._trials[key] = self.repo.trial_merge(base_sha, head_sha).clean
        return self._trials[key]

    def test_merge_sha(self, pr: PullRequest, base_sha: str, head_sha: str) -> str | None:
        """The test merge commit GitHub keeps at refs/pull/N/merge (None on a conflict)."""
        key = (base_sha, head_sha)
        if key not in self._test_merges:
            trial = self.repo.trial_merge(base_sha, head_sha)
            if not trial.clean or trial.tree is None:
                return None
            with self.repo.write_lock:
                sha = self.repo.commit_tree(
                    trial.tree, [base_sha, head_sha], f"Merge {head_sha} into {base_sha}\n",
                    GITHUB_COMMITTER, GITHUB_COMMITTER)
                self.repo.git("update-ref", f"refs/pull/{pr.number}/merge", sha)
            self._test_merges[key] = sha
        return self._test_merges[key]

    def mergeability(self, pr: PullRequest) -> Mergeability:
        """As a GET of the pull request reports it: null while GitHub computes it."""
        if pr.state != "open":
            return Mergeability(None, "unknown", ())
        head_sha, base_sha = self.head_sha(pr), self.base_sha(pr)
        if head_sha and base_sha and self.mergeability_tracker.computing(
                pr.number, base_sha, head_sha):
            return Mergeability(None, "unknown", ())
        return self.evaluate(pr, head_sha, base_sha)

    def evaluate(self, pr: PullRequest, head_sha: str, base_sha: str) -> Mergeability:
        if not head_sha or not base_sha:
            return Mergeability(False, "dirty", ())
        if not self.trial_merge_clean(base_sha, head_sha):
            return Mergeability(False, "dirty", ())
        if pr.draft:
            return Mergeability(True, "draft", ())
        problems = protection.merge_problems(self, pr, head_sha)
        if problems:
            return Mergeability(True, "blocked", tuple(problems))
        if protection.strict_base(self, pr.base) and not self.repo.is_ancestor(base_sha,
                                                                                 head_sha):
            return Mergeability(True, "behind", (protection.BEHIND,))
        if any(state != "success" for state in self.context_states(head_sha).values()):
            return Mergeability(True, "unstable", ())
        return Mergeability(True, "clean", ())

    # -- merging -----------------------------------------------------------------------

    def _author(self, login: str) -> tuple[str, str]:
        user = self.users.get(login)
        return (
            (user.name or login, user.commit_email)
            if user
            else (login, f"{login}@users.noreply.github.com")
        )

    def merge_pull(
        self,
        pr: PullRequest,
        who: Principal,
        method: str,
        title: str | None,
        message: str | None,
        expected_sha: str | None,
    ) -> str:
        """Merges an open pull request as GitHub's PUT .../merge does; returns the new base head."""
        login = who.login
        with self.repo.write_lock:
            if pr.state != "open":
                raise ApiError(405, NOT_MERGEABLE)
            head_sha, base_sha = self.head_sha(pr), self.base_sha(pr)
            if expected_sha is not None and expected_sha != head_sha:
                raise ApiError(409, "Head branch was modified. Review and try the merge again.")
            if not head_sha or not base_sha or not self.trial_merge_clean(base_sha, head_sha):
                raise ApiError(405, NOT_MERGEABLE)
            if pr.draft:
                raise ApiError(405, "Pull Request is still a draft")
            refusal = protection.merge_refusal(self, pr, who, head_sha, base_sha)
            if refusal is not None:
                raise refusal
            trial = self.repo.trial_merge(base_sha, head_sha)
            if not trial.clean or trial.tree is None:
                raise ApiError(405, NOT_MERGEABLE)
            author = self._author(login)
            if method == "merge":
                subject = title or f"Merge pull request #{pr.number} from {self.owner}/{pr.head}"
                text = pr.title if message is None else message
                new = self.repo.commit_tree(
                    trial.tree,
                    [base_sha, head_sha],
                    _message(subject, text),
                    author,
                    GITHUB_COMMITTER,
                )
            elif method == "squash":
                subject = title or f"{pr.title} (#{pr.number})"
                if message is None:
                    picked = reversed(self.repo.commits(f"{base_sha}..{head_sha}"))
                    message = "\n\n".join(f"* {c.message}" for c in picked)
                new = self.repo.commit_tree(
                    trial.tree, [base_sha], _message(subject, message), author, GITHUB_COMMITTER
                )
            else:
                new = self._rebase(base_sha, head_sha)
            if not self.repo.update_ref(f"refs/heads/{pr.base}", new, base_sha):
                raise ApiError(405, BASE_MODIFIED)
            stamp = self.now()
            pr.state = "closed"
            pr.merged_at = pr.closed_at = pr.updated_at = stamp
            pr.merged_by = login
            pr.merge_commit_sha = new
            pr.closed_head_sha, pr.closed_base_sha = head_sha, base_sha
            return new

    def _rebase(self, base_sha: str, head_sha: str) -> str:
        current = base_sha
        picked: list[CommitInfo] = list(reversed(self.repo.commits(f"{base_sha}..{head_sha}")))
        for info in picked:
            if len(info.parents) != 1:
                continue  # like `git rebase`, merge commits are dropped
            result = self.repo.cherry_pick_tree(info, current)
            if not result.clean or result.tree is None:
                raise ApiError(405, "This branch can't be rebased")
            current = self.repo.commit_tree(
                result.tree,
                [current],
                info.message + "\n",
                (info.author.name, info.author.email),
                GITHUB_COMMITTER,
                author_date=info.author.date,
            )
        return current

    def ref_update_verdict(self, ref: str, old: str, new: str, who: Principal,
                           html_url: str) -> PushVerdict:
        """Whether `who` may move `ref` from old to new (protection and rulesets decide)."""
        fast_forward = old == ZERO_SHA or new == ZERO_SHA or \
            self.repo.is_ancestor(old, new)
        return protection.push_verdict(self, RefUpdate(ref, old, new, fast_forward), who,
                                       html_url)

    def merge_branches(self, base: str, head: str, message: str | None, who: Principal,
                       html_url: str) -> str | None:
        """POST /merges: a merge commit on `base`, None when `head` is already merged."""
        with self.repo.write_lock:
            base_sha = self.repo.branch_sha(base)
            if base_sha is None:
                raise ApiError(404, "Base does not exist")
            head_sha = self.repo.resolve(head)
            if head_sha is None:
                raise ApiError(404, "Head does not exist")
            if self.repo.is_ancestor(head_sha, base_sha):
                return None
            trial = self.repo.trial_merge(base_sha, head_sha)
            if not trial.clean or trial.tree is None:
                raise ApiError(409, "Merge conflict")
            text = message or f"Merge {head} into {base}"
            new = self.repo.commit_tree(
                trial.tree,
                [base_sha, head_sha],
                text.rstrip("\n") + "\n",
                self._author(who.login),
                GITHUB_COMMITTER,
            )
            verdict = protection.push_verdict(
                self, RefUpdate(f"refs/heads/{base}", base_sha, new, True), who, html_url)
            if not verdict.accepted:
                raise ApiError(409, verdict.message)
            if not self.repo.update_ref(f"refs/heads/{base}", new, base_sha):
                raise ApiError(409, BASE_MODIFIED)
            return new


def _message(subject: str, body: str) -> str:
    return f"{subject}\n\n{body}\n" if body else f"{subject}\n"
