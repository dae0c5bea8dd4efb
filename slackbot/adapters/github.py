"""The Forge port on GitHub, through PyGithub.

Turns PyGithub objects into our frozen values at once, and GithubException into our errors
(chained). The sha guard on merges is GitHub's own: a 409 means the head moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.PullRequest import PullRequest as GitHubPull
from github.Repository import Repository

from slackbot.adapters.transport import unreachable
from slackbot.errors import ForgeError, ForgeUnavailable, HeadMoved, MergeConflict, NotMergeable
from slackbot.ports import CommitInfo, Comparison, PullRequest, Review

T = TypeVar("T")

CHECK_PASSED = frozenset({"success", "neutral", "skipped"})
CHECK_FAILED = frozenset(
    {"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"}
)


def github_client(base_url: str, token: str | None = None, *, app_id: int | None = None,
                  private_key: str | None = None, installation_id: int | None = None,
                  fast: bool = False) -> Github:
    """A PyGithub client with a token or, preferred, as a GitHub App installation (PyGithub
    mints and renews the installation token). `fast` drops PyGithub's request throttling
    (emulators, tests)."""
    options: dict[str, Any] = {}
    if fast:
        options = {"seconds_between_requests": None, "seconds_between_writes": None}
    auth: Auth.Auth
    if token is not None:
        auth = Auth.Token(token)
    elif app_id is not None and private_key is not None and installation_id is not None:
        auth = Auth.AppAuth(app_id, private_key).get_installation_auth(installation_id)
    else:
        raise ValueError("github_client needs a token, or app_id, private_key and installation_id")
    return Github(auth=auth, base_url=base_url.rstrip("/"), **options)


@unreachable((requests.RequestException, OSError), ForgeUnavailable, "GitHub")
class GitHubForge:
    def __init__(self, client: Github):
        self._gh = client
        self._repos: dict[str, Repository] = {}

    def _repo(self, name: str) -> Repository:
        if name not in self._repos:
            self._repos[name] = self._call(lambda: self._gh.get_repo(name))
        return self._repos[name]

    @staticmethod
    def _call(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except GithubException as exc:
            raise ForgeError(f"GitHub answered {exc.status}: {_message(exc)}") from exc

    def token(self) -> str:
        """The current token (an App installation's is renewed by PyGithub), for git over
        HTTPS. Never log it."""
        auth = self._gh.requester.auth
        return str(getattr(auth, "token", ""))

    def ping(self) -> bool:
        self._call(lambda: self._gh.get_rate_limit())
        return True

    def branch_head(self, repo: str, branch: str) -> str:
        return str(self._call(lambda: self._repo(repo).get_branch(branch).commit.sha))

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        def read() -> Comparison:
            c = self._repo(repo).compare(base, head)
            found = list(c.commits)
            commits = tuple(
                CommitInfo(
                    x.sha,
                    x.commit.message,
                    x.author.login if x.author else (x.commit.author.name or ""),
                    login=x.author is not None,
                )
                for x in found
            )
            head_tree = found[-1].commit.tree.sha if found else ""
            return Comparison(c.ahead_by, c.behind_by, commits, tuple(f.filename for f in c.files),
                              base_tree=c.base_commit.commit.tree.sha, head_tree=head_tree)

        return self._call(read)

    def find_open_pull(self, repo: str, base: str, head: str) -> PullRequest | None:
        owner = repo.split("/")[0]

        def read() -> PullRequest | None:
            for pull in self._repo(repo).get_pulls(state="open", base=base, head=f"{owner}:{head}"):
                return _pull(pull)
            return None

        return self._call(read)

    def open_pull(self, repo: str, base: str, head: str, title: str, body: str) -> PullRequest:
        try:
            return _pull(self._repo(repo).create_pull(base=base, head=head, title=title, body=body))
        except GithubException as exc:
            if exc.status == 422 and "already exists" in str(exc.data):
                existing = self.find_open_pull(repo, base, head)
                if existing is not None:
                    return existing
            raise ForgeError(f"GitHub refused the pull request: {_message(exc)}") from exc

    def get_pull(self, repo: str, number: int) -> PullRequest:
        return self._call(lambda: _pull(self._repo(repo).get_pull(number)))

    def update_pull_body(self, repo: str, number: int, body: str) -> None:
        self._call(lambda: self._repo(repo).get_pull(number).edit(body=body))

    def check_states(self, repo: str, sha: str) -> dict[str, str]:
        def read() -> dict[str, str]:
            commit = self._repo(repo).get_commit(sha)
            states: dict[str, str] = {}
            for status in commit.get_combined_status().statuses:
                states[status.context] = {"success": "success", "pending": "pending"}.get(
                    status.state, "failure")
            for run in commit.get_check_runs():
                if run.status != "completed":
                    states[run.name] = "pending"
                elif run.conclusion in CHECK_PASSED:
                    states[run.name] = "success"
                else:
                    states[run.name] = "failure"
            return states

        return self._call(read)

    def reviews(self, repo: str, number: int) -> list[Review]:
        def read() -> list[Review]:
            pull = self._repo(repo).get_pull(number)
            return [Review(r.user.login if r.user else "", r.state, r.commit_id)
                    for r in pull.get_reviews()]

        return self._call(read)

    def merge_pull(self, repo: str, number: int, sha: str, title: str) -> str:
        pull = self._call(lambda: self._repo(repo).get_pull(number))
        try:
            result = pull.merge(merge_method="merge", sha=sha, commit_title=title)
        except GithubException as exc:
            if exc.status == 409:
                raise HeadMoved(_message(exc)) from exc
            if exc.status == 405:
                raise NotMergeable(_message(exc)) from exc
            raise ForgeError(f"GitHub refused the merge: {_message(exc)}") from exc
        return str(result.sha)

    def comment(self, repo: str, number: int, body: str) -> None:
        self._call(lambda: self._repo(repo).get_pull(number).create_issue_comment(body))

    def branch_exists(self, repo: str, branch: str) -> bool:
        try:
            self._repo(repo).get_branch(branch)
        except GithubException as exc:
            if exc.status == 404:
                return False
            raise ForgeError(f"GitHub answered {exc.status}: {_message(exc)}") from exc
        return True

    def create_branch(self, repo: str, branch: str, sha: str) -> None:
        self._call(lambda: self._repo(repo).create_git_ref(f"refs/heads/{branch}", sha))

    def merge_branch(self, repo: str, base: str, head: str, message: str) -> str | None:
        try:
            commit = self._repo(repo).merge(base, head, commit_message=message)
        except GithubException as exc:
            if exc.status == 409:
                raise MergeConflict(_message(exc)) from exc
            raise ForgeError(
                f"GitHub refused to merge {head} into {base}: {_message(exc)}"
            ) from exc
        return None if commit is None else str(commit.sha)

    def fast_forward(self, repo: str, branch: str, sha: str) -> bool:
        try:
            self._repo(repo).get_git_ref(f"heads/{branch}").edit(sha, force=False)
        except GithubException as exc:
            if exc.status in (409, 422):  # "Update is not a fast forward", or a lost race
                return False
            raise ForgeError(f"GitHub refused to move {branch}: {_message(exc)}") from exc
        return True

    def clone_url(self, repo: str) -> str:
        return str(self._call(lambda: self._repo(repo).clone_url))


def _pull(pull: GitHubPull) -> PullRequest:
    return PullRequest(
        number=pull.number,
        url=pull.html_url,
        base=pull.base.ref,
        head=pull.head.ref,
        head_sha=pull.head.sha,
        state=pull.state,
        merged=bool(pull.merged),
        mergeable=pull.mergeable,
        body=pull.body or "",
        author=pull.user.login if pull.user else "",
        merge_sha=pull.merge_commit_sha if pull.merged else None,
    )


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.status)
    details = [e.get("message", "") for e in data.get("errors", []) if isinstance(e, dict)]
    return "; ".join([message, *[d for d in details if d]])
