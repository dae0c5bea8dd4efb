"""The checked pipeline data turned into frozen `Pipeline` values, every default written in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slackbot.config.access import build_policy, build_roles
from slackbot.config.meaning import parse_days, parse_duration, parse_time
from slackbot.config.schema import (
    DEFAULT_FLUX_NAMESPACE,
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    DEFAULT_TIMEZONE,
)
from slackbot.pipeline import (
    WEEKDAYS,
    App,
    ChangeWindow,
    Channels,
    ClusterSpec,
    Environment,
    FluxRef,
    Gates,
    Pipeline,
)

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


def _gates(spec: Mapping[str, Any]) -> Gates:
    return Gates(
        required_checks=tuple(spec.get("requiredChecks", ())),
        required_reviews=spec.get("requiredReviews", 0),
        stakeholder_approvals=spec.get("stakeholderApprovals", 0),
        rollback_plan=spec.get("rollbackPlan", False),
        change_windows=tuple(_window(w) for w in spec.get("changeWindows", ())),
    )


def _environment(app: str, spec: Mapping[str, Any], app_spec: Mapping[str, Any]) -> Environment:
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
        gates=_gates(spec.get("gates", {})),
        access=build_policy(app_spec, spec),
    )


def build(data: Mapping[str, Any]) -> Pipeline:
    apps: dict[str, App] = {}
    for name, spec in data["apps"].items():
        apps[name] = App(
            name=name,
            repository=spec["repository"],
            channels=Channels(spec["channels"]["deploys"], spec["channels"]["incidents"]),
            environments=tuple(_environment(name, env, spec) for env in spec["environments"]),
            deployments=tuple(spec.get("deployments", (name,))),
            roles=build_roles(spec),
        )
    clusters = {
        name: ClusterSpec(name, spec.get("apiUrl"), spec.get("tokenFile"), spec.get("caFile"),
                          spec.get("context"))
        for name, spec in (data.get("clusters") or {}).items()
    }
    return Pipeline(apps=apps, clusters=clusters)
