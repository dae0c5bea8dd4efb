"""The checked pipeline data turned into frozen `Pipeline` values, every default written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slackbot.changes import DEFAULT_TICKET_PATTERN
from slackbot.config.access import build_policy, build_roles
from slackbot.config.meaning import parse_days, parse_duration, parse_moment, parse_time
from slackbot.config.schema import (
    DEFAULT_EXPIRE_AFTER,
    DEFAULT_FLUX_NAMESPACE,
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    DEFAULT_TIMEZONE,
)
from slackbot.pipeline import (
    ALL,
    WEEKDAYS,
    App,
    Approvers,
    CalendarFreeze,
    ChangeWindow,
    Channels,
    ClusterSpec,
    Environment,
    FluxRef,
    Gates,
    Pipeline,
    Waiting,
)
from slackbot.policy import STAKEHOLDER

# --------------------------------------------------------------------------- building


def _flux_ref(spec: Mapping[str, Any] | None, default_name: str,
              cluster: str | None = None) -> FluxRef:
    spec = spec or {}
    return FluxRef(spec.get("name", default_name), spec.get("namespace", DEFAULT_FLUX_NAMESPACE),
                   cluster)


def _window(spec: Mapping[str, Any]) -> ChangeWindow:
    return ChangeWindow(
        days=parse_days(spec.get("days", list(WEEKDAYS))),
        start=parse_time(spec["start"]),
        end=parse_time(spec["end"]),
        timezone=spec.get("timezone", DEFAULT_TIMEZONE),
    )


def _approvers(spec: Mapping[str, Any], short: int, stakeholders: str) -> Approvers:
    at_least = tuple((group, int(count)) for group, count in spec.get("atLeast", {}).items())
    groups = list(spec.get("groups", [stakeholders] if stakeholders else []))
    groups += [group for group, _ in at_least if group not in groups]
    quorum = spec.get("quorum", short or max(1, sum(count for _, count in at_least)))
    return Approvers(groups=tuple(groups), users=tuple(spec.get("users", ())), quorum=quorum,
                     at_least=at_least)


def _gates(spec: Mapping[str, Any], stakeholders: str = "") -> Gates:
    short = spec.get("stakeholderApprovals", 0)
    approvers = (_approvers(spec["approvers"], short, stakeholders) if "approvers" in spec
                 else None)
    return Gates(
        required_checks=tuple(spec.get("requiredChecks", ())),
        required_reviews=spec.get("requiredReviews", 0),
        stakeholder_approvals=approvers.quorum if approvers else short,
        rollback_plan=spec.get("rollbackPlan", False),
        change_windows=tuple(_window(w) for w in spec.get("changeWindows", ())),
        incidents_wait_for_window=spec.get("incidentsWaitForWindow", False),
        approvers=approvers,
    )


def _waiting(spec: Mapping[str, Any]) -> Waiting:
    def duration(key: str) -> Any:
        return parse_duration(spec[key]) if key in spec else None

    return Waiting(
        remind_after=duration("remindAfter"),
        escalate_after=duration("escalateAfter"),
        escalate_to=spec.get("escalateTo", ""),
        expire_after=duration("expireAfter") or DEFAULT_EXPIRE_AFTER,
    )


def _freezes(specs: Any, app: str = ALL, env: str = ALL) -> tuple[CalendarFreeze, ...]:
    found = []
    for spec in specs or ():
        zone = spec.get("timezone", DEFAULT_TIMEZONE)
        found.append(CalendarFreeze(parse_moment(spec["from"], zone),
                                    parse_moment(spec["until"], zone), spec["reason"], zone,
                                    app, env))
    return tuple(found)


def _stakeholder_group(app_spec: Mapping[str, Any]) -> str:
    """The stakeholder role's Slack user group: the approvers a long-form `approvers` without
    `groups` counts from."""
    role = build_roles(app_spec).get(STAKEHOLDER)
    return role.group or "" if role is not None else ""


def _environment(app: str, spec: Mapping[str, Any], app_spec: Mapping[str, Any],
                 wider: tuple[CalendarFreeze, ...] = ()) -> Environment:
    name = spec["name"]
    return Environment(
        name=name,
        branch=spec.get("branch", name),
        namespace=spec.get("namespace", name),
        kustomization=_flux_ref(spec.get("kustomization"), f"{app}-{name}", spec.get("cluster")),
        git_repository=_flux_ref(spec.get("gitRepository"), f"{app}-{name}",
                                 spec.get("cluster")),
        interval=parse_duration(spec["interval"]) if "interval" in spec else DEFAULT_INTERVAL,
        timeout=parse_duration(spec["timeout"]) if "timeout" in spec else DEFAULT_TIMEOUT,
        gates=_gates(spec.get("gates", {}), _stakeholder_group(app_spec)),
        access=build_policy(app_spec, spec),
        waiting=_waiting(spec.get("waiting", {})),
        freezes=wider + _freezes(spec.get("freezes"), app, name),
    )


def build(data: Mapping[str, Any]) -> Pipeline:
    apps: dict[str, App] = {}
    everywhere = _freezes(data.get("freezes"))
    for name, spec in data["apps"].items():
        wider = everywhere + _freezes(spec.get("freezes"), name)
        apps[name] = App(
            name=name,
            repository=spec["repository"],
            channels=Channels(spec["channels"]["deploys"], spec["channels"]["incidents"]),
            environments=tuple(_environment(name, env, spec, wider)
                               for env in spec["environments"]),
            deployments=tuple(spec.get("deployments", (name,))),
            roles=build_roles(spec),
            github_write_back=bool(spec.get("githubWriteBack", True)),
            ticket_pattern=spec.get("ticketPattern", DEFAULT_TICKET_PATTERN),
            report_dev_deploys=bool(spec.get("reportDevDeploys", True)),
        )
    logins = {str(user): str(login) for user, login in (data.get("githubLogins") or {}).items()}
    clusters = {
        name: ClusterSpec(name, spec.get("apiUrl"), spec.get("tokenFile"), spec.get("caFile"),
                          spec.get("context"))
        for name, spec in (data.get("clusters") or {}).items()
    }
    return Pipeline(apps=apps, github_logins=logins, clusters=clusters)
