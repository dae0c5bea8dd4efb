"""The Workspace port on real git (GitPython): first-parent history, revert commits, a change
applied onto another branch, the commits a change is made of, in a local clone per
repository, pushed back over HTTPS with the bot's token.

Every git command that talks to GitHub authenticates with the token current at that moment,
passed to that one command as an `http.extraHeader` through git's GIT_CONFIG_* environment:
never in a remote URL, never in a file (an App's installation token expires after an hour;
the clone outlives many). A command GitHub refuses for its credentials is run once more with
a token minted then. Each operation fetches first and pushes without force, so a branch that
moved meanwhile is refused (HeadMoved), never overwritten; a push that branch protection or
a ruleset refuses is Protected, naming the rule.
"""

from __future__ import annotations

import base64
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git

from slackbot.adapters.github_rules import push_rule
from slackbot.errors import HeadMoved, MergeConflict, Protected, WorkspaceError
from slackbot.ports import Applied, CommitInfo

BOT_IDENTITY = ("promotebot", "promotebot@users.noreply.github.com")
AUTH_REFUSED = ("authentication failed", "invalid username or token", "http 401",
                "could not read username", "terminal prompts disabled")


def auth_header(token: str) -> str:
    """The Authorization header git sends to GitHub for `token` (as GitHub documents for App
    installation tokens: Basic x-access-token:<token>)."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return f"Authorization: Basic {basic}"


class GitWorkspace:
    def __init__(self, clone_url_of: Callable[[str], str], token: Callable[[], str],
                 root: Path | None = None, renew: Callable[[str], bool] | None = None):
        self._clone_url_of = clone_url_of
        self._token = token
        self._renew = renew or (lambda refused: False)
        self._root = Path(root or tempfile.mkdtemp(prefix="promotebot-git-"))
        self._repos: dict[str, git.Repo] = {}
        self._lock = threading.Lock()

    def _env(self, token: str | None = None) -> dict[str, str]:
        env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_AUTHOR_NAME": BOT_IDENTITY[0], "GIT_AUTHOR_EMAIL": BOT_IDENTITY[1],
               "GIT_COMMITTER_NAME": BOT_IDENTITY[0], "GIT_COMMITTER_EMAIL": BOT_IDENTITY[1]}
        if token:
            # One config entry for this command only: the header carries the token.
            env.update(GIT_CONFIG_COUNT="2", GIT_CONFIG_KEY_0="http.extraHeader",
                       GIT_CONFIG_VALUE_0=auth_header(token),
                       GIT_CONFIG_KEY_1="credential.helper", GIT_CONFIG_VALUE_1="")
        return env

    def _remote(self, repo: git.Repo, *args: str) -> Any:
        """A git command that talks to GitHub, with a fresh token (once more after a 401)."""
        token = self._token()
        try:
            with repo.git.custom_environment(**self._env(token)):
                return repo.git.execute(["git", *args])
        except git.GitCommandError as exc:
            if not _refused_credentials(exc) or not self._renew(token):
                raise
        with repo.git.custom_environment(**self._env(self._token())):
            return repo.git.execute(["git", *args])

    def _repo(self, name: str) -> git.Repo:
        if name not in self._repos:
            path = self._root / name.replace("/", "__")
            try:
                if path.exists():
                    repo = git.Repo(path)
                    repo.remote("origin").set_url(self._clone_url_of(name))  # no token in it
                else:
                    repo = git.Repo.init(path, bare=True)
                    repo.create_remote("origin", self._clone_url_of(name))
            except git.GitCommandError as exc:
                raise WorkspaceError(f"cannot prepare a clone of {name}") from _scrub(exc)
            self._repos[name] = repo
        return self._repos[name]

    def _fetch(self, repo: git.Repo, branch: str) -> str:
        try:
            self._remote(repo, "fetch", "origin",
                         f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        except git.GitCommandError as exc:
            raise WorkspaceError(f"cannot fetch {branch}") from _scrub(exc)
        return str(repo.git.rev_parse(f"refs/remotes/origin/{branch}"))

    def _fetch_all(self, repo: git.Repo) -> None:
        try:
            with repo.git.custom_environment(**self._env()):
                repo.git.fetch("--prune", "origin", "+refs/heads/*:refs/remotes/origin/*")
        except git.GitCommandError as exc:
            raise WorkspaceError("cannot fetch the branches") from _scrub(exc)

    @staticmethod
    def _rev(name: str) -> str:
        """A branch name as its fetched remote ref; a sha as itself."""
        if len(name) == 40 and all(c in "0123456789abcdef" for c in name):
            return name
        return f"refs/remotes/origin/{name}"

    def first_parent_history(self, repo: str, branch: str, limit: int) -> list[CommitInfo]:
        with self._lock:
            local = self._repo(repo)
            head = self._fetch(local, branch)
            out = local.git.log("--first-parent", f"-n{limit}", "--format=%H%x00%an%x00%s", head)
        history = []
        for line in out.splitlines():
            sha, author, subject = line.split("\x00", 2)
            history.append(CommitInfo(sha, subject, author))
        return history

    def revert_to(self, repo: str, branch: str, target: str, message: str,
                  new_branch: str | None = None) -> str:
        with self._lock:
            local = self._repo(repo)
            head = self._fetch(local, branch)
            destination = new_branch or branch
            try:
                tree = local.git.rev_parse(f"{target}^{{tree}}")
                with local.git.custom_environment(**self._env()):
                    sha = str(local.git.commit_tree(tree, "-p", head, "-m", message))
                self._remote(local, "push", "origin",
                             f"{sha}:refs/heads/{destination}")
            except git.GitCommandError as exc:
                text = str(_scrub(exc))
                rule = push_rule(f"{exc.stderr or ''}\n{exc.stdout or ''}")
                if rule is not None:
                    raise Protected(rule, destination) from None
                if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
                    raise HeadMoved(f"{branch} moved while the revert was being pushed") from None
                raise WorkspaceError(f"cannot push the revert to {destination}") from None
            return sha

    def apply_change(self, repo: str, branch: str, base: str, change: str, message: str,
                     new_branch: str | None = None) -> Applied | None:
        """`base -> change` as a three-way merge onto the head, without a worktree: both sides
        get a synthetic parent holding `base`'s tree, so `git merge-tree` takes it as the
        merge base (what cherry-picking `change` onto the head would do, for any `base`)."""
        with self._lock:
            local = self._repo(repo)
            self._fetch_all(local)
            try:
                head = str(local.git.rev_parse(self._rev(branch)))
                trees = {name: str(local.git.rev_parse(f"{self._rev(rev)}^{{tree}}"))
                         for name, rev in (("base", base), ("change", change), ("head", head))}
                with local.git.custom_environment(**self._env()):
                    root = str(local.git.commit_tree(trees["base"], "-m", "base"))
                    ours = str(local.git.commit_tree(trees["head"], "-p", root, "-m", "ours"))
                    theirs = str(local.git.commit_tree(trees["change"], "-p", root, "-m", "theirs"))
                status, out, _ = local.git.merge_tree("--write-tree", ours, theirs,
                                                      with_extended_output=True,
                                                      with_exceptions=False)
                if status != 0:
                    raise MergeConflict(f"the change does not apply cleanly to {branch}")
                tree = out.splitlines()[0].strip()
                if tree == trees["head"]:
                    return None
                with local.git.custom_environment(**self._env()):
                    sha = str(local.git.commit_tree(tree, "-p", head, "-m", message))
                files = tuple(local.git.diff("--name-only", head, sha).splitlines())
                destination = new_branch or branch
                with local.git.custom_environment(**self._env()):
                    local.git.push("origin", f"{sha}:refs/heads/{destination}")
            except git.GitCommandError as exc:
                text = str(_scrub(exc))
                if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
                    raise HeadMoved(f"{branch} moved while the change was being pushed") from None
                raise WorkspaceError(f"cannot apply the change to {branch}") from None
            return Applied(sha, files)

    def changes(self, repo: str, base: str, head: str) -> list[CommitInfo]:
        with self._lock:
            local = self._repo(repo)
            self._fetch_all(local)
            try:
                out = local.git.log("--no-merges", "--reverse", "--format=%H%x00%an%x00%s",
                                    f"{self._rev(base)}..{self._rev(head)}")
            except git.GitCommandError as exc:
                raise WorkspaceError("cannot list the commits of a change") from _scrub(exc)
        found = []
        for line in out.splitlines():
            sha, author, subject = line.split("\x00", 2)
            found.append(CommitInfo(sha, subject, author))
        return found

    def contains(self, repo: str, branch: str, commits: tuple[str, ...]) -> bool:
        with self._lock:
            local = self._repo(repo)
            self._fetch_all(local)
            for commit in commits:
                status, _, _ = local.git.merge_base("--is-ancestor", commit, self._rev(branch),
                                                    with_extended_output=True,
                                                    with_exceptions=False)
                if status != 0:
                    return False
        return True


def _refused_credentials(exc: git.GitCommandError) -> bool:
    text = f"{exc.stderr or ''} {exc.stdout or ''}".lower()
    return any(words in text for words in AUTH_REFUSED)


def _scrub(exc: git.GitCommandError) -> Exception:
    """The git error's output only (not the command line, whose environment held the token);
    a header line git might echo is cut out."""
    lines = [line for line in str(exc.stderr or "").splitlines()
             if "authorization" not in line.lower()]
    return WorkspaceError(f"git failed: {' '.join(' '.join(lines).split())[:300]}")
