"""The pipeline: which apps promotebot runs, their environments in order, and each env's gates.

Frozen values built once from the pipeline file (slackbot/config/ loads and validates it);
the engine only reads them. Who may do what is slackbot/policy.py's (each env's `access`).
Nothing here talks to Slack, GitHub or the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slackbot.changes import DEFAULT_TICKET_PATTERN
from slackbot.policy import DEFAULT_POLICY, Policy, Role

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ChangeWindow:
    """Days and a daily time range, in a time zone, when merges into the env may happen."""

    days: tuple[str, ...]
    start: time
    end: time  # exclusive; 00:00 as end means midnight (the end of the day)
    timezone: str = "UTC"

    def _bounds(self, day: datetime) -> tuple[datetime, datetime]:
        begin = day.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        if self.end == time(0, 0):
            finish = day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        else:
            finish = day.replace(
                hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return begin, finish

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        if WEEKDAYS[local.weekday()] not in self.days:
            return False
        begin, finish = self._bounds(local)
        return begin <= local < finish

    def next_open(self, moment: datetime) -> datetime:
        """The first instant at or after `moment` inside this window (UTC)."""
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        if self.contains(moment):
            return moment.astimezone(UTC)
        for offset in range(0, 8):
            day = (local + timedelta(days=offset)).replace(tzinfo=None)
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            begin, _ = self._bounds(day)
            candidate = begin.replace(tzinfo=zone)
            if candidate >= local:
                return candidate.astimezone(UTC)
        raise ValueError("change window has no open day")  # config validation prevents this

    def describe(self) -> str:
        days = ",".join(self.days)
        end = "24:00" if self.end == time(0, 0) else self.end.strftime("%H:%M")
        return f"{days} {self.start.strftime('%H:%M')}-{end} {self.timezone}"


@dataclass(frozen=True)
class Approvers:
    """Who approves promotions into an env in Slack, and how many must: `quorum` distinct
    people, members of `groups` or named in `users`, with at least the given number from each
    group of `at_least` (one person fills one group's place, never two)."""

    groups: tuple[str, ...] = ()  # Slack user group ids (the at_least groups included)
    users: tuple[str, ...] = ()  # Slack user ids, approvers whatever their groups
    quorum: int = 0
    at_least: tuple[tuple[str, int], ...] = ()  # (group, how many) in file order

    @property
    def needs_groups(self) -> bool:
        return bool(self.at_least)


@dataclass(frozen=True)
class Gates:
    """What must hold before a promotion into an env may merge."""

    required_checks: tuple[str, ...] = ()
    required_reviews: int = 0
    stakeholder_approvals: int = 0  # the quorum; `approvers` None: from the app's stakeholders
    rollback_plan: bool = False
    change_windows: tuple[ChangeWindow, ...] = ()
    # Hotfixes and emergency rollbacks ignore the change windows unless this is set.
    incidents_wait_for_window: bool = False
    approvers: Approvers | None = None  # the long form (pipeline key gates.approvers)

    def approval_rule(self, stakeholders: str) -> Approvers:
        """Who approves and how many, the short form (`stakeholderApprovals` from the app's
        stakeholders group) written out like the long one."""
        if self.approvers is not None:
            return self.approvers
        groups = (stakeholders,) if stakeholders else ()
        return Approvers(groups=groups, quorum=self.stakeholder_approvals)

    def window_open(self, moment: datetime) -> bool:
        return not self.change_windows or any(w.contains(moment) for w in self.change_windows)

    def next_window(self, moment: datetime) -> datetime:
        if self.window_open(moment):
            return moment
        return min(w.next_open(moment) for w in self.change_windows)


@dataclass(frozen=True)
class Waiting:
    """How long a promotion waits for its gates: a reminder, an escalation, then expiry. Each
    counts from the request (the expiry from a scheduled merge's window, if later)."""

    remind_after: timedelta | None = None
    escalate_after: timedelta | None = None
    escalate_to: str = ""  # a Slack user group id, told at the escalation
    expire_after: timedelta = timedelta(hours=24)


ALL = "*"  # a freeze's app or env that covers every one


@dataclass(frozen=True)
class CalendarFreeze:
    """A dated freeze from the pipeline file: promotions into the envs it covers are refused
    from `start` until `end` (both instants; the file gives them in a time zone)."""

    start: datetime
    end: datetime  # exclusive: promotions go again from this instant
    reason: str
    timezone: str = "UTC"
    app: str = ALL  # where the file declared it: every app, one app, or one env of it
    env: str = ALL

    def active(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def over(self, moment: datetime) -> bool:
        return moment >= self.end

    def covers(self, app: str, env: str) -> bool:
        return self.app in (ALL, app) and self.env in (ALL, env)


@dataclass(frozen=True)
class FluxRef:
    name: str
    namespace: str = "flux-system"
    cluster: str | None = None  # the pipeline's name of its cluster; None: the bot's own

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ClusterSpec:
    """Where a named cluster's API is: a URL (with a bearer token file and a CA file), or a
    context of the kubeconfig. The token itself never lives in the pipeline file."""

    name: str
    api_url: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class Environment:
    name: str
    branch: str
    namespace: str
    kustomization: FluxRef
    git_repository: FluxRef
    interval: timedelta
    timeout: timedelta
    gates: Gates = field(default_factory=Gates)
    access: Policy = DEFAULT_POLICY  # who may do what in this env (slackbot/policy.py)
    waiting: Waiting = field(default_factory=Waiting)
    freezes: tuple[CalendarFreeze, ...] = ()  # every calendar freeze that covers the env

    def freezes_at(self, moment: datetime) -> tuple[CalendarFreeze, ...]:
        """The calendar freezes in force at `moment`."""
        return tuple(f for f in self.freezes if f.active(moment))

    @property
    def cluster(self) -> str | None:
        """The cluster the env runs in (its Flux objects and its Deployments)."""
        return self.kustomization.cluster


@dataclass(frozen=True)
class Channels:
    deploys: str
    incidents: str


@dataclass(frozen=True)
class App:
    name: str
    repository: str  # "owner/name" on GitHub
    channels: Channels
    environments: tuple[Environment, ...]
    # Deployments whose rollout decides "deployed"; default: the app name
    deployments: tuple[str, ...] = ()
    roles: dict[str, Role] = field(default_factory=dict)  # the access policy's people
    github_write_back: bool = True  # GitHub Deployments and commit statuses of its deploys
    ticket_pattern: str = DEFAULT_TICKET_PATTERN  # ticket references in commit messages
    report_dev_deploys: bool = True  # each new revision Flux applies on the first env

    def env(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        raise KeyError(name)

    def has_env(self, name: str) -> bool:
        return any(env.name == name for env in self.environments)

    def index(self, name: str) -> int:
        return [env.name for env in self.environments].index(name)

    def source_of(self, name: str) -> Environment | None:
        """The env a promotion into `name` comes from (the one before it), None for the first."""
        position = self.index(name)
        return self.environments[position - 1] if position > 0 else None

    def next_of(self, name: str) -> Environment | None:
        position = self.index(name)
        return self.environments[position + 1] if position + 1 < len(self.environments) else None

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(env.name for env in self.environments)

    @property
    def deployment_names(self) -> tuple[str, ...]:
        return self.deployments or (self.name,)


@dataclass(frozen=True)
class Pipeline:
    apps: dict[str, App]
    # Slack user id -> GitHub login, so that a requester's own review never counts
    github_logins: dict[str, str] = field(default_factory=dict)
    clusters: dict[str, ClusterSpec] = field(default_factory=dict)  # named: envs elsewhere

    @property
    def uses_default_cluster(self) -> bool:
        """Some env runs in the bot's own cluster (one without a `cluster:`)."""
        return any(env.cluster is None for app in self.apps.values() for env in app.environments)

    def app(self, name: str) -> App:
        return self.apps[name]

    def github_login(self, user: str) -> str | None:
        """The GitHub login of a Slack user, when the pipeline file names it."""
        return self.github_logins.get(user)

    @property
    def app_names(self) -> tuple[str, ...]:
        return tuple(self.apps)
