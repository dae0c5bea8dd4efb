"""At start-up: may the bot's GitHub credentials do what promotebot does? Each missing grant is
named (the permission, the repository, what to change), never shown as a stack trace.

A GitHub App's installation token says what it may do (its `permissions`); a token's reach is
read from each repository as the token sees it (`permissions.push`) and, for a classic token,
its scopes. A GitHub that does not answer is not a problem of the credentials: it is logged
and the bot starts (it retries every request anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slackbot.adapters.github import GitHubForge
from slackbot.adapters.github_auth import RenewableInstallationAuth
from slackbot.adapters.github_http import GitHubRefusal
from slackbot.errors import ForgeError, ForgeUnavailable

log = logging.getLogger(__name__)

# What docs/deploy.md asks the App to be granted, and why.
APP_PERMISSIONS = {
    "contents": ("write", "merge pull requests and push reverts and hotfix branches"),
    "pull_requests": ("write", "open, comment on and merge pull requests"),
    "checks": ("read", "read check runs"),
    "statuses": ("read", "read commit statuses"),
    "metadata": ("read", "read the repository and its collaborators' permissions"),
}
# What an app with githubWriteBack on (the default) needs besides: its deploys written back.
WRITE_BACK_PERMISSIONS = {
    "deployments": ("write", "record each deploy as a GitHub Deployment (githubWriteBack)"),
    "statuses": ("write", "set each deployed commit's status (githubWriteBack)"),
}
LEVELS = ("none", "read", "write", "admin")


def _covers(have: str | None, want: str) -> bool:
    have = have if have in LEVELS else "none"
    return LEVELS.index(have) >= LEVELS.index(want)


def access_problems(forge: GitHubForge, repositories: Iterable[str],
                    write_back: bool = False) -> list[str]:
    """What the credentials lack, one sentence each with the variable it concerns;
    `write_back`: some app writes its deploys back to GitHub (Deployments, statuses)."""
    auth = forge.client.requester.auth
    app = isinstance(auth, RenewableInstallationAuth)
    variable = "GITHUB_APP_INSTALLATION_ID" if app else "GITHUB_TOKEN"
    problems: list[str] = []
    try:
        if isinstance(auth, RenewableInstallationAuth):
            granted = auth.permissions()
            wanted = {**APP_PERMISSIONS, **(WRITE_BACK_PERMISSIONS if write_back else {})}
            for name, (level, why) in wanted.items():
                if not _covers(granted.get(name), level):
                    problems.append(
                        f"{variable}: the GitHub App's installation lacks the permission "
                        f"{name}: {level} (promotebot needs it to {why}); grant it in the App's "
                        f"settings and accept it on the installation")
        for repository in repositories:
            problems += _repository_problems(forge, repository, variable, app)
    except ForgeUnavailable as exc:
        log.warning("github: could not check the credentials at start-up (%s); starting", exc)
        return []
    except GitHubRefusal as exc:
        if exc.status != 401:
            raise
        problems.append(f"{variable}: GitHub refused the credentials ({exc.message}); check "
                        f"the token, or the App id, key and installation id")
    if not app:
        scopes = forge.client.requester.oauth_scopes
        if scopes is not None and not {"repo", "public_repo"} & {s.strip() for s in scopes}:
            problems.append(f"{variable}: the classic token has the scopes "
                            f"{', '.join(scopes) or 'none'}: it needs the repo scope")
    return problems


def _repository_problems(forge: GitHubForge, repository: str, variable: str,
                         app: bool) -> list[str]:
    try:
        found = forge.repository(repository)
    except GitHubRefusal as exc:
        if exc.status in (403, 404):
            where = "install the App on it" if app else "give the token access to it"
            return [f"{variable}: GitHub shows no repository {repository} to these credentials: "
                    f"{where} (or fix the pipeline file's repository)"]
        raise
    except ForgeError:
        raise
    permissions = found.get("permissions") or {}
    if not app and permissions and not permissions.get("push"):
        return [f"{variable}: the token may read {repository} but not write to it: it needs "
                f"Contents: write and Pull requests: write (a fine-grained token) or the repo "
                f"scope (a classic one), and a user with write access"]
    return []
