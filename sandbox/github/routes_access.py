"""Routes for who may do what: a collaborator's permission, and repository rulesets.

Paths are relative to /repos/{owner}/{repo}. GET .../collaborators/{username}/permission
answers the user's role (admin, maintain, write, triage, read) and the legacy permission
(admin/write/read/none). Rulesets are created, read, replaced and deleted as GitHub's
/rulesets endpoints do; GET /rules/branches/{branch} lists the rules that bind a branch. The
rules themselves are applied by `protection`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.github import permissions, shapes, shapes_rules
from sandbox.github.errors import custom_error, field_error, not_found, validation_failed
from sandbox.github.models import BypassActor, Ruleset
from sandbox.github.protection import rulesets_for
from sandbox.github.routing import Request, Response, Router, listing

if TYPE_CHECKING:
    from sandbox.github.app import App

router = Router()
RULE_TYPES = ("pull_request", "required_status_checks", "non_fast_forward", "deletion",
              "creation", "update", "required_linear_history", "required_signatures")
ACTOR_TYPES = ("Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey",
               "User")


@router.route("GET", r"/collaborators/(?P<username>[^/]+)/permission", needs="metadata:read")
def collaborator_permission(app: App, req: Request) -> Response:
    login = req.params["username"]
    if login not in app.state.users:
        raise not_found()
    role = app.state.role(login)
    user = shapes.collaborator(app.urls, login, app.state.users, role)
    return Response(200, {"permission": permissions.legacy_permission(role),
                          "role_name": role, "user": user})


# -- rulesets -----------------------------------------------------------------------------


def ruleset_from_body(app: App, body: dict[str, Any], ruleset_id: int) -> Ruleset:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise validation_failed(field_error("Ruleset", "name", "missing_field"))
    enforcement = body.get("enforcement", "active")
    if enforcement not in ("active", "disabled", "evaluate"):
        raise validation_failed(field_error("Ruleset", "enforcement"))
    if body.get("target", "branch") != "branch":
        raise validation_failed(custom_error("Ruleset", "Only branch rulesets are emulated",
                                             "target"))
    ref_name = ((body.get("conditions") or {}).get("ref_name") or {})
    include = tuple(str(p) for p in ref_name.get("include") or [])
    exclude = tuple(str(p) for p in ref_name.get("exclude") or [])
    rules = body.get("rules") or []
    if not isinstance(rules, list) or not all(
            isinstance(r, dict) and r.get("type") in RULE_TYPES for r in rules):
        raise validation_failed(custom_error("Ruleset", "Invalid rule", "rules"))
    actors = []
    for item in body.get("bypass_actors") or []:
        if not isinstance(item, dict) or item.get("actor_type") not in ACTOR_TYPES:
            raise validation_failed(field_error("Ruleset", "bypass_actors"))
        actor_id = item.get("actor_id")
        actors.append(BypassActor(int(actor_id) if actor_id is not None else None,
                                  str(item["actor_type"]),
                                  str(item.get("bypass_mode") or "always")))
    stamp = app.state.now()
    return Ruleset(ruleset_id, name, str(enforcement), include, exclude, list(rules),
                   tuple(actors), stamp, stamp)


def _ruleset(app: App, req: Request) -> Ruleset:
    found = app.state.rulesets.get(int(req.params["id"]))
    if found is None:
        raise not_found()
    return found


@router.route("GET", r"/rulesets", needs="metadata:read")
def list_rulesets(app: App, req: Request) -> Response:
    items = [shapes_rules.ruleset(app.urls, r, summary=True)
             for r in sorted(app.state.rulesets.values(), key=lambda r: r.id)]
    return listing(req, items)


@router.route("POST", r"/rulesets", needs="administration:write")
def create_ruleset(app: App, req: Request) -> Response:
    ruleset = ruleset_from_body(app, req.body(), app.state.next_id())
    app.state.rulesets[ruleset.id] = ruleset
    return Response(201, shapes_rules.ruleset(app.urls, ruleset))


@router.route("GET", r"/rulesets/(?P<id>\d+)", needs="metadata:read")
def get_ruleset(app: App, req: Request) -> Response:
    return Response(200, shapes_rules.ruleset(app.urls, _ruleset(app, req)))


@router.route("PUT", r"/rulesets/(?P<id>\d+)", needs="administration:write")
def update_ruleset(app: App, req: Request) -> Response:
    old = _ruleset(app, req)
    body = {**shapes_rules.ruleset(app.urls, old), **req.body()}
    new = ruleset_from_body(app, body, old.id)
    new.created_at = old.created_at
    app.state.rulesets[old.id] = new
    return Response(200, shapes_rules.ruleset(app.urls, new))


@router.route("DELETE", r"/rulesets/(?P<id>\d+)", needs="administration:write")
def delete_ruleset(app: App, req: Request) -> Response:
    del app.state.rulesets[_ruleset(app, req).id]
    return Response(204)


@router.route("GET", r"/rules/branches/(?P<branch>.+)", needs="metadata:read")
def branch_rules(app: App, req: Request) -> Response:
    items = []
    for ruleset in rulesets_for(app.state, req.params["branch"]):
        for rule in ruleset.rules:
            items.append({**rule, "ruleset_source_type": "Repository",
                          "ruleset_source": f"{app.urls.owner}/{app.urls.name}",
                          "ruleset_id": ruleset.id})
    return listing(req, items)
