"""The Workspace port on real git (GitPython): first-parent history, revert commits, a change
applied onto another branch, the commits a change is made of, in a local clone per
repository, pushed back over HTTPS with the bot's token.

The token lives only in the remote URL of the private clone (never logged, never in a
message). Each operation fetches first and pushes without force, so a branch that moved
meanwhile is refused (HeadMoved), never overwritten.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import git

from slackbot.errors import HeadMoved, MergeConflict, WorkspaceError
from slackbot.ports import Applied, CommitInfo

BOT_IDENTITY = ("promotebot", "promotebot@users.noreply.github.com")


def with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    netloc = f"x-access-token:{quote(token, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class GitWorkspace:
    def __init__(self, clone_url_of: Callable[[str], str], token: Callable[[], str],
                 root: Path | None = None):
        self._clone_url_of = clone_url_of
        self._token = token
        self._root = Path(root or tempfile.mkdtemp(prefix="promotebot-git-"))
        self._repos: dict[str, git.Repo] = {}
        self._lock = threading.Lock()

    def _env(self) -> dict[str, str]:
        return {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": BOT_IDENTITY[0], "GIT_AUTHOR_EMAIL": BOT_IDENTITY[1],
                "GIT_COMMITTER_NAME": BOT_IDENTITY[0], "GIT_COMMITTER_EMAIL": BOT_IDENTITY[1]}

    def _repo(self, name: str) -> git.Repo:
        if name not in self._repos:
            path = self._root / name.replace("/", "__")
            url = with_token(self._clone_url_of(name), self._token())
            try:
                if path.exists():
                    repo = git.Repo(path)
                else:
                    repo = git.Repo.init(path, bare=True)
                    repo.create_remote("origin", url)
            except git.GitCommandError as exc:
                raise WorkspaceError(f"cannot prepare a clone of {name}") from _scrub(exc)
            self._repos[name] = repo
        return self._repos[name]

    def _fetch(self, repo: git.Repo, branch: str) -> str:
        try:
            with repo.git.custom_environment(**self._env()):
                repo.git.fetch("origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
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
            try:
                tree = local.git.rev_parse(f"{target}^{{tree}}")
                with local.git.custom_environment(**self._env()):
                    sha = str(local.git.commit_tree(tree, "-p", head, "-m", message))
                    destination = new_branch or branch
                    local.git.push("origin", f"{sha}:refs/heads/{destination}")
            except git.GitCommandError as exc:
                text = str(_scrub(exc))
                if "rejected" in text or "non-fast-forward" in text or "fetch first" in text:
                    raise HeadMoved(f"{branch} moved while the revert was being pushed") from None
                raise WorkspaceError(f"cannot push the revert to {new_branch or branch}") from None
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


def _scrub(exc: git.GitCommandError) -> Exception:
    """The git error without the command line or output that may carry the token URL."""
    text = " ".join(str(exc.stderr or "").split())
    text = text.replace(os.environ.get("GIT_ASKPASS", "") or "\x00", "")
    while "x-access-token:" in text:
        start = text.index("x-access-token:")
        end = text.find("@", start)
        text = text[:start] + "x-access-token:***" + (text[end:] if end > 0 else "")
    return WorkspaceError(f"git failed: {text[:300]}")
