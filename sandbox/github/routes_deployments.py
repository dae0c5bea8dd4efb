"""Routes for Deployments and their statuses, as api.github.com answers them.

Paths are relative to /repos/{owner}/{repo}. GitHub's rules shown here: `ref` is required (422)
and must name a commit (422 "No ref found for"); without `required_contexts` every status
context on the commit must be success, or 409 "Conflict: Commit status checks failed";
`production_environment` defaults to true only for an environment named production; a status
state outside GitHub's list, or a description over 140 characters, is 422 Validation Failed;
`log_url` sets `target_url`; a success status (with auto_inactive, the default) marks the
env's earlier successful non-transient, non-production deployments inactive. Not shown:
auto_merge (GitHub merges the default branch into a branch ref behind it, 202).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.github import shapes
from sandbox.github.errors import ApiError, custom_error, field_error, not_found, validation_failed
from sandbox.github.models import Deployment, DeploymentStatus
from sandbox.github.routing import Request, Response, Router, listing

if TYPE_CHECKING:
    from sandbox.github.app import App

router = Router()
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending",
                     "success")
MAX_DESCRIPTION = 140


def _deployments(app: App) -> dict[int, Deployment]:
    return app.state.deployments


def _boolean(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise validation_failed(field_error("Deployment", key))
    return value


def _deployment_json(app: App, d: Deployment) -> dict[str, Any]:
    url = f"{app.urls.repo}/deployments/{d.id}"
    return {
        "url": url,
        "id": d.id,
        "node_id": f"DE_{d.id}",
        "sha": d.sha,
        "ref": d.ref,
        "task": d.task,
        "payload": d.payload,
        "original_environment": d.environment,
        "environment": d.environment,
        "description": d.description,
        "creator": shapes.user(app.urls, d.creator, app.state.users),
        "created_at": shapes.iso(d.created_at),
        "updated_at": shapes.iso(d.statuses[-1].created_at if d.statuses else d.created_at),
        "statuses_url": f"{url}/statuses",
        "repository_url": app.urls.repo,
        "transient_environment": d.transient,
        "production_environment": d.production,
        "performed_via_github_app": None,
    }


def _status_json(app: App, d: Deployment, s: DeploymentStatus) -> dict[str, Any]:
    url = f"{app.urls.repo}/deployments/{d.id}"
    return {
        "url": f"{url}/statuses/{s.id}",
        "id": s.id,
        "node_id": f"DES_{s.id}",
        "state": s.state,
        "creator": shapes.user(app.urls, s.creator, app.state.users),
        "description": s.description,
        "environment": s.environment,
        "target_url": s.log_url,
        "log_url": s.log_url,
        "environment_url": s.environment_url,
        "created_at": shapes.iso(s.created_at),
        "updated_at": shapes.iso(s.created_at),
        "deployment_url": url,
        "repository_url": app.urls.repo,
        "performed_via_github_app": None,
    }


def _unmet(app: App, sha: str, required: list[str] | None) -> list[dict[str, str]]:
    """The contexts that keep GitHub from creating the deployment (none: go)."""
    latest = {s.context: s.state for s in app.state.latest_statuses(sha)}
    wanted = list(latest) if required is None else required
    return [{"context": c, "state": latest.get(c, "missing")} for c in wanted
            if latest.get(c) != "success"]


@router.route("POST", r"/deployments", needs="deployments:write")
def create_deployment(app: App, req: Request) -> Response:
    body = req.body()
    if body.get("ref") is None:
        raise ApiError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
    ref = req.string(body, "ref", "Deployment") or ""
    sha = app.repo.resolve(app.strip_owner(ref))
    if sha is None:
        raise ApiError(422, f"No ref found for: {ref}")
    required = body.get("required_contexts")
    if required is not None and (not isinstance(required, list)
                                 or not all(isinstance(c, str) for c in required)):
        raise validation_failed(field_error("Deployment", "required_contexts"))
    unmet = _unmet(app, sha, required)
    if unmet:
        raise ApiError(409, f"Conflict: Commit status checks failed for {ref}.", errors=[{
            "contexts": unmet, "resource": "Deployment", "field": "required_contexts",
            "code": "invalid"}])
    payload = body.get("payload", "")
    if not isinstance(payload, (dict, str)):
        raise validation_failed(field_error("Deployment", "payload"))
    environment = req.string(body, "environment", "Deployment") or "production"
    deployment = Deployment(
        id=app.state.next_id(), sha=sha, ref=ref,
        task=req.string(body, "task", "Deployment") or "deploy",
        payload=payload, environment=environment,
        description=req.string(body, "description", "Deployment") or "",
        creator=req.user.login, created_at=app.state.now(),
        transient=_boolean(body, "transient_environment", False),
        production=_boolean(body, "production_environment", environment == "production"))
    _deployments(app)[deployment.id] = deployment
    return Response(201, _deployment_json(app, deployment))


@router.route("GET", r"/deployments", needs="deployments:read")
def list_deployments(app: App, req: Request) -> Response:
    wanted = {key: req.arg(key) for key in ("sha", "ref", "task", "environment")}
    items = [d for d in sorted(_deployments(app).values(), key=lambda d: -d.id)
             if all(value is None or getattr(d, key) == value for key, value in wanted.items())]
    return listing(req, [_deployment_json(app, d) for d in items])


def _deployment(app: App, req: Request) -> Deployment:
    found = _deployments(app).get(int(req.params["id"]))
    if found is None:
        raise not_found()
    return found


@router.route("GET", r"/deployments/(?P<id>\d+)", needs="deployments:read")
def get_deployment(app: App, req: Request) -> Response:
    return Response(200, _deployment_json(app, _deployment(app, req)))


@router.route("POST", r"/deployments/(?P<id>\d+)/statuses", needs="deployments:write")
def create_deployment_status(app: App, req: Request) -> Response:
    deployment = _deployment(app, req)
    body = req.body()
    state = req.string(body, "state", "DeploymentStatus", required=True)
    if state not in DEPLOYMENT_STATES:
        raise validation_failed(
            custom_error("DeploymentStatus", "state is not included in the list", "state"))
    description = req.string(body, "description", "DeploymentStatus") or ""
    if len(description) > MAX_DESCRIPTION:
        raise validation_failed(custom_error(
            "DeploymentStatus", "description is too long (maximum is 140 characters)",
            "description"))
    log_url = (req.string(body, "log_url", "DeploymentStatus")
               or req.string(body, "target_url", "DeploymentStatus") or "")
    environment = (req.string(body, "environment", "DeploymentStatus")
                   or (deployment.statuses[-1].environment if deployment.statuses
                       else deployment.environment))
    status = DeploymentStatus(app.state.next_id(), str(state), description, environment,
                              log_url, req.string(body, "environment_url", "DeploymentStatus")
                              or "", req.user.login, app.state.now())
    deployment.statuses.append(status)
    if state == "success" and _boolean(body, "auto_inactive", True):
        _inactivate_earlier(app, deployment, req.user.login)
    return Response(201, _status_json(app, deployment, status))


def _inactivate_earlier(app: App, current: Deployment, creator: str) -> None:
    for other in _deployments(app).values():
        if (other.id == current.id or other.environment != current.environment
                or other.transient or other.production or not other.statuses
                or other.statuses[-1].state != "success"):
            continue
        other.statuses.append(DeploymentStatus(
            app.state.next_id(), "inactive", "", other.environment, "", "", creator,
            app.state.now()))


@router.route("GET", r"/deployments/(?P<id>\d+)/statuses", needs="deployments:read")
def list_deployment_statuses(app: App, req: Request) -> Response:
    deployment = _deployment(app, req)
    return listing(req, [_status_json(app, deployment, s)
                         for s in reversed(deployment.statuses)])


def deployments_of(app: App) -> list[Deployment]:
    """Every deployment, oldest first (the sandbox's views and tests read them)."""
    return sorted(_deployments(app).values(), key=lambda d: d.id)
