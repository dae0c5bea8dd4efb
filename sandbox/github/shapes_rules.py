"""JSON shapes of branch protection and rulesets: GET .../branches/{b}/protection and its
parts (required checks, required reviews with their bypass list, push restrictions) and the
/rulesets objects.

Pure functions from the protection records to GitHub's dicts, with `url` fields pointing back
at the emulator; no state and no rules here (`protection` enforces them).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sandbox.github.models import Actors, Protection, Ruleset, Team
from sandbox.github.shapes import Urls, iso, team, user


def protection(urls: Urls, branch_name: str, prot: Protection,
               teams: dict[str, Team], apps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """GET .../branches/{b}/protection; `apps` maps an App slug to its integration shape."""
    p = f"{urls.repo}/branches/{quote(branch_name, safe='')}/protection"
    payload: dict[str, Any] = {
        "url": p,
        "enforce_admins": {"url": f"{p}/enforce_admins", "enabled": prot.enforce_admins},
        "required_linear_history": {"enabled": bool(prot.raw.get("required_linear_history"))},
        "allow_force_pushes": {"enabled": prot.allow_force_pushes},
        "allow_deletions": {"enabled": prot.allow_deletions},
        "block_creations": {"enabled": bool(prot.raw.get("block_creations"))},
        "required_conversation_resolution": {
            "enabled": bool(prot.raw.get("required_conversation_resolution"))
        },
        "lock_branch": {"enabled": bool(prot.raw.get("lock_branch"))},
        "allow_fork_syncing": {"enabled": bool(prot.raw.get("allow_fork_syncing"))},
        "required_signatures": {"url": f"{p}/required_signatures",
                                "enabled": bool(prot.raw.get("required_signatures"))},
    }
    if prot.required_status_checks is not None:
        payload["required_status_checks"] = required_status_checks(p, prot)
    if prot.required_approving_review_count is not None:
        payload["required_pull_request_reviews"] = required_reviews(urls, p, prot, teams, apps)
    if prot.restrictions is not None:
        payload["restrictions"] = restrictions(urls, p, prot.restrictions, teams, apps)
    return payload


def _actors(urls: Urls, actors: Actors, teams: dict[str, Team],
            apps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "users": [user(urls, login, {}) for login in actors.users],
        "teams": [team(urls, teams[slug]) for slug in actors.teams if slug in teams],
        "apps": [apps[slug] for slug in actors.apps if slug in apps],
    }


def restrictions(urls: Urls, protection_url: str, actors: Actors, teams: dict[str, Team],
                 apps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    r = f"{protection_url}/restrictions"
    return {"url": r, "users_url": f"{r}/users", "teams_url": f"{r}/teams",
            "apps_url": f"{r}/apps", **_actors(urls, actors, teams, apps)}


def required_status_checks(protection_url: str, prot: Protection) -> dict[str, Any]:
    contexts = list(prot.required_status_checks or [])
    return {
        "url": f"{protection_url}/required_status_checks",
        "strict": prot.strict,
        "contexts": contexts,
        "contexts_url": f"{protection_url}/required_status_checks/contexts",
        "checks": [{"context": c, "app_id": None} for c in contexts],
    }


def required_reviews(urls: Urls, protection_url: str, prot: Protection,
                     teams: dict[str, Team], apps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "url": f"{protection_url}/required_pull_request_reviews",
        "dismiss_stale_reviews": prot.dismiss_stale_reviews,
        "require_code_owner_reviews": prot.require_code_owner_reviews,
        "required_approving_review_count": prot.required_approving_review_count or 0,
        "require_last_push_approval": prot.require_last_push_approval,
        "bypass_pull_request_allowances": _actors(urls, prot.bypass_pull_request_allowances,
                                                  teams, apps),
    }


def ruleset(urls: Urls, item: Ruleset, summary: bool = False) -> dict[str, Any]:
    """A repository ruleset (the list gives a summary without conditions and rules)."""
    payload: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "target": "branch",
        "source_type": "Repository",
        "source": f"{urls.owner}/{urls.name}",
        "enforcement": item.enforcement,
        "node_id": f"RRS_{item.id}",
        "_links": {"self": {"href": f"{urls.repo}/rulesets/{item.id}"},
                   "html": {"href": f"{urls.html}/rules/{item.id}"}},
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }
    if not summary:
        payload["bypass_actors"] = [
            {"actor_id": a.actor_id, "actor_type": a.actor_type, "bypass_mode": a.bypass_mode}
            for a in item.bypass_actors]
        payload["conditions"] = {"ref_name": {"include": list(item.include),
                                              "exclude": list(item.exclude)}}
        payload["rules"] = [dict(rule) for rule in item.rules]
        payload["current_user_can_bypass"] = "never"
    return payload
