"""JSON shapes of GitHub REST objects, with the url fields PyGithub follows.

Pure functions from records (and git data) to dicts, built from the server's own base URL:
PyGithub derives later requests from these `url` fields (`pr.merge()` PUTs `{pr.url}/merge`),
so they must point back at this emulator. No state, no git commands, no HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sandbox.github import permissions
from sandbox.github.gitstore import CommitInfo, FileChange, Signature
from sandbox.github.models import (
    CheckRun,
    CommitStatus,
    GitHubUser,
    IssueComment,
    Label,
    Protection,
    PullRequest,
    Review,
    Team,
    user_id,
)


def iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


@dataclass(frozen=True)
class Urls:
    base: str
    owner: str
    name: str

    @property
    def repo(self) -> str:
        return f"{self.base}/repos/{self.owner}/{self.name}"

    @property
    def html(self) -> str:
        return f"{self.base}/{self.owner}/{self.name}"

    @property
    def clone(self) -> str:
        return f"{self.base}/{self.owner}/{self.name}.git"


def _account(urls: Urls, login: str, kind: str, node: str) -> dict[str, Any]:
    """The fields GitHub's simple-user has for any account (user, bot or organization)."""
    u = f"{urls.base}/users/{login}"
    return {
        "login": login,
        "id": user_id(login),
        "node_id": f"{node}_{login}",
        "avatar_url": f"{urls.base}/avatars/{login}",
        "gravatar_id": "",
        "url": u,
        "html_url": f"{urls.base}/{login}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def user(urls: Urls, login: str, users: dict[str, GitHubUser]) -> dict[str, Any]:
    known = users.get(login)
    payload = _account(urls, login, known.type if known else "User", "U")
    payload["name"] = known.name if known else None
    payload["email"] = known.email if known else None
    return payload


def collaborator(urls: Urls, login: str, users: dict[str, GitHubUser],
                 role: str) -> dict[str, Any]:
    return {**user(urls, login, users), "permissions": permissions.flags(role),
            "role_name": role}


def owner(urls: Urls) -> dict[str, Any]:
    return _account(urls, urls.owner, "Organization", "O")


def team(urls: Urls, item: Team) -> dict[str, Any]:
    t = f"{urls.base}/organizations/{user_id(urls.owner)}/team/{item.id}"
    return {
        "id": item.id, "node_id": f"T_{item.id}", "url": t,
        "html_url": f"{urls.base}/orgs/{urls.owner}/teams/{item.slug}",
        "name": item.slug, "slug": item.slug, "description": None, "privacy": "closed",
        "notification_setting": "notifications_enabled", "permission": item.permission,
        "members_url": f"{t}/members{{/member}}", "repositories_url": f"{t}/repos",
        "type": "organization", "parent": None,
    }


def integration(urls: Urls, slug: str, app_id: int, granted: dict[str, str],
                created: datetime | None) -> dict[str, Any]:
    """A GitHub App as GitHub shows it (in /app, protection lists, check runs)."""
    return {
        "id": app_id, "slug": slug, "node_id": f"A_{app_id}", "client_id": f"Iv1.{app_id}",
        "owner": owner(urls), "name": slug, "description": "", "external_url": urls.base,
        "html_url": f"{urls.base}/apps/{slug}", "created_at": iso(created),
        "updated_at": iso(created), "permissions": dict(granted),
        "events": ["pull_request", "pull_request_review", "check_run", "check_suite",
                   "status"],
    }


def repository(urls: Urls, default_branch: str, created: datetime, *, private: bool = False,
               role: str = "admin") -> dict[str, Any]:
    """The repository as GET /repos/{owner}/{repo} answers it (every field GitHub's
    description requires), `permissions` being the viewer's."""
    r = urls.repo
    templated = {
        "archive_url": f"{r}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{r}/assignees{{/user}}",
        "blobs_url": f"{r}/git/blobs{{/sha}}",
        "branches_url": f"{r}/branches{{/branch}}",
        "collaborators_url": f"{r}/collaborators{{/collaborator}}",
        "comments_url": f"{r}/comments{{/number}}",
        "commits_url": f"{r}/commits{{/sha}}",
        "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "contents_url": f"{r}/contents/{{+path}}",
        "contributors_url": f"{r}/contributors",
        "deployments_url": f"{r}/deployments",
        "downloads_url": f"{r}/downloads",
        "events_url": f"{r}/events",
        "forks_url": f"{r}/forks",
        "git_commits_url": f"{r}/git/commits{{/sha}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}",
        "git_tags_url": f"{r}/git/tags{{/sha}}",
        "hooks_url": f"{r}/hooks",
        "issue_comment_url": f"{r}/issues/comments{{/number}}",
        "issue_events_url": f"{r}/issues/events{{/number}}",
        "issues_url": f"{r}/issues{{/number}}",
        "keys_url": f"{r}/keys{{/key_id}}",
        "labels_url": f"{r}/labels{{/name}}",
        "languages_url": f"{r}/languages",
        "merges_url": f"{r}/merges",
        "milestones_url": f"{r}/milestones{{/number}}",
        "notifications_url": f"{r}/notifications{{?since,all,participating}}",
        "pulls_url": f"{r}/pulls{{/number}}",
        "releases_url": f"{r}/releases{{/id}}",
        "stargazers_url": f"{r}/stargazers",
        "statuses_url": f"{r}/statuses/{{sha}}",
        "subscribers_url": f"{r}/subscribers",
        "subscription_url": f"{r}/subscription",
        "tags_url": f"{r}/tags",
        "teams_url": f"{r}/teams",
        "trees_url": f"{r}/git/trees{{/sha}}",
    }
    host = urls.base.split("://", 1)[-1]
    return {
        "id": user_id(urls.owner + "/" + urls.name),
        "node_id": f"R_{urls.owner}_{urls.name}",
        "name": urls.name,
        "full_name": f"{urls.owner}/{urls.name}",
        "owner": owner(urls),
        "private": private,
        "visibility": "private" if private else "public",
        "html_url": urls.html,
        "description": None,
        "fork": False,
        "url": r,
        **templated,
        "clone_url": urls.clone,
        "git_url": urls.clone,
        "ssh_url": f"git@{host}:{urls.owner}/{urls.name}.git",
        "svn_url": urls.html,
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "license": None,
        "default_branch": default_branch,
        "forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0,
        "watchers_count": 0, "open_issues": 0, "open_issues_count": 0, "size": 0,
        "network_count": 0, "subscribers_count": 0,
        "has_issues": True, "has_projects": False, "has_wiki": False, "has_pages": False,
        "has_downloads": True, "has_discussions": False,
        "created_at": iso(created),
        "updated_at": iso(created),
        "pushed_at": iso(created),
        "archived": False,
        "disabled": False,
        "is_template": False,
        "topics": [],
        "permissions": permissions.flags(role),
        "allow_merge_commit": True,
        "allow_squash_merge": True,
        "allow_rebase_merge": True,
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
    }


def _git_actor(sig: Signature) -> dict[str, Any]:
    return {"name": sig.name, "email": sig.email, "date": iso(sig.date)}


def _user_by_email(urls: Urls, email: str, users: dict[str, GitHubUser]) -> dict[str, Any] | None:
    for known in users.values():
        if known.commit_email == email:
            return user(urls, known.login, users)
    return None


def commit(
    urls: Urls,
    info: CommitInfo,
    users: dict[str, GitHubUser],
    files: list[FileChange] | None = None,
) -> dict[str, Any]:
    r = urls.repo
    payload: dict[str, Any] = {
        "sha": info.sha,
        "node_id": f"C_{info.sha}",
        "url": f"{r}/commits/{info.sha}",
        "html_url": f"{urls.html}/commit/{info.sha}",
        "comments_url": f"{r}/commits/{info.sha}/comments",
        "commit": git_commit(urls, info),
        "author": _user_by_email(urls, info.author.email, users),
        "committer": _user_by_email(urls, info.committer.email, users),
        "parents": [
            {"sha": p, "url": f"{r}/commits/{p}", "html_url": f"{urls.html}/commit/{p}"}
            for p in info.parents
        ],
    }
    if files is not None:
        adds = sum(f.additions for f in files)
        dels = sum(f.deletions for f in files)
        payload["stats"] = {"additions": adds, "deletions": dels, "total": adds + dels}
        payload["files"] = [file_change(urls, f, info.sha) for f in files]
    return payload


def git_commit(urls: Urls, info: CommitInfo) -> dict[str, Any]:
    r = urls.repo
    return {
        "sha": info.sha,
        "node_id": f"GC_{info.sha}",
        "url": f"{r}/git/commits/{info.sha}",
        "html_url": f"{urls.html}/commit/{info.sha}",
        "author": _git_actor(info.author),
        "committer": _git_actor(info.committer),
        "message": info.message,
        "tree": {"sha": info.tree, "url": f"{r}/git/trees/{info.tree}"},
        "parents": [{"sha": p, "url": f"{r}/git/commits/{p}"} for p in info.parents],
        "comment_count": 0,
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def file_change(urls: Urls, change: FileChange, ref: str) -> dict[str, Any]:
    path = quote(change.filename)
    payload: dict[str, Any] = {
        "sha": change.blob_sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.changes,
        "blob_url": f"{urls.html}/blob/{ref}/{path}",
        "raw_url": f"{urls.html}/raw/{ref}/{path}",
        "contents_url": f"{urls.repo}/contents/{path}?ref={ref}",
    }
    if change.patch is not None:
        payload["patch"] = change.patch
    if change.previous_filename:
        payload["previous_filename"] = change.previous_filename
    return payload


def branch(
    urls: Urls,
    name: str,
    head: dict[str, Any],
    protection: Protection | None,
    full: bool,
    protected: bool | None = None,
) -> dict[str, Any]:
    """A branch; `protected` also counts rulesets (default: classic protection only)."""
    b = f"{urls.repo}/branches/{quote(name, safe='')}"
    payload: dict[str, Any] = {
        "name": name,
        "commit": head if full else {"sha": head["sha"], "url": head["url"]},
        "protected": protection is not None if protected is None else protected,
        "protection": {
            "enabled": protection is not None,
            "required_status_checks": {
                "enforcement_level": "non_admins"
                if protection and protection.required_status_checks
                else "off",
                "contexts": list(protection.required_status_checks or []) if protection else [],
                "checks": [
                    {"context": c, "app_id": None}
                    for c in (protection.required_status_checks or [])
                ]
                if protection
                else [],
            },
        },
        "protection_url": f"{b}/protection",
    }
    if full:
        payload["_links"] = {"self": b, "html": f"{urls.html}/tree/{name}"}
    return payload


def git_ref(urls: Urls, ref: str, sha: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "node_id": f"REF_{ref}",
        "url": f"{urls.repo}/git/{quote(ref)}",
        "object": {"type": "commit", "sha": sha, "url": f"{urls.repo}/git/commits/{sha}"},
    }


def label(urls: Urls, lab: Label) -> dict[str, Any]:
    return {
        "id": lab.id,
        "node_id": f"LA_{lab.id}",
        "url": f"{urls.repo}/labels/{quote(lab.name, safe='')}",
        "name": lab.name,
        "color": lab.color,
        "default": False,
        "description": lab.description,
    }


def pull_part(
    urls: Urls, ref: str, sha: str, users: dict[str, GitHubUser], repo: dict[str, Any]
) -> dict[str, Any]:
    return {
        "label": f"{urls.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": owner(urls),
        "repo": repo,
    }


def pull_request(
    urls: Urls,
    pr: PullRequest,
    *,
    users: dict[str, GitHubUser],
    repo: dict[str, Any],
    labels: list[Label],
    head_sha: str,
    base_sha: str,
    detail: dict[str, Any] | None,
    merge_commit_sha: str | None = None,
) -> dict[str, Any]:
    """A pull request; `detail` (mergeable, counts) is present on single GETs only, as on GitHub."""
    p = f"{urls.repo}/pulls/{pr.number}"
    i = f"{urls.repo}/issues/{pr.number}"
    html = f"{urls.html}/pull/{pr.number}"
    payload: dict[str, Any] = {
        "url": p,
        "id": pr.id,
        "node_id": f"PR_{pr.id}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": i,
        "commits_url": f"{p}/commits",
        "review_comments_url": f"{p}/comments",
        "review_comment_url": f"{urls.repo}/pulls/comments{{/number}}",
        "comments_url": f"{i}/comments",
        "statuses_url": f"{urls.repo}/statuses/{head_sha}",
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user(urls, pr.user, users),
        "body": pr.body,
        "labels": [label(urls, lab) for lab in labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": iso(pr.closed_at),
        "merged_at": iso(pr.merged_at),
        "merge_commit_sha": merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": pull_part(urls, pr.head, head_sha, users, repo),
        "base": pull_part(urls, pr.base, base_sha, users, repo),
        "_links": {
            "self": {"href": p},
            "html": {"href": html},
            "issue": {"href": i},
            "comments": {"href": f"{i}/comments"},
            "review_comments": {"href": f"{p}/comments"},
            "review_comment": {"href": f"{urls.repo}/pulls/comments{{/number}}"},
            "commits": {"href": f"{p}/commits"},
            "statuses": {"href": f"{urls.repo}/statuses/{head_sha}"},
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "draft": pr.draft,
    }
    if detail is not None:
        payload.update(detail)
        payload["merged_by"] = user(urls, pr.merged_by, users) if pr.merged_by else None
        payload["comments"] = len(pr.comments)
        payload["review_comments"] = 0
        payload["maintainer_can_modify"] = False
    return payload


def review(urls: Urls, pr_number: int, rev: Review, users: dict[str, GitHubUser]) -> dict[str, Any]:
    p = f"{urls.repo}/pulls/{pr_number}"
    html = f"{urls.html}/pull/{pr_number}#pullrequestreview-{rev.id}"
    payload: dict[str, Any] = {
        "id": rev.id,
        "node_id": f"PRR_{rev.id}",
        "user": user(urls, rev.user, users),
        "body": rev.body,
        "state": rev.state,
        "html_url": html,
        "pull_request_url": p,
        "author_association": "MEMBER",
        "_links": {"html": {"href": html}, "pull_request": {"href": p}},
        "commit_id": rev.commit_id,
    }
    if rev.submitted_at is not None:
        payload["submitted_at"] = iso(rev.submitted_at)
    return payload


def issue_comment(urls: Urls, c: IssueComment, users: dict[str, GitHubUser]) -> dict[str, Any]:
    return {
        "id": c.id,
        "node_id": f"IC_{c.id}",
        "url": f"{urls.repo}/issues/comments/{c.id}",
        "html_url": f"{urls.html}/pull/{c.issue_number}#issuecomment-{c.id}",
        "issue_url": f"{urls.repo}/issues/{c.issue_number}",
        "body": c.body,
        "user": user(urls, c.user, users),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "author_association": "MEMBER",
    }


def status(urls: Urls, s: CommitStatus, users: dict[str, GitHubUser]) -> dict[str, Any]:
    return {
        "url": f"{urls.repo}/statuses/{s.sha}",
        "avatar_url": f"{urls.base}/avatars/{s.creator}",
        "id": s.id,
        "node_id": f"SC_{s.id}",
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
        "creator": user(urls, s.creator, users),
    }


CI_APP_ID = 1


def check_run(urls: Urls, run: CheckRun, created: datetime | None = None) -> dict[str, Any]:
    output = run.output
    return {
        "id": run.id,
        "node_id": f"CR_{run.id}",
        "head_sha": run.head_sha,
        "external_id": run.external_id or "",
        "url": f"{urls.repo}/check-runs/{run.id}",
        "html_url": f"{urls.html}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "output": {
            "title": output.get("title"),
            "summary": output.get("summary"),
            "text": output.get("text"),
            "annotations_count": 0,
            "annotations_url": f"{urls.repo}/check-runs/{run.id}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.id},
        "app": {**integration(urls, "sandbox-ci", CI_APP_ID, {"checks": "write"},
                              created or run.started_at or run.completed_at),
                "name": "Sandbox CI"},
        "pull_requests": [],
    }
