"""Routes over git data: repository, branches and protection, refs, commits, compare, merges.

Paths are relative to /repos/{owner}/{repo}. Reads come live from the bare repository;
writes (refs, server-side merges) are real git operations under the repository's write lock,
refused as a push would be when protection or a ruleset forbids them. Branch protection is
stored here as records `protection` enforces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.github import shapes, shapes_rules
from sandbox.github.errors import ApiError, custom_error, field_error, not_found, validation_failed
from sandbox.github.gitstore import ZERO_SHA
from sandbox.github.models import Actors, Protection
from sandbox.github.protection import rulesets_for
from sandbox.github.routing import Request, Response, Router, listing, paginate

if TYPE_CHECKING:
    from sandbox.github.app import App

router = Router()
BRANCH = r"/branches/(?P<branch>.+?)"


@router.route("GET", "", needs="metadata:read")
def get_repo(app: App, req: Request) -> Response:
    return Response(200, app.repo_json(req.principal))


# -- branches and protection -----------------------------------------------------------


@router.route("GET", "/branches", needs="contents:read")
def list_branches(app: App, req: Request) -> Response:
    items = []
    protected = req.arg("protected")
    for name, sha in sorted(app.repo.branches().items()):
        prot = app.state.protections.get(name)
        is_protected = prot is not None or bool(rulesets_for(app.state, name))
        if protected == "true" and not is_protected:
            continue
        head = {"sha": sha, "url": f"{app.urls.repo}/commits/{sha}"}
        items.append(shapes.branch(app.urls, name, head, prot, full=False,
                                   protected=is_protected))
    return listing(req, items)


@router.route("GET", r"/branches/(?P<branch>(?!.*/protection(?:/|$)).+)", needs="contents:read")
def get_branch(app: App, req: Request) -> Response:
    name = req.params["branch"]
    sha = app.repo.branch_sha(name)
    if sha is None:
        raise not_found("Branch not found")
    prot = app.state.protections.get(name)
    is_protected = prot is not None or bool(rulesets_for(app.state, name))
    return Response(200, shapes.branch(app.urls, name, app.commit_json(sha), prot, full=True,
                                       protected=is_protected))


def _protected(app: App, name: str) -> Protection:
    if app.repo.branch_sha(name) is None:
        raise not_found("Branch not found")
    prot = app.state.protections.get(name)
    if prot is None:
        raise not_found("Branch not protected")
    return prot


@router.route("GET", BRANCH + "/protection", needs="administration:read")
def get_protection(app: App, req: Request) -> Response:
    name = req.params["branch"]
    return Response(200, app.protection_json(name, _protected(app, name)))


@router.route("GET", BRANCH + "/protection/required_pull_request_reviews",
              needs="administration:read")
def get_required_reviews(app: App, req: Request) -> Response:
    name = req.params["branch"]
    prot = _protected(app, name)
    if prot.required_approving_review_count is None:
        raise not_found("Required pull request reviews not enabled")
    url = f"{app.urls.repo}/branches/{name}/protection"
    return Response(200, shapes_rules.required_reviews(app.urls, url, prot, app.state.teams,
                                                 app.integrations))


@router.route("GET", BRANCH + "/protection/required_status_checks",
              needs="administration:read")
def get_required_checks(app: App, req: Request) -> Response:
    name = req.params["branch"]
    prot = _protected(app, name)
    if prot.required_status_checks is None:
        raise not_found("Required status checks not enabled")
    url = f"{app.urls.repo}/branches/{name}/protection"
    return Response(200, shapes_rules.required_status_checks(url, prot))


def _restrictions(app: App, req: Request) -> dict[str, Any]:
    name = req.params["branch"]
    prot = _protected(app, name)
    if prot.restrictions is None:
        raise not_found("Push restrictions not enabled")
    url = f"{app.urls.repo}/branches/{name}/protection"
    return shapes_rules.restrictions(app.urls, url, prot.restrictions, app.state.teams,
                               app.integrations)


@router.route("GET", BRANCH + "/protection/restrictions", needs="administration:read")
def get_restrictions(app: App, req: Request) -> Response:
    return Response(200, _restrictions(app, req))


@router.route("GET", BRANCH + "/protection/restrictions/(?P<kind>users|teams|apps)",
              needs="administration:read")
def get_restricted_actors(app: App, req: Request) -> Response:
    return listing(req, _restrictions(app, req)[req.params["kind"]])


@router.route("PUT", BRANCH + "/protection", needs="administration:write")
def put_protection(app: App, req: Request) -> Response:
    name = req.params["branch"]
    if app.repo.branch_sha(name) is None:
        raise not_found("Branch not found")
    body = req.body()
    for key in (
        "required_status_checks",
        "enforce_admins",
        "required_pull_request_reviews",
        "restrictions",
    ):
        if key not in body:
            raise validation_failed(
                field_error("Protection", key, "missing_field"),
                message=f'Invalid request.\n\n"{key}" wasn\'t supplied.',
            )
    app.state.protections[name] = protection_from_body(body)
    return Response(200, app.protection_json(name, app.state.protections[name]))


@router.route("DELETE", BRANCH + "/protection", needs="administration:write")
def delete_protection(app: App, req: Request) -> Response:
    name = req.params["branch"]
    _protected(app, name)
    del app.state.protections[name]
    return Response(204)


def _actor_lists(value: Any, where: str) -> Actors:
    if not isinstance(value, dict):
        raise validation_failed(field_error("Protection", where))
    lists = []
    for key in ("users", "teams", "apps"):
        items = value.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise validation_failed(field_error("Protection", f"{where}.{key}"))
        lists.append(tuple(items))
    return Actors(*lists)


def protection_from_body(body: dict[str, Any]) -> Protection:
    """Classic protection from a PUT body (GitHub's shape: restrictions with users/teams/apps,
    bypass_pull_request_allowances inside required_pull_request_reviews, ...)."""
    prot = Protection(raw=dict(body), enforce_admins=bool(body.get("enforce_admins")),
                      allow_force_pushes=bool(body.get("allow_force_pushes")),
                      allow_deletions=bool(body.get("allow_deletions")))
    if body.get("restrictions") is not None:
        prot.restrictions = _actor_lists(body["restrictions"], "restrictions")
    checks = body.get("required_status_checks")
    if checks is not None:
        if not isinstance(checks, dict):
            raise validation_failed(field_error("Protection", "required_status_checks"))
        contexts = [str(c) for c in checks.get("contexts") or []]
        contexts += [
            str(c["context"])
            for c in checks.get("checks") or []
            if isinstance(c, dict) and "context" in c
        ]
        prot.required_status_checks = list(dict.fromkeys(contexts))
        prot.strict = bool(checks.get("strict"))
    reviews = body.get("required_pull_request_reviews")
    if reviews is not None:
        if not isinstance(reviews, dict):
            raise validation_failed(field_error("Protection", "required_pull_request_reviews"))
        count = reviews.get("required_approving_review_count", 1)
        if not isinstance(count, int) or not 0 <= count <= 6:
            raise validation_failed(
                custom_error(
                    "Protection", "required_approving_review_count must be between 0 and 6"
                )
            )
        prot.required_approving_review_count = count
        prot.dismiss_stale_reviews = bool(reviews.get("dismiss_stale_reviews"))
        prot.require_code_owner_reviews = bool(reviews.get("require_code_owner_reviews"))
        prot.require_last_push_approval = bool(reviews.get("require_last_push_approval"))
        if reviews.get("bypass_pull_request_allowances") is not None:
            prot.bypass_pull_request_allowances = _actor_lists(
                reviews["bypass_pull_request_allowances"], "bypass_pull_request_allowances")
    return prot


# -- refs ------------------------------------------------------------------------------


@router.route("GET", r"/git/refs?/(?P<ref>.+)", needs="contents:read")
def get_ref(app: App, req: Request) -> Response:
    ref = "refs/" + req.params["ref"].removeprefix("refs/")
    sha = app.repo.refs().get(ref)
    if sha is None:
        raise not_found()
    return Response(200, shapes.git_ref(app.urls, ref, sha))


@router.route("GET", r"/git/refs", needs="contents:read")
def list_refs(app: App, req: Request) -> Response:
    items = [shapes.git_ref(app.urls, ref, sha) for ref, sha in sorted(app.repo.refs().items())]
    return listing(req, items)


@router.route("GET", r"/git/matching-refs/(?P<ref>.*)", needs="contents:read")
def matching_refs(app: App, req: Request) -> Response:
    prefix = "refs/" + req.params["ref"]
    items = [
        shapes.git_ref(app.urls, r, s)
        for r, s in sorted(app.repo.refs().items())
        if r.startswith(prefix)
    ]
    return listing(req, items)


@router.route("POST", r"/git/refs", needs="contents:write")
def create_ref(app: App, req: Request) -> Response:
    body = req.body()
    ref = req.string(body, "ref", "Reference", required=True) or ""
    sha = req.string(body, "sha", "Reference", required=True) or ""
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    if app.repo.git("check-ref-format", ref, ok_codes=(0, 1)).returncode != 0:
        raise ApiError(422, f"{ref} is not a valid ref name.")
    if len(sha) != 40 or not app.repo.object_exists(sha):
        raise ApiError(422, "Object does not exist")
    with app.repo.write_lock:
        if ref in app.repo.refs():
            raise ApiError(422, "Reference already exists")
        app.check_ref_update(ref, ZERO_SHA, sha, req.principal)
        if not app.repo.update_ref(ref, sha, None):
            raise ApiError(422, "Reference already exists")
    return Response(201, shapes.git_ref(app.urls, ref, sha))


@router.route("PATCH", r"/git/refs/(?P<ref>.+)", needs="contents:write")
def update_ref(app: App, req: Request) -> Response:
    ref = "refs/" + req.params["ref"].removeprefix("refs/")
    body = req.body()
    sha = req.string(body, "sha", "Reference", required=True) or ""
    force = bool(body.get("force"))
    with app.repo.write_lock:
        current = app.repo.refs().get(ref)
        if current is None:
            raise ApiError(422, "Reference does not exist")
        if len(sha) != 40 or not app.repo.object_exists(sha):
            raise ApiError(422, "Object does not exist")
        if not force and not app.repo.is_ancestor(current, sha):
            raise ApiError(422, "Update is not a fast forward")
        app.check_ref_update(ref, current, sha, req.principal)
        if not app.repo.update_ref(ref, sha, current):
            raise ApiError(409, "Reference cannot be updated")
    return Response(200, shapes.git_ref(app.urls, ref, sha))


@router.route("DELETE", r"/git/refs/(?P<ref>.+)", needs="contents:write")
def delete_ref(app: App, req: Request) -> Response:
    ref = "refs/" + req.params["ref"].removeprefix("refs/")
    with app.repo.write_lock:
        current = app.repo.refs().get(ref)
        if current is None:
            raise ApiError(422, "Reference does not exist")
        app.check_ref_update(ref, current, ZERO_SHA, req.principal)
        if not app.repo.delete_ref(ref, current):
            raise ApiError(422, "Reference does not exist")
    return Response(204)


@router.route("GET", r"/git/commits/(?P<sha>[0-9a-fA-F]{4,40})", needs="contents:read")
def get_git_commit(app: App, req: Request) -> Response:
    sha = app.repo.resolve(req.params["sha"])
    if sha is None:
        raise not_found()
    return Response(200, shapes.git_commit(app.urls, app.repo.commit(sha)))


# -- commits and compare -----------------------------------------------------------------


@router.route("GET", r"/commits", needs="contents:read")
def list_commits(app: App, req: Request) -> Response:
    ref = req.arg("sha") or app.repo.default_branch()
    sha = app.repo.resolve(app.strip_owner(ref))
    if sha is None:
        raise not_found("No commit found for SHA: " + ref)
    infos = app.repo.commits(sha)
    path = req.arg("path")
    if path:
        wanted = set(app.repo.git("log", "--format=%H", sha, "--", path).stdout.split())
        infos = [i for i in infos if i.sha in wanted]
    page, headers = paginate(req, infos)
    items = [shapes.commit(app.urls, info, app.state.users) for info in page]
    return Response(200, items, headers)


@router.route("GET", r"/commits/(?P<ref>[^/]+)", needs="contents:read")
def get_commit(app: App, req: Request) -> Response:
    ref = req.params["ref"]
    sha = app.repo.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return Response(200, app.commit_json(sha, with_files=True))


@router.route("GET", r"/compare/(?P<basehead>.+)", needs="contents:read")
def compare(app: App, req: Request) -> Response:
    basehead = req.params["basehead"]
    if "..." not in basehead:
        raise not_found()
    base, head = basehead.split("...", 1)
    base_sha, head_sha = (
        app.repo.resolve(app.strip_owner(base)),
        app.repo.resolve(app.strip_owner(head)),
    )
    if base_sha is None or head_sha is None:
        raise not_found()
    merge_base = app.repo.merge_base(base_sha, head_sha)
    if merge_base is None:
        raise not_found(f"No common ancestor between {base} and {head}.")
    ahead = list(reversed(app.repo.commits(f"{base_sha}..{head_sha}")))
    behind_by = app.repo.count(f"{head_sha}..{base_sha}")
    status = (
        "identical"
        if not ahead and not behind_by
        else ("ahead" if not behind_by else "behind" if not ahead else "diverged")
    )
    page, headers = paginate(req, ahead, default=250, maximum=1000)
    files = app.repo.diff_files(merge_base, head_sha)[:300]
    html = f"{app.urls.html}/compare/{base}...{head}"
    owner = app.urls.owner
    payload = {
        "url": f"{app.urls.repo}/compare/{base}...{head}",
        "html_url": html,
        "permalink_url": f"{app.urls.html}/compare/{owner}:{base_sha}...{owner}:{head_sha}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": app.commit_json(base_sha),
        "merge_base_commit": app.commit_json(merge_base),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": behind_by,
        "total_commits": len(ahead),
        "commits": [shapes.commit(app.urls, info, app.state.users) for info in page],
        "files": [shapes.file_change(app.urls, f, head_sha) for f in files],
    }
    return Response(200, payload, headers)


@router.route("POST", r"/merges", needs="contents:write")
def merge_branches(app: App, req: Request) -> Response:
    body = req.body()
    base = req.string(body, "base", "Merge", required=True) or ""
    head = req.string(body, "head", "Merge", required=True) or ""
    message = req.string(body, "commit_message", "Merge")
    sha = app.state.merge_branches(base, head, message, req.principal, app.urls.html)
    if sha is None:
        return Response(204)
    return Response(201, app.commit_json(sha, with_files=True))
