"""The effective pipeline back as YAML (`promotebot config show`): every default written out, in
the file's own key order and style.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from slackbot.changes import DEFAULT_TICKET_PATTERN
from slackbot.config.access import role_data, rule_data
from slackbot.config.meaning import format_days, format_duration
from slackbot.pipeline import (
    ALL,
    App,
    CalendarFreeze,
    Environment,
    Pipeline,
)
from slackbot.policy import ACCESS_KEYS, Rule
from slackbot.reasons import Action


def _time_text(value: time, end: bool) -> str:
    return "24:00" if end and value == time(0, 0) else value.strftime("%H:%M")


def _moment_text(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d" if local.time() == time(0, 0) else "%Y-%m-%d %H:%M")


def _freezes_data(freezes: list[CalendarFreeze]) -> list[dict[str, Any]]:
    return [{"from": _Quoted(_moment_text(f.start, f.timezone)),
             "until": _Quoted(_moment_text(f.end, f.timezone)), "reason": f.reason,
             "timezone": f.timezone} for f in freezes]


def _declared(pipeline: Pipeline, app: str, env: str) -> list[CalendarFreeze]:
    """The calendar freezes declared at one level of the file (every app, an app, an env)."""
    seen: list[CalendarFreeze] = []
    for each in pipeline.apps.values():
        for environment in each.environments:
            for freeze in environment.freezes:
                if (freeze.app, freeze.env) == (app, env) and freeze not in seen:
                    seen.append(freeze)
    return seen


def _pipeline_data(pipeline: Pipeline) -> dict[str, Any]:
    apps: dict[str, Any] = {}
    for app in pipeline.apps.values():
        shared = _shared_rules(app)
        spec: dict[str, Any] = {
            "repository": app.repository,
            "channels": {"deploys": app.channels.deploys, "incidents": app.channels.incidents},
            "roles": {name: _Flow(role_data(role)) for name, role in app.roles.items()},
            "access": {ACCESS_KEYS[action]: _Flow(rule_data(rule))
                       for action, rule in shared.items()},
        }
        spec["deployments"] = list(app.deployment_names)
        if not app.github_write_back:
            spec["githubWriteBack"] = False
        if app.ticket_pattern != DEFAULT_TICKET_PATTERN:
            spec["ticketPattern"] = app.ticket_pattern
        if not app.report_dev_deploys:
            spec["reportDevDeploys"] = False
        spec["environments"] = [_environment_data(env, shared) for env in app.environments]
        for spec_env, env in zip(spec["environments"], app.environments, strict=True):
            if own := _declared(pipeline, app.name, env.name):
                spec_env["freezes"] = _freezes_data(own)
        if own := _declared(pipeline, app.name, ALL):
            spec["freezes"] = _freezes_data(own)
        apps[app.name] = spec
    data: dict[str, Any] = {"apps": apps}
    if pipeline.github_logins:
        data["githubLogins"] = dict(pipeline.github_logins)
    if everywhere := _declared(pipeline, ALL, ALL):
        data["freezes"] = _freezes_data(everywhere)
    if pipeline.clusters:
        data["clusters"] = {
            name: {k: v for k, v in (("apiUrl", c.api_url), ("tokenFile", c.token_file),
                                     ("caFile", c.ca_file), ("context", c.context)) if v}
            for name, c in pipeline.clusters.items()
        }
    return data


def _shared_rules(app: App) -> dict[Action, Rule]:
    """The rules every env of the app has alike (written once, at the app's level)."""
    first = app.environments[0].access
    return {action: first.rule(action) for action in ACCESS_KEYS
            if all(env.access.rule(action) == first.rule(action) for env in app.environments)}


def _environment_data(env: Environment, shared: dict[Action, Rule]) -> dict[str, Any]:
    data = _environment_fields(env, shared)
    if env.cluster is not None:
        data["cluster"] = env.cluster
    return data


def _environment_fields(env: Environment, shared: dict[Action, Rule]) -> dict[str, Any]:
    gates = env.gates
    own = {ACCESS_KEYS[action]: _Flow(rule_data(env.access.rule(action)))
           for action in ACCESS_KEYS if action not in shared}
    data = {
        "name": env.name,
        "branch": env.branch,
        "namespace": env.namespace,
        "kustomization": {"name": env.kustomization.name, "namespace": env.kustomization.namespace},
        "gitRepository": {
            "name": env.git_repository.name,
            "namespace": env.git_repository.namespace,
        },
        "interval": format_duration(env.interval),
        "timeout": format_duration(env.timeout),
        "gates": {
            "requiredChecks": list(gates.required_checks),
            "requiredReviews": gates.required_reviews,
            "stakeholderApprovals": gates.stakeholder_approvals,
            "rollbackPlan": gates.rollback_plan,
            "changeWindows": [
                {
                    "days": format_days(window.days),
                    "start": _Quoted(_time_text(window.start, end=False)),
                    "end": _Quoted(_time_text(window.end, end=True)),
                    "timezone": window.timezone,
                }
                for window in gates.change_windows
            ],
            "incidentsWaitForWindow": gates.incidents_wait_for_window,
            **_approvers_data(env),
        },
        "waiting": _waiting_data(env),
    }
    if own:
        data["access"] = own
    return data


def _approvers_data(env: Environment) -> dict[str, Any]:
    rule = env.gates.approvers
    if rule is None:
        return {}
    data: dict[str, Any] = {"groups": list(rule.groups), "users": list(rule.users),
                            "quorum": rule.quorum}
    if rule.at_least:
        data["atLeast"] = _Counts(rule.at_least)
    return {"approvers": data}


def _waiting_data(env: Environment) -> dict[str, Any]:
    waiting = env.waiting
    data: dict[str, Any] = {}
    if waiting.remind_after is not None:
        data["remindAfter"] = format_duration(waiting.remind_after)
    if waiting.escalate_after is not None:
        data["escalateAfter"] = format_duration(waiting.escalate_after)
        data["escalateTo"] = waiting.escalate_to
    data["expireAfter"] = format_duration(waiting.expire_after)
    return data


class _Counts(dict[str, int]):
    """Group -> count, written on one line."""


class _Quoted(str):
    """Text always written in double quotes (times: 17:00 unquoted is a base-60 int in YAML 1.1)."""


class _Flow(dict[str, Any]):
    """A small mapping always written on one line (a role, an access rule)."""


class _Dumper(yaml.SafeDumper):
    """Block style, but short lists of scalars and small flat mappings on one line."""


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(isinstance(item, str | int) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


def _represent_dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.Node:
    flat = len(value) <= 4 and all(isinstance(v, str) for v in value.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flat)


def _represent_quoted(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


def _represent_flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


def _represent_counts(dumper: yaml.SafeDumper, value: _Counts) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


_Dumper.add_representer(_Quoted, _represent_quoted)
_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(_Counts, _represent_counts)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def dump_pipeline(pipeline: Pipeline) -> str:
    """The effective pipeline as YAML, every default written out; parse_pipeline inverts it."""
    return yaml.dump(
        _pipeline_data(pipeline),
        Dumper=_Dumper,
        sort_keys=False,
        width=100,
        allow_unicode=True,
    )
