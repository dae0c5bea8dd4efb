"""What a merged record is waiting for while Flux applies it: a stage and its facts.

The verdict (slackbot/engine/verdict.py) reads Flux and the rollout into a `Progress`; the
record keeps the latest one and the card shows it. Data only: the front end words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    FETCHING = "fetching"  # Flux has not fetched the merge yet
    APPLYING = "applying"  # the source has the merge; the Kustomization is applying it
    DEPENDENCY = "dependency"  # the Kustomization waits in DependencyNotReady
    SUSPENDED = "suspended"  # the Kustomization is suspended
    ROLLOUT = "rollout"  # applied; the Deployments are rolling out
    DONE = "done"  # applied and rolled out


@dataclass(frozen=True)
class Pods:
    """One Deployment's rollout, as counted for the card."""

    deployment: str
    ready: int
    desired: int


@dataclass(frozen=True)
class Progress:
    stage: Stage
    revision: str | None = None  # the revision being applied, "<branch>@sha1:<sha>"
    message: str = ""  # Flux's own words (DependencyNotReady), shown escaped
    kustomization: str | None = None
    pods: tuple[Pods, ...] = ()
    root: str | None = None  # DEPENDENCY: the first env of the chain that is not Ready
    root_reason: str | None = None  # its Flux reason (BuildFailed, HealthCheckFailed, ...)
    root_message: str = ""  # its Flux message, shown escaped
