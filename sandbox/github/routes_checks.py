"""Routes for commit statuses and check runs: create, update, list, and the combined status.

Paths are relative to /repos/{owner}/{repo}. The combined state is GitHub's: failure if any
latest status is error/failure, pending if there are none or any is pending, else success.
Unlike GitHub, any token may create check runs (on github.com only a CI App can), which is
how tests and the sandbox act as CI. Each change is also delivered as a webhook when they are on.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.github import shapes, webhooks
from sandbox.github.errors import ApiError, custom_error, field_error, not_found, validation_failed
from sandbox.github.models import CheckRun, CommitStatus
from sandbox.github.routing import Request, Response, Router, listing, paginate

if TYPE_CHECKING:
    from sandbox.github.app import App

router = Router()
STATUS_STATES = ("error", "failure", "pending", "success")
MAX_DESCRIPTION = 140
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
    "startup_failure",
)


def add_status(
    app: App,
    sha: str,
    state: str,
    context: str,
    description: str | None,
    target_url: str | None,
    creator: str,
) -> CommitStatus:
    stamp = app.state.now()
    status = CommitStatus(
        app.state.next_id(), sha, state, context, description, target_url, creator, stamp, stamp
    )
    app.state.statuses.append(status)
    app.emit("status", lambda: webhooks.status(app, status))
    return status


@router.route("POST", r"/statuses/(?P<sha>[^/]+)", needs="statuses:write")
def create_status(app: App, req: Request) -> Response:
    body = req.body()
    ref = req.params["sha"]
    sha = app.repo.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    state = req.string(body, "state", "Status", required=True)
    if state not in STATUS_STATES:
        raise validation_failed(
            custom_error("Status", "state is not included in the list", "state")
        )
    context = req.string(body, "context", "Status") or "default"
    if len(req.string(body, "description", "Status") or "") > MAX_DESCRIPTION:
        raise validation_failed(custom_error(
            "Status", "description is too long (maximum is 140 characters)", "description"))
    status = add_status(
        app,
        sha,
        state,
        context,
        req.string(body, "description", "Status"),
        req.string(body, "target_url", "Status"),
        req.user.login,
    )
    return Response(201, shapes.status(app.urls, status, app.state.users))


def _statuses(app: App, req: Request, ref: str) -> Response:
    sha = app.sha_of(ref)
    items = [s for s in reversed(app.state.statuses) if s.sha == sha]
    return listing(req, [shapes.status(app.urls, s, app.state.users) for s in items])


@router.route("GET", r"/statuses/(?P<ref>[^/]+)", needs="statuses:read")
def list_statuses_by_sha(app: App, req: Request) -> Response:
    return _statuses(app, req, req.params["ref"])


@router.route("GET", r"/commits/(?P<ref>[^/]+)/statuses", needs="statuses:read")
def list_statuses(app: App, req: Request) -> Response:
    return _statuses(app, req, req.params["ref"])


@router.route("GET", r"/commits/(?P<ref>[^/]+)/status", needs="statuses:read")
def combined_status(app: App, req: Request) -> Response:
    sha = app.sha_of(req.params["ref"])
    latest = app.state.latest_statuses(sha)
    page, headers = paginate(req, latest)
    payload = {
        "state": app.state.combined_state(sha),
        "statuses": [shapes.status(app.urls, s, app.state.users) for s in page],
        "sha": sha,
        "total_count": len(latest),
        "repository": app.repo_json(),
        "commit_url": f"{app.urls.repo}/commits/{sha}",
        "url": f"{app.urls.repo}/commits/{sha}/status",
    }
    return Response(200, payload, headers)


# -- check runs --------------------------------------------------------------------------


def _parse_time(value: Any, key: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise validation_failed(field_error("CheckRun", key)) from exc


def _apply_check(run: CheckRun, body: dict[str, Any], req: Request, stamp: datetime) -> None:
    status = req.string(body, "status", "CheckRun")
    conclusion = req.string(body, "conclusion", "CheckRun")
    if status is not None and status not in CHECK_STATUSES:
        raise validation_failed(
            custom_error("CheckRun", "status is not included in the list", "status")
        )
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise validation_failed(
            custom_error("CheckRun", "conclusion is not included in the list", "conclusion")
        )
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise validation_failed(
            custom_error("CheckRun", "conclusion can't be blank when status is completed")
        )
    for key in ("details_url", "external_id", "name"):
        if key in body:
            setattr(run, key, req.string(body, key, "CheckRun"))
    if "output" in body:
        if not isinstance(body["output"], dict):
            raise validation_failed(field_error("CheckRun", "output"))
        run.output = dict(body["output"])
    if "started_at" in body:
        run.started_at = _parse_time(body["started_at"], "started_at")
    if status is not None:
        run.status = status
    if conclusion is not None:
        run.conclusion = conclusion
        run.status = "completed"
    if run.status == "completed":
        run.completed_at = (
            _parse_time(body.get("completed_at"), "completed_at") or run.completed_at or stamp
        )
    elif run.status == "in_progress" and run.started_at is None:
        run.started_at = stamp


@router.route("POST", r"/check-runs", needs="checks:write")
def create_check_run(app: App, req: Request) -> Response:
    body = req.body()
    name = req.string(body, "name", "CheckRun", required=True) or ""
    head_sha = req.string(body, "head_sha", "CheckRun", required=True) or ""
    sha = app.repo.resolve(head_sha)
    if sha is None or (sha != head_sha and not sha.startswith(head_sha)):
        raise validation_failed(
            custom_error("CheckRun", "No commit found for SHA: " + head_sha, "head_sha")
        )
    stamp = app.state.now()
    run = CheckRun(
        app.state.next_id(), sha, name, "queued", None, None, None, stamp, None, {}, req.user.login
    )
    _apply_check(run, body, req, stamp)
    app.state.check_runs[run.id] = run
    webhooks.after_check(app, run, created=True, was_completed=False)
    return Response(201, shapes.check_run(app.urls, run))


def _run(app: App, req: Request) -> CheckRun:
    run = app.state.check_runs.get(int(req.params["id"]))
    if run is None:
        raise not_found()
    return run


@router.route("GET", r"/check-runs/(?P<id>\d+)", needs="checks:read")
def get_check_run(app: App, req: Request) -> Response:
    return Response(200, shapes.check_run(app.urls, _run(app, req)))


@router.route("PATCH", r"/check-runs/(?P<id>\d+)", needs="checks:write")
def update_check_run(app: App, req: Request) -> Response:
    run = _run(app, req)
    was_completed = run.status == "completed"
    _apply_check(run, req.body(), req, app.state.now())
    webhooks.after_check(app, run, created=False, was_completed=was_completed)
    return Response(200, shapes.check_run(app.urls, run))


@router.route("GET", r"/commits/(?P<ref>[^/]+)/check-runs", needs="checks:read")
def list_check_runs(app: App, req: Request) -> Response:
    sha = app.sha_of(req.params["ref"])
    which = req.arg("filter") or "latest"
    if which not in ("latest", "all"):
        raise validation_failed(field_error("CheckRun", "filter"))
    if which == "latest":
        runs = app.state.latest_check_runs(sha)
    else:
        runs = sorted(
            (r for r in app.state.check_runs.values() if r.head_sha == sha), key=lambda r: -r.id
        )
    name, status = req.arg("check_name"), req.arg("status")
    runs = [
        r
        for r in runs
        if (name is None or r.name == name) and (status is None or r.status == status)
    ]
    page, headers = paginate(req, runs)
    payload = {
        "total_count": len(runs),
        "check_runs": [shapes.check_run(app.urls, r) for r in page],
    }
    return Response(200, payload, headers)
