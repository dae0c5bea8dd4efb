"""The Forge port on GitHub, through PyGithub's Requester (github_http.py adds conditional
reads, trust, backoff and rate limits to it).

Turns GitHub's JSON into our frozen values at once, and its refusals into our errors: the sha
guard's 409 is HeadMoved; a merge 405 is read for what it is (the "Base branch was modified"
race and a mergeability still being computed are retried, then MergeLater; a protection rule
is Protected, naming it; only a real conflict is MergeConflict). Lists are read to their last
page. A review counts only from a user with write access: each reviewer's permission is
asked, trusted for hours while a promotion waits, and asked again before every merge.

A little over 400 lines: it is the Forge port's one GitHub class (its HTTP, its Deployments and
its refusal rules already live beside it); splitting its reads from its writes would split what
the bot knows of a pull request (the body it wrote, the answers it holds) across two classes.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from github import Auth, Github
from urllib3.util.retry import Retry

from slackbot.adapters import github_rules as rules
from slackbot.adapters.github_auth import RenewableInstallationAuth
from slackbot.adapters.github_deployments import DeploymentWrites
from slackbot.adapters.github_http import GitHubApi, GitHubRefusal
from slackbot.adapters.github_rate import RateBudget, Standing
from slackbot.adapters.transport import unreachable
from slackbot.clock import SystemClock
from slackbot.errors import (
    ForgeError,
    ForgeUnavailable,
    HeadMoved,
    MergeConflict,
    MergeLater,
    NotMergeable,
    Protected,
)
from slackbot.ports import Clock, CommitInfo, Comparison, PullRequest, Review
from slackbot.webhooks import Change, body_digest

log = logging.getLogger(__name__)

CHECK_PASSED = frozenset({"success", "neutral", "skipped"})
CHECK_FAILED = frozenset(
    {"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"}
)
WRITERS = frozenset({"admin", "maintain", "write"})
# A reviewer's role is asked again after six hours while waiting, and always before a merge
# (the engine makes every answer stale then).
PERMISSION_TRUST = 6 * 3600.0
WRITTEN_KEPT = 4000  # pull request bodies whose echo is recognised
REPOSITORY_TRUST = 24 * 3600.0
MERGE_TRIES = 4  # a merge that races its base is tried this often, with growing pauses
PER_PAGE = 100


def github_client(base_url: str, token: str | None = None, *, app_id: int | None = None,
                  private_key: str | None = None, installation_id: int | None = None,
                  fast: bool = False, connections: int = 10) -> Github:
    """A PyGithub client with a token or, preferred, as a GitHub App installation (its token
    minted anew near its expiry or when GitHub refuses it). PyGithub's own retries are off
    but for connecting: GitHubApi retries, backs off and waits for rate limits itself. `fast`
    drops PyGithub's pacing of requests (emulators, tests); `connections`, the connections kept
    alive (requests' pool, 10 by default)."""
    options: dict[str, Any] = {"retry": Retry(total=2, connect=2, read=0, status=0, other=0,
                                              redirect=0, backoff_factor=0.2)}
    if fast:
        options.update(seconds_between_requests=None, seconds_between_writes=None)
    auth: Auth.Auth
    if token is not None:
        auth = Auth.Token(token)
    elif app_id is not None and private_key is not None and installation_id is not None:
        auth = RenewableInstallationAuth(Auth.AppAuth(app_id, private_key), installation_id)
    else:
        raise ValueError("github_client needs a token, or app_id, private_key and installation_id")
    return Github(auth=auth, base_url=base_url.rstrip("/"), pool_size=connections, **options)


@unreachable((requests.RequestException, OSError), ForgeUnavailable, "GitHub")
class GitHubForge(DeploymentWrites):
    def __init__(self, client: Github, *, clock: Clock | None = None,
                 trust_seconds: float = 0.0, sleep: Callable[[float], None] = time.sleep,
                 budget: RateBudget | None = None,
                 observe: Callable[[str], None] | None = None, serial_writes: bool = True):
        self.client = client
        self._sleep = sleep
        # (repo, pull) -> the body the bot last wrote there and when GitHub answered the write
        self._written: dict[tuple[str, int], tuple[str, float]] = {}
        self.api = GitHubApi(client.requester, clock or SystemClock(),
                             trust_seconds=trust_seconds, sleep=sleep, budget=budget,
                             observe=observe, serial_writes=serial_writes)

    # -- the client itself ---------------------------------------------------------------

    def token(self) -> str:
        """A current token for git over HTTPS (an App's is minted when needed). Never log it."""
        auth = self.client.requester.auth
        return str(getattr(auth, "token", ""))

    def renew_token(self, refused: str) -> bool:
        """git was refused `refused`: the next token() is a new one. False for a fixed token."""
        auth = self.client.requester.auth
        if isinstance(auth, RenewableInstallationAuth):
            auth.renew(refused)
            return True
        return False

    def rate(self) -> Standing:
        """GitHub's rate budget as its last answer told it."""
        return self.api.budget.standing()

    def ping(self) -> bool:
        self.api.send("GET", "/rate_limit")  # free: GitHub never counts it
        return True

    def refresh(self, repo: str, change: Change | None = None) -> None:
        """What the bot trusts about `repo` may be out of date (all of it, or what `change`
        names): the next reads ask GitHub (conditionally: unchanged answers are free)."""
        base = f"/repos/{repo}"
        if change is None:
            self.api.stale([base + "/"])
            return
        if change.body is not None and all(
                self._written_digest(repo, n) == change.body for n in change.pulls):
            return  # the echo of the bot's own body write: what it keeps is that answer
        if change.event == "pull_request" and change.action == "edited":  # not the bot's body
            for n in change.pulls:
                self._written.pop((repo.lower(), n), None)
        prefixes: list[str] = []
        if change.event in ("pull_request", "push"):
            prefixes += [f"{base}/pulls", f"{base}/branches/", f"{base}/compare/"]
        if change.event == "pull_request_review":  # its reviews; the pull request is as it was
            prefixes += [f"{base}/pulls/{n}/" for n in change.pulls] or [f"{base}/pulls"]
        if change.event in ("check_run", "check_suite"):
            prefixes += [f"{base}/commits/{s}/check-runs" for s in change.shas] or [
                f"{base}/commits/"]
        if change.event == "status":
            prefixes += [f"{base}/commits/{s}/status" for s in change.shas] or [
                f"{base}/commits/"]
        self.api.stale(prefixes)

    # -- reads -------------------------------------------------------------------------

    def branch_head(self, repo: str, branch: str) -> str:
        return str(self.api.get(f"/repos/{repo}/branches/{quote(branch)}")["commit"]["sha"])

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        """The first page's commits (GitHub lists up to 250) and files; ahead_by is the
        total; the trees of both ends (a comparison whose trees match changes no content)."""
        found = self.api.get(f"/repos/{repo}/compare/{quote(base)}...{quote(head)}")
        listed = found.get("commits") or ()
        commits = tuple(
            CommitInfo(c["sha"], c["commit"]["message"],
                       (c.get("author") or {}).get("login")
                       or (c["commit"].get("author") or {}).get("name") or "",
                       login=bool((c.get("author") or {}).get("login")))
            for c in listed)
        files = tuple(f["filename"] for f in found.get("files") or ())
        base_tree = ((found.get("base_commit") or {}).get("commit") or {}).get("tree") or {}
        head_tree = listed[-1]["commit"]["tree"]["sha"] if listed else ""
        merge_base = str((found.get("merge_base_commit") or {}).get("sha") or "")
        return Comparison(int(found["ahead_by"]), int(found["behind_by"]), commits, files,
                          base_tree=str(base_tree.get("sha") or ""), head_tree=head_tree,
                          first_commit_at=_oldest(listed), merge_base=merge_base,
                          head_sha=_head(int(found["ahead_by"]), listed, merge_base))

    def find_open_pull(self, repo: str, base: str, head: str) -> PullRequest | None:
        return self._find_open_pull(repo, base, head, fresh=False)

    def _find_open_pull(self, repo: str, base: str, head: str, fresh: bool) -> PullRequest | None:
        owner = repo.split("/")[0]
        query = f"state=open&base={quote(base)}&head={quote(f'{owner}:{head}')}&per_page=100"
        found = self.api.pages(f"/repos/{repo}/pulls?{query}", fresh=fresh)
        return _pull(found[0]) if found else None

    def get_pull(self, repo: str, number: int) -> PullRequest:
        return _pull(self.api.get(f"/repos/{repo}/pulls/{number}"))

    def check_states(self, repo: str, sha: str) -> dict[str, str]:
        """Every status context and check run on the commit, all pages of both."""
        states: dict[str, str] = {}
        for status in self.api.pages(f"/repos/{repo}/commits/{sha}/status?per_page={PER_PAGE}",
                                     "statuses"):
            states[status["context"]] = {"success": "success", "pending": "pending"}.get(
                status["state"], "failure")
        for run in self.api.pages(f"/repos/{repo}/commits/{sha}/check-runs?per_page={PER_PAGE}",
                                  "check_runs"):
            if run["status"] != "completed":
                state = "pending"
            elif run.get("conclusion") in CHECK_PASSED:
                state = "success"
            else:
                state = "failure"
            if states.get(run["name"]) != "failure":  # a failing source of a name wins
                states[run["name"]] = state
        return states

    def reviews(self, repo: str, number: int) -> list[Review]:
        found = self.api.pages(f"/repos/{repo}/pulls/{number}/reviews?per_page={PER_PAGE}")
        reviews = []
        for item in found:
            login = str((item.get("user") or {}).get("login") or "")
            reviews.append(Review(login, str(item["state"]), str(item.get("commit_id") or ""),
                                  bool(login) and self._writer(repo, login)))
        return reviews

    def _writer(self, repo: str, login: str) -> bool:
        """Whether `login` has write access to `repo` (not when GitHub will not say)."""
        try:
            found = self.api.get(f"/repos/{repo}/collaborators/{quote(login)}/permission",
                                 trust=PERMISSION_TRUST)
        except GitHubRefusal as exc:
            if exc.status == 404:
                return False
            if exc.status == 403:
                log.warning("github: may not read %s's permission on %s (%s): their review "
                            "does not count", login, repo, exc.message)
                return False
            raise
        role = str(found.get("role_name") or found.get("permission") or "none")
        return role in WRITERS

    def branch_exists(self, repo: str, branch: str) -> bool:
        try:
            self.api.get(f"/repos/{repo}/branches/{quote(branch)}", fresh=True)
        except GitHubRefusal as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def clone_url(self, repo: str) -> str:
        return str(self.api.get(f"/repos/{repo}", trust=REPOSITORY_TRUST)["clone_url"])

    def repository(self, repo: str) -> dict[str, Any]:
        """GET /repos/{repo} (asked afresh): what the token may do there."""
        found: dict[str, Any] = self.api.get(f"/repos/{repo}", fresh=True)
        return found

    # -- writes ------------------------------------------------------------------------

    def open_pull(self, repo: str, base: str, head: str, title: str, body: str) -> PullRequest:
        try:
            reply = self.api.send("POST", f"/repos/{repo}/pulls",
                                  {"base": base, "head": head, "title": title, "body": body})
        except GitHubRefusal as exc:
            if exc.status == 422 and "already exists" in exc.text:
                existing = self._find_open_pull(repo, base, head, fresh=True)
                if existing is not None:
                    return dataclasses.replace(existing, adopted=True)
            raise ForgeError(f"GitHub refused the pull request: {exc.text}") from exc
        self.api.stale([f"/repos/{repo}/pulls?"])
        pull = _pull(reply.body)
        self.api.remember(f"/repos/{repo}/pulls/{pull.number}", reply.body)
        # A pull request GitHub has just created has no reviews yet: the first verdict needs
        # no read of them (a review's delivery, or the poll, asks GitHub again).
        self.api.remember(f"/repos/{repo}/pulls/{pull.number}/reviews?per_page={PER_PAGE}", [])
        self._wrote(repo, pull.number, pull.body)
        return pull

    def pull_body(self, repo: str, number: int) -> str:
        """The body the bot last wrote, while the trust window lasts and no delivery said the
        pull request changed (a merge does not change its body: the body's rewrite after the
        deploy needs no read); else GitHub's."""
        kept = self._written.get((repo.lower(), number))
        if kept is not None and self.api.clock.now().timestamp() - kept[1] < self.api.trust_seconds:
            return kept[0]
        return self.get_pull(repo, number).body

    def update_pull_body(self, repo: str, number: int, body: str) -> None:
        reply = self.api.send("PATCH", f"/repos/{repo}/pulls/{number}", {"body": body})
        self.api.remember(f"/repos/{repo}/pulls/{number}", reply.body)
        self._wrote(repo, number, str(reply.body.get("body") or ""))

    def _wrote(self, repo: str, number: int, body: str) -> None:
        key = (repo.lower(), number)
        self._written.pop(key, None)  # the newest write last: the oldest goes first
        self._written[key] = (body, self.api.clock.now().timestamp())
        if len(self._written) > WRITTEN_KEPT:
            self._written.pop(next(iter(self._written)))

    def _written_digest(self, repo: str, number: int) -> str | None:
        kept = self._written.get((repo.lower(), number))
        return body_digest(kept[0]) if kept is not None else None

    def merge_pull(self, repo: str, number: int, sha: str, title: str) -> str:
        """Merge exactly `sha`. The base-branch race and a mergeability not computed yet are
        tried again with growing pauses; then MergeLater (nothing merged)."""
        path = f"/repos/{repo}/pulls/{number}"
        retry = ""
        for attempt in range(MERGE_TRIES):
            try:
                reply = self.api.send("PUT", f"{path}/merge", {
                    "merge_method": "merge", "sha": sha, "commit_title": title})
                return str(reply.body["sha"])
            except GitHubRefusal as exc:
                retry = self._merge_refusal(repo, number, exc)
            finally:
                self.api.stale([f"/repos/{repo}/"])
            if attempt + 1 < MERGE_TRIES:
                self._sleep(2.0 ** attempt)
        raise MergeLater(retry)

    def _merge_refusal(self, repo: str, number: int, exc: GitHubRefusal) -> str:
        """Raise what a refused merge means; return why to try again when it is transient."""
        text = exc.text
        if exc.status == 409:
            raise HeadMoved(text) from exc
        if exc.status == 405 and rules.BASE_MODIFIED in text.lower():
            return text
        if exc.status == 405 and rules.NOT_MERGEABLE in text.lower():
            mergeable = self._mergeable(repo, number)
            if mergeable is None:
                return "GitHub is still computing whether the pull request merges"
            if mergeable:
                return text  # it merges cleanly after all: another try
            raise NotMergeable(text) from exc
        rule = rules.protection_rule(text)
        if rule is not None:
            raise Protected(rule, self._base_of(repo, number)) from exc
        if exc.status == 405:
            raise NotMergeable(text) from exc
        raise ForgeError(f"GitHub refused the merge: {text}") from exc

    def _mergeable(self, repo: str, number: int) -> bool | None:
        """GitHub's mergeable once it has computed it (null meanwhile: read again a few
        times, briefly)."""
        for attempt in range(3):
            pull = _pull(self.api.get(f"/repos/{repo}/pulls/{number}", fresh=True))
            if pull.mergeable is not None:
                return pull.mergeable
            self._sleep(1.0 + attempt)
        return None

    def _base_of(self, repo: str, number: int) -> str:
        try:
            return self.get_pull(repo, number).base
        except ForgeError:
            return "the base branch"

    def comment(self, repo: str, number: int, body: str) -> None:
        self.api.send("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})

    def create_branch(self, repo: str, branch: str, sha: str) -> None:
        try:
            self.api.send("POST", f"/repos/{repo}/git/refs",
                          {"ref": f"refs/heads/{branch}", "sha": sha})
        except GitHubRefusal as exc:
            rule = rules.protection_rule(exc.text)
            if rule is not None:
                raise Protected(rule, branch) from exc
            raise
        finally:
            self.api.stale([f"/repos/{repo}/branches/"])

    def merge_branch(self, repo: str, base: str, head: str, message: str) -> str | None:
        try:
            reply = self.api.send("POST", f"/repos/{repo}/merges",
                                  {"base": base, "head": head, "commit_message": message})
        except GitHubRefusal as exc:
            rule = rules.protection_rule(exc.text)
            if rule is not None:
                raise Protected(rule, base) from exc
            if exc.status == 409:
                raise MergeConflict(exc.text) from exc
            raise ForgeError(f"GitHub refused to merge {head} into {base}: {exc.text}") from exc
        finally:
            self.api.stale([f"/repos/{repo}/"])
        return None if reply.status == 204 or not reply.body else str(reply.body["sha"])

    def fast_forward(self, repo: str, branch: str, sha: str) -> bool:
        """Move `branch` to `sha` if that is a fast-forward (False: it is not, or lost a race)."""
        try:
            self.api.send("PATCH", f"/repos/{repo}/git/refs/heads/{quote(branch)}",
                          {"sha": sha, "force": False})
        except GitHubRefusal as exc:
            rule = rules.protection_rule(exc.text)
            if rule is not None:
                raise Protected(rule, branch) from exc
            if exc.status in (409, 422):  # "Update is not a fast forward", or a lost race
                return False
            raise
        finally:
            self.api.stale([f"/repos/{repo}/"])
        return True


def _pull(data: dict[str, Any]) -> PullRequest:
    merged = bool(data.get("merged") or data.get("merged_at"))
    return PullRequest(
        number=int(data["number"]),
        url=str(data["html_url"]),
        base=str(data["base"]["ref"]),
        head=str(data["head"]["ref"]),
        head_sha=str(data["head"]["sha"]),
        state=str(data["state"]),
        merged=merged,
        mergeable=data.get("mergeable"),
        body=str(data.get("body") or ""),
        author=str((data.get("user") or {}).get("login") or ""),
        merge_sha=str(data["merge_commit_sha"]) if merged and data.get("merge_commit_sha")
        else None,
    )


def _head(ahead_by: int, listed: Sequence[dict[str, Any]], merge_base: str) -> str:
    """The compared head: the merge base when nothing is ahead; else, when every commit ahead
    is listed, the one commit no other listed commit has as a parent ("" otherwise)."""
    if ahead_by == 0:
        return merge_base
    if len(listed) != ahead_by:
        return ""
    parents = {p.get("sha") for c in listed for p in c.get("parents") or ()}
    tips = [str(c["sha"]) for c in listed if c["sha"] not in parents]
    return tips[0] if len(tips) == 1 else ""


def _oldest(listed: Any) -> datetime | None:
    """The oldest committer time of a comparison's commits (GitHub's ISO 8601, "Z"), if any."""
    times = []
    for c in listed:
        stamp = ((c.get("commit") or {}).get("committer") or {}).get("date")
        if stamp:
            times.append(datetime.fromisoformat(str(stamp).replace("Z", "+00:00")))
    return min(times, default=None)
