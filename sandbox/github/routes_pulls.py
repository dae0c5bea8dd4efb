"""Routes for pull requests: create, list, get, update, merge, reviews, comments and labels.

Paths are relative to /repos/{owner}/{repo}. The 422 bodies for "No commits between" and
"A pull request already exists" and the 405/409 answers of the merge endpoint follow
api.github.com (GitHub's REST API). Comments and labels live on the PR's issue number, as on
GitHub. Gates and merges themselves are `RepoState`'s; this module validates and shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.github import shapes, webhooks
from sandbox.github.errors import (
    ApiError,
    custom_error,
    field_error,
    not_found,
    unprocessable,
    validation_failed,
)
from sandbox.github.models import IssueComment, Label, PullRequest, Review
from sandbox.github.protection import RefUpdate
from sandbox.github.routing import Request, Response, Router, listing, paginate
from sandbox.github.state import BASE_MODIFIED, NOT_MERGEABLE

if TYPE_CHECKING:
    from sandbox.github.app import App

router = Router()
PULL = r"/pulls/(?P<number>\d+)"
ISSUE = r"/issues/(?P<number>\d+)"
# A pull request's issue (comments, labels) answers to either permission.
ISSUE_READ = ("issues:read", "pull_requests:read")
ISSUE_WRITE = ("issues:write", "pull_requests:write")
REVIEW_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


@router.route("POST", r"/pulls", needs="pull_requests:write")
def create_pull(app: App, req: Request) -> Response:
    body = req.body()
    base = req.string(body, "base", "PullRequest", required=True) or ""
    head_arg = req.string(body, "head", "PullRequest", required=True) or ""
    title = req.string(body, "title", "PullRequest")
    text = req.string(body, "body", "PullRequest")
    if not title:
        raise validation_failed(field_error("PullRequest", "title", "missing_field"))
    owner, _, head = head_arg.rpartition(":")
    if owner and owner.lower() != app.urls.owner.lower():
        raise validation_failed(field_error("PullRequest", "head"))
    base_sha, head_sha = app.repo.branch_sha(base), app.repo.branch_sha(head)
    if base_sha is None:
        raise validation_failed(field_error("PullRequest", "base"))
    if head_sha is None:
        raise validation_failed(field_error("PullRequest", "head"))
    if app.repo.count(f"{base_sha}..{head_sha}") == 0:
        raise validation_failed(
            custom_error("PullRequest", f"No commits between {base} and {head_arg}")
        )
    for other in app.state.pulls.values():
        if other.state == "open" and other.head == head and other.base == base:
            raise validation_failed(
                custom_error(
                    "PullRequest", f"A pull request already exists for {app.urls.owner}:{head}."
                )
            )
    stamp = app.state.now()
    pr = PullRequest(
        number=app.state.next_number(),
        id=app.state.next_id(),
        title=title,
        body=text,
        user=req.user.login,
        base=base,
        head=head,
        draft=bool(body.get("draft")),
        created_at=stamp,
        updated_at=stamp,
    )
    app.state.pulls[pr.number] = pr
    app.state.watch(pr)
    with app.repo.write_lock:
        app.repo.git("update-ref", f"refs/pull/{pr.number}/head", head_sha)
    app.emit("pull_request", lambda: webhooks.pull_request(app, pr, "opened", req.user.login))
    return Response(201, app.pull_json(pr, detail=True))


@router.route("GET", r"/pulls", needs="pull_requests:read")
def list_pulls(app: App, req: Request) -> Response:
    state = req.arg("state") or "open"
    if state not in ("open", "closed", "all"):
        raise validation_failed(field_error("PullRequest", "state"))
    base = req.arg("base")
    head = req.arg("head")
    head_branch: str | None = None
    if head and ":" in head:  # GitHub ignores a head filter without its "owner:" part
        owner, _, head_branch = head.partition(":")
        if owner.lower() != app.urls.owner.lower():
            head_branch = "\0"  # matches nothing: there are no forks
    pulls = [
        pr
        for pr in app.state.pulls.values()
        if (state == "all" or pr.state == state)
        and (base is None or pr.base == base)
        and (head_branch is None or pr.head == head_branch)
    ]
    sort, direction = req.arg("sort") or "created", req.arg("direction")
    reverse = (direction or "desc") == "desc"

    def order(p: PullRequest) -> tuple[datetime, int]:
        return (p.updated_at if sort == "updated" else p.created_at, p.number)

    pulls.sort(key=order, reverse=reverse)
    page, headers = paginate(req, pulls)
    return Response(200, [app.pull_json(pr, detail=False) for pr in page], headers)


@router.route("GET", PULL, needs="pull_requests:read")
def get_pull(app: App, req: Request) -> Response:
    return Response(200, app.pull_json(app.pull(req.params["number"]), detail=True))


@router.route("PATCH", PULL, needs="pull_requests:write")
def update_pull(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    body = req.body()
    title = req.string(body, "title", "PullRequest")
    state = req.string(body, "state", "PullRequest")
    base = req.string(body, "base", "PullRequest")
    if state is not None and state not in ("open", "closed"):
        raise validation_failed(field_error("PullRequest", "state"))
    if base is not None and app.repo.branch_sha(base) is None:
        raise validation_failed(field_error("PullRequest", "base"))
    if state == "open" and pr.state == "closed":
        if pr.merged:
            raise validation_failed(
                custom_error("PullRequest", "Cannot reopen a merged pull request", "state")
            )
        for other in app.state.pulls.values():
            if (
                other is not pr
                and other.state == "open"
                and other.head == pr.head
                and other.base == pr.base
            ):
                raise validation_failed(
                    custom_error(
                        "PullRequest",
                        f"A pull request already exists for {app.urls.owner}:{pr.head}.",
                    )
                )
    changes: dict[str, Any] = {}
    if title is not None and title != pr.title:
        changes["title"] = {"from": pr.title}
        pr.title = title
    if "body" in body:
        text = req.string(body, "body", "PullRequest")
        if text != pr.body:
            changes["body"] = {"from": pr.body}
            pr.body = text
    if base is not None and not pr.merged and base != pr.base:
        changes["base"] = {"ref": {"from": pr.base}, "sha": {"from": app.state.base_sha(pr)}}
        pr.base = base
    changed_state = state is not None and state != pr.state and not pr.merged
    if state is not None and state != pr.state and not pr.merged:
        if state == "closed":
            pr.closed_head_sha, pr.closed_base_sha = app.state.head_sha(pr), app.state.base_sha(pr)
            pr.closed_at = app.state.now()
        else:
            pr.closed_head_sha = pr.closed_base_sha = None
            pr.closed_at = None
        pr.state = state
        if state == "open":
            app.state.watch(pr)
    pr.updated_at = app.state.now()
    if changes and pr.state == "open":
        app.emit("pull_request", lambda: webhooks.pull_request(
            app, pr, "edited", req.user.login, changes=changes))
    if changed_state:
        action = "closed" if pr.state == "closed" else "reopened"
        app.emit("pull_request", lambda: webhooks.pull_request(app, pr, action, req.user.login))
    return Response(200, app.pull_json(pr, detail=True))


@router.route("GET", PULL + "/commits", needs="pull_requests:read")
def pull_commits(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    infos = list(reversed(app.repo.commits(f"{app.state.base_sha(pr)}..{app.state.head_sha(pr)}")))
    page, headers = paginate(req, infos, default=30, maximum=250)
    return Response(200, [shapes.commit(app.urls, i, app.state.users) for i in page], headers)


@router.route("GET", PULL + "/files", needs="pull_requests:read")
def pull_files(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    head = app.state.head_sha(pr)
    merge_base = app.repo.merge_base(app.state.base_sha(pr), head)
    files = app.repo.diff_files(merge_base, head)
    return listing(req, [shapes.file_change(app.urls, f, head) for f in files])


@router.route("GET", PULL + "/merge", needs="pull_requests:read")
def is_merged(app: App, req: Request) -> Response:
    if app.pull(req.params["number"]).merged:
        return Response(204)
    raise not_found()


@router.route("PUT", PULL + "/merge", needs="contents:write")
def merge_pull(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    body = req.body()
    method = req.string(body, "merge_method", "PullRequest") or "merge"
    if method not in ("merge", "squash", "rebase"):
        raise validation_failed(field_error("PullRequest", "merge_method"))
    title = req.string(body, "commit_title", "PullRequest")
    message = req.string(body, "commit_message", "PullRequest")
    sha = req.string(body, "sha", "PullRequest")
    if pr.state == "open" and app.faults.take_merge_race():
        raise ApiError(405, BASE_MODIFIED)
    if pr.state == "open" and app.faults.take_merge_while_computing():
        app.state.mergeability_tracker.restart(pr.number, app.state.base_sha(pr),
                                               app.state.head_sha(pr))
        raise ApiError(405, NOT_MERGEABLE)
    new = app.state.merge_pull(pr, req.principal, method, title, message, sha)
    app.emit("pull_request", lambda: webhooks.pull_request(app, pr, "closed", req.user.login))
    webhooks.after_push(app, RefUpdate(f"refs/heads/{pr.base}", pr.closed_base_sha or "", new,
                                       True), req.user.login)
    return Response(
        200, {"sha": new, "merged": True, "message": "Pull Request successfully merged"}
    )


# -- reviews ---------------------------------------------------------------------------


@router.route("GET", PULL + "/reviews", needs="pull_requests:read")
def list_reviews(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    visible = [r for r in pr.reviews if r.state != "PENDING" or r.user == req.user.login]
    return listing(req, [shapes.review(app.urls, pr.number, r, app.state.users) for r in visible])


@router.route("GET", PULL + r"/reviews/(?P<review>\d+)", needs="pull_requests:read")
def get_review(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    for review in pr.reviews:
        if review.id == int(req.params["review"]):
            return Response(200, shapes.review(app.urls, pr.number, review, app.state.users))
    raise not_found()


@router.route("POST", PULL + "/reviews", needs="pull_requests:write")
def create_review(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    body = req.body()
    event = req.string(body, "event", "PullRequestReview")
    text = req.string(body, "body", "PullRequestReview") or ""
    commit_id = req.string(body, "commit_id", "PullRequestReview")
    if event is not None and event not in REVIEW_STATES:
        raise unprocessable(f"Unexpected event: {event}")
    if pr.state == "closed" and pr.merged and event in ("APPROVE", "REQUEST_CHANGES"):
        raise unprocessable("Can not approve or request changes on a merged pull request")
    login = req.user.login
    if login == pr.user and event == "APPROVE":
        raise unprocessable("Can not approve your own pull request")
    if login == pr.user and event == "REQUEST_CHANGES":
        raise unprocessable("Can not request changes on your own pull request")
    if event in ("REQUEST_CHANGES", "COMMENT") and not text.strip():
        raise unprocessable(f"Body is required for {event.lower().replace('_', ' ')} reviews")
    if commit_id is not None and app.repo.resolve(commit_id) is None:
        raise unprocessable("Commit SHA could not be resolved")
    review = Review(
        id=app.state.next_id(),
        user=login,
        state=REVIEW_STATES[event] if event else "PENDING",
        body=text,
        commit_id=commit_id or app.state.head_sha(pr),
        submitted_at=app.state.now() if event else None,
    )
    pr.reviews.append(review)
    pr.updated_at = app.state.now()
    if event:
        app.emit("pull_request_review",
                 lambda: webhooks.pull_request_review(app, pr, review, login))
    return Response(200, shapes.review(app.urls, pr.number, review, app.state.users))


# -- the pull request's issue: comments and labels --------------------------------------


@router.route("GET", ISSUE, needs=ISSUE_READ)
def get_issue(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    i = f"{app.urls.repo}/issues/{pr.number}"
    payload: dict[str, Any] = {
        "url": i,
        "id": pr.id,
        "node_id": f"I_{pr.id}",
        "number": pr.number,
        "title": pr.title,
        "body": pr.body,
        "state": pr.state,
        "user": app.user_json(pr.user),
        "labels": [shapes.label(app.urls, app.state.labels[n]) for n in pr.labels],
        "comments": len(pr.comments),
        "comments_url": f"{i}/comments",
        "labels_url": f"{i}/labels{{/name}}",
        "html_url": f"{app.urls.html}/pull/{pr.number}",
        "repository_url": app.urls.repo,
        "created_at": shapes.iso(pr.created_at),
        "updated_at": shapes.iso(pr.updated_at),
        "closed_at": shapes.iso(pr.closed_at),
        "pull_request": {
            "url": f"{app.urls.repo}/pulls/{pr.number}",
            "html_url": f"{app.urls.html}/pull/{pr.number}",
            "merged_at": shapes.iso(pr.merged_at),
        },
    }
    return Response(200, payload)


@router.route("GET", ISSUE + "/comments", needs=ISSUE_READ)
def list_comments(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    return listing(req, [shapes.issue_comment(app.urls, c, app.state.users) for c in pr.comments])


@router.route("POST", ISSUE + "/comments", needs=ISSUE_WRITE)
def create_comment(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    text = req.string(req.body(), "body", "IssueComment", required=True) or ""
    if not text.strip():
        raise validation_failed(field_error("IssueComment", "body", "missing_field"))
    stamp = app.state.now()
    comment = IssueComment(app.state.next_id(), pr.number, req.user.login, text, stamp, stamp)
    pr.comments.append(comment)
    return Response(201, shapes.issue_comment(app.urls, comment, app.state.users))


@router.route("GET", r"/issues/comments/(?P<comment>\d+)", needs=ISSUE_READ)
def get_comment(app: App, req: Request) -> Response:
    for pr in app.state.pulls.values():
        for c in pr.comments:
            if c.id == int(req.params["comment"]):
                return Response(200, shapes.issue_comment(app.urls, c, app.state.users))
    raise not_found()


def _label_names(req: Request) -> list[str]:
    data = req.json()
    if isinstance(data, dict):
        data = data.get("labels")
    if not isinstance(data, list):
        raise validation_failed(field_error("Label", "labels"))
    names: list[str] = []
    for item in data:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise validation_failed(field_error("Label", "name"))
        names.append(name)
    return names


def _ensure_label(app: App, name: str) -> Label:
    for existing in app.state.labels.values():
        if existing.name.lower() == name.lower():
            return existing
    app.state.labels[name] = Label(app.state.next_id(), name)
    return app.state.labels[name]


def _issue_labels(app: App, pr: PullRequest) -> Response:
    return Response(200, [shapes.label(app.urls, app.state.labels[n]) for n in pr.labels])


@router.route("GET", ISSUE + "/labels", needs=ISSUE_READ)
def list_issue_labels(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    return listing(req, [shapes.label(app.urls, app.state.labels[n]) for n in pr.labels])


@router.route("POST", ISSUE + "/labels", needs=ISSUE_WRITE)
def add_labels(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    for name in _label_names(req):
        label = _ensure_label(app, name)
        if label.name not in pr.labels:
            pr.labels.append(label.name)
    return _issue_labels(app, pr)


@router.route("PUT", ISSUE + "/labels", needs=ISSUE_WRITE)
def set_labels(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    pr.labels = list(dict.fromkeys(_ensure_label(app, n).name for n in _label_names(req)))
    return _issue_labels(app, pr)


@router.route("DELETE", ISSUE + "/labels", needs=ISSUE_WRITE)
def clear_labels(app: App, req: Request) -> Response:
    app.pull(req.params["number"]).labels = []
    return Response(204)


@router.route("DELETE", ISSUE + r"/labels/(?P<name>.+)", needs=ISSUE_WRITE)
def remove_label(app: App, req: Request) -> Response:
    pr = app.pull(req.params["number"])
    wanted = req.params["name"].lower()
    kept = [n for n in pr.labels if n.lower() != wanted]
    if len(kept) == len(pr.labels):
        raise not_found("Label does not exist")
    pr.labels = kept
    return _issue_labels(app, pr)


@router.route("GET", r"/labels", needs=ISSUE_READ)
def list_repo_labels(app: App, req: Request) -> Response:
    return listing(req, [shapes.label(app.urls, lab) for lab in app.state.labels.values()])


@router.route("GET", r"/labels/(?P<name>.+)", needs=ISSUE_READ)
def get_repo_label(app: App, req: Request) -> Response:
    for lab in app.state.labels.values():
        if lab.name.lower() == req.params["name"].lower():
            return Response(200, shapes.label(app.urls, lab))
    raise not_found()


@router.route("POST", r"/labels", needs=ISSUE_WRITE)
def create_repo_label(app: App, req: Request) -> Response:
    body = req.body()
    name = req.string(body, "name", "Label", required=True) or ""
    if any(lab.name.lower() == name.lower() for lab in app.state.labels.values()):
        raise validation_failed({"resource": "Label", "code": "already_exists", "field": "name"})
    label = Label(
        app.state.next_id(),
        name,
        req.string(body, "color", "Label") or "ededed",
        req.string(body, "description", "Label"),
    )
    app.state.labels[name] = label
    return Response(201, shapes.label(app.urls, label))
