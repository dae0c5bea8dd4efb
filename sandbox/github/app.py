"""What every route handler works with: the repository state, its URLs and JSON helpers.

`App` ties `RepoState` (records and rules) to `Urls` (the server's own base URL) and turns
records into GitHub's JSON through `shapes`. It also resolves the names clients send
(`owner:branch`, refs, pull numbers), raises GitHub's 404s, hands webhook payloads to the
sender (`emit`) and holds the injected `faults`. No HTTP plumbing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.github import shapes, shapes_rules
from sandbox.github.errors import ApiError, not_found
from sandbox.github.faults import Faults
from sandbox.github.gitstore import BareRepository
from sandbox.github.models import Protection, PullRequest
from sandbox.github.permissions import Principal
from sandbox.github.shapes import Urls
from sandbox.github.state import RepoState

if TYPE_CHECKING:
    from sandbox.github.webhooks import WebhookSender


class App:
    def __init__(self, state: RepoState, urls: Urls, hooks: WebhookSender | None = None,
                 faults: Faults | None = None, private: bool = False) -> None:
        self.state = state
        self.urls = urls
        self.hooks = hooks
        self.faults = faults or Faults(state.clock)
        self.private = private
        self.installation_id: int | None = None  # set when a GitHub App is installed
        self.integrations: dict[str, dict[str, Any]] = {}  # installed Apps by slug

    def emit(self, event: str, build: Callable[[], dict[str, Any] | None]) -> None:
        """Deliver a webhook built by `build` (called only when webhooks are on)."""
        if self.hooks is None or not self.hooks.enabled:
            return
        payload = build()
        if payload is not None:
            self.hooks.send(event, payload)

    @property
    def repo(self) -> BareRepository:
        return self.state.repo

    def repo_json(self, viewer: Principal | None = None) -> dict[str, Any]:
        """The repository; with `viewer`, its `permissions` are the viewer's (as on GET)."""
        role = "admin"
        if viewer is not None:
            role = self.state.role(viewer.login) if viewer.app is None else "write"
        return shapes.repository(self.urls, self.repo.default_branch(), self.state.created_at,
                                 private=self.private, role=role)

    def protection_json(self, branch: str, prot: Protection) -> dict[str, Any]:
        return shapes_rules.protection(self.urls, branch, prot, self.state.teams, self.integrations)

    def user_json(self, login: str) -> dict[str, Any]:
        return shapes.user(self.urls, login, self.state.users)

    def commit_json(self, sha: str, with_files: bool = False) -> dict[str, Any]:
        info = self.repo.commit(sha)
        files = None
        if with_files:
            files = self.repo.diff_files(info.parents[0] if info.parents else None, sha)
        return shapes.commit(self.urls, info, self.state.users, files)

    def pull_json(self, pr: PullRequest, detail: bool) -> dict[str, Any]:
        head_sha, base_sha = self.state.head_sha(pr), self.state.base_sha(pr)
        extra: dict[str, Any] | None = None
        merge_sha = pr.merge_commit_sha
        if detail:
            merge = self.state.mergeability(pr)
            if merge.mergeable and pr.state == "open":
                merge_sha = self.state.test_merge_sha(pr, base_sha, head_sha)
            commits, files = [], []
            if head_sha and base_sha:
                commits = self.repo.commits(f"{base_sha}..{head_sha}")
                merge_base = self.repo.merge_base(base_sha, head_sha)
                files = self.repo.diff_files(merge_base, head_sha)
            extra = {
                "merged": pr.merged,
                "mergeable": merge.mergeable,
                "rebaseable": merge.mergeable,
                "mergeable_state": merge.state,
                "commits": len(commits),
                "additions": sum(f.additions for f in files),
                "deletions": sum(f.deletions for f in files),
                "changed_files": len(files),
            }
        labels = [self.state.labels[name] for name in pr.labels if name in self.state.labels]
        return shapes.pull_request(
            self.urls,
            pr,
            users=self.state.users,
            repo=self.repo_json(),
            labels=labels,
            head_sha=head_sha,
            base_sha=base_sha,
            detail=extra,
            merge_commit_sha=merge_sha,
        )

    # -- lookups -----------------------------------------------------------------------

    def pull(self, number: str) -> PullRequest:
        pr = self.state.pulls.get(int(number)) if number.isdigit() else None
        if pr is None:
            raise not_found()
        return pr

    def sha_of(self, ref: str, missing: str = "Not Found") -> str:
        """A ref as clients send it (branch, tag, sha, `owner:branch`) to a commit sha, or 404."""
        sha = self.repo.resolve(self.strip_owner(ref))
        if sha is None:
            if missing == "Not Found":
                raise not_found()
            raise ApiError(422, missing)
        return sha

    def check_ref_update(self, ref: str, old: str, new: str, who: Principal) -> None:
        """A ref moved through the API obeys protection like a push: 422 when refused."""
        verdict = self.state.ref_update_verdict(ref, old, new, who, self.urls.html)
        if not verdict.accepted:
            raise ApiError(422, verdict.message)

    def strip_owner(self, ref: str) -> str:
        prefix = f"{self.urls.owner}:"
        return ref[len(prefix) :] if ref.startswith(prefix) else ref
