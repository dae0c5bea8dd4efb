"""The emulated repository's behaviour: pull-request gates, mergeability and real merges.

Holds the in-memory records (pull requests, reviews, statuses, check runs, labels, branch
protection) beside the bare repository, and implements the rules GitHub applies to them:
combined status, approvals, mergeable / mergeable_state from a real trial merge, and merges
(merge, squash, rebase, server-side branch merge) as git commits and compare-and-swap ref
moves. Callers hold `lock` around every call. No HTTP or JSON shapes here, only ApiErrors.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.github.errors import ApiError
from sandbox.github.gitstore import BareRepository, CommitInfo
from sandbox.github.models import (
    CheckRun,
    CommitStatus,
    GitHubUser,
    Label,
    Protection,
    PullRequest,
)

GITHUB_COMMITTER = ("GitHub", "noreply@github.com")
CHECK_SUCCESS = {"success", "neutral", "skipped"}
NOT_MERGEABLE = "Pull Request is not mergeable"


def now() -> datetime:
    return datetime.now(tz=UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Mergeability:
    mergeable: bool | None
    state: str  # clean | blocked | behind | dirty | unstable | draft | unknown
    problems: tuple[str, ...]  # why it is blocked or behind (the merge endpoint's 405 message)


class RepoState:
    def __init__(self, repo: BareRepository, owner: str, users: list[GitHubUser]) -> None:
        self.repo = repo
        self.owner = owner
        self.lock = threading.RLock()
        self.users: dict[str, GitHubUser] = {u.login: u for u in users}
        self.tokens: dict[str, GitHubUser] = {u.token: u for u in users}
        self.created_at = now()
        self.pulls: dict[int, PullRequest] = {}
        self.statuses: list[CommitStatus] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.labels: dict[str, Label] = {}
        self.protections: dict[str, Protection] = {}
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1001)
        self._trials: dict[tuple[str, str], bool] = {}

    def next_id(self) -> int:
        return next(self._ids)

    def next_number(self) -> int:
        return next(self._numbers)

    # -- heads of a pull request -------------------------------------------------------

    def head_sha(self, pr: PullRequest) -> str:
        if pr.state == "closed" and pr.closed_head_sha:
            return pr.closed_head_sha
        return self.repo.branch_sha(pr.head) or pr.closed_head_sha or ""

    def base_sha(self, pr: PullRequest) -> str:
        if pr.state == "closed" and pr.closed_base_sha:
            return pr.closed_base_sha
        return self.repo.branch_sha(pr.base) or pr.closed_base_sha or ""

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

    # -- reviews -----------------------------------------------------------------------

    def review_verdicts(
        self, pr: PullRequest, head_sha: str, dismiss_stale: bool
    ) -> dict[str, str]:
        """Each reviewer's latest APPROVED / CHANGES_REQUESTED review (COMMENTED never counts)."""
        verdicts: dict[str, str] = {}
        for review in pr.reviews:
            if review.state not in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                continue
            if dismiss_stale and review.state == "APPROVED" and review.commit_id != head_sha:
                verdicts.pop(review.user, None)
                continue
            verdicts[review.user] = review.state
        return {user: state for user, state in verdicts.items() if state != "DISMISSED"}

    # -- mergeability ------------------------------------------------------------------

    def trial_merge_clean(self, base_sha: str, head_sha: str) -> bool:
        key = (base_sha, head_sha)
        if key not in self._trials:
            self._trials[key] = self.repo.trial_merge(base_sha, head_sha).clean
        return self._trials[key]

    def protection_problems(self, pr: PullRequest, head_sha: str) -> list[str]:
        prot = self.protections.get(pr.base)
        if prot is None:
            return []
        problems: list[str] = []
        if prot.required_approving_review_count is not None:
            verdicts = self.review_verdicts(pr, head_sha, prot.dismiss_stale_reviews)
            wanted = prot.required_approving_review_count
            approvals = sum(1 for v in verdicts.values() if v == "APPROVED")
            if "CHANGES_REQUESTED" in verdicts.values():
                problems.append("Changes have been requested by reviewers with write access.")
            if approvals < wanted:
                noun = "review is" if wanted == 1 else "reviews are"
                problems.append(
                    f"At least {wanted} approving {noun} required by reviewers with write access."
                )
        if prot.required_status_checks:
            states = self.context_states(head_sha)
            for context in prot.required_status_checks:
                state = states.get(context)
                if state == "failure":
                    problems.append(f'Required status check "{context}" is failing.')
                elif state != "success":
                    problems.append(f'Required status check "{context}" is expected.')
        return problems

    def mergeability(self, pr: PullRequest) -> Mergeability:
        if pr.state != "open":
            return Mergeability(None, "unknown", ())
        head_sha, base_sha = self.head_sha(pr), self.base_sha(pr)
        if not head_sha or not base_sha:
            return Mergeability(False, "dirty", ())
        if not self.trial_merge_clean(base_sha, head_sha):
            return Mergeability(False, "dirty", ())
        if pr.draft:
            return Mergeability(True, "draft", ())
        problems = self.protection_problems(pr, head_sha)
        if problems:
            return Mergeability(True, "blocked", tuple(problems))
        prot = self.protections.get(pr.base)
        if prot is not None and prot.strict and not self.repo.is_ancestor(base_sha, head_sha):
            return Mergeability(
                True, "behind", ("Head branch is not up to date with the base branch.",)
            )
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
        login: str,
        method: str,
        title: str | None,
        message: str | None,
        expected_sha: str | None,
    ) -> str:
        """Merges an open pull request as GitHub's PUT .../merge does; returns the new base head."""
        with self.repo.write_lock:
            if pr.state != "open":
                raise ApiError(405, NOT_MERGEABLE)
            head_sha, base_sha = self.head_sha(pr), self.base_sha(pr)
            if expected_sha is not None and expected_sha != head_sha:
                raise ApiError(409, "Head branch was modified. Review and try the merge again.")
            state = self.mergeability(pr)
            if state.state == "dirty" or not head_sha or not base_sha:
                raise ApiError(405, NOT_MERGEABLE)
            if state.state == "draft":
                raise ApiError(405, "Pull Request is still a draft")
            if state.problems:
                raise ApiError(405, state.problems[0])
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
                raise ApiError(409, "Base branch was modified. Review and try the merge again.")
            stamp = now()
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

    def merge_branches(self, base: str, head: str, message: str | None, login: str) -> str | None:
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
                self._author(login),
                GITHUB_COMMITTER,
            )
            if not self.repo.update_ref(f"refs/heads/{base}", new, base_sha):
                raise ApiError(409, "Base branch was modified. Review and try the merge again.")
            return new


def _message(subject: str, body: str) -> str:
    return f"{subject}\n\n{body}\n" if body else f"{subject}\n"
