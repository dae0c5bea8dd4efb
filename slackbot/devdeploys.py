"""Reports what Flux applies on an app's first env (dev), where pushes land without a promotion:
each new revision once, Ready or failed, with the commits it brought since the last report.

Fed by the leader's Kustomization watch (only the lease holder watches), and it remembers in
the store the last revision it reported and the last one applied, per app, so a restart, a
failover or a repeated status never reports one twice. A revision a record of the bot put
there (a rollback's revert) is that record's card's to tell. The first status ever seen is
only remembered: nothing is reported for what ran before the bot watched. Data only: the
words are in handlers/messages/devdeploys.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime

from slackbot import changes
from slackbot.changes import CommitSummary
from slackbot.errors import AdapterError
from slackbot.pipeline import App, FluxRef, Pipeline
from slackbot.ports import Clock, CommitInfo, KustomizationStatus, Store, Workspace

log = logging.getLogger(__name__)

Submit = Callable[[Hashable, Callable[[], object], str | None], bool]
KEPT = 20  # commits named in a report; the rest are counted
REMEMBERED_SECONDS = 30 * 24 * 3600
RECENT = 5  # the newest records of the env, checked for a revision of their own


@dataclass(frozen=True)
class DevDeploy:
    """One revision Flux applied (or failed to apply) on an app's first env."""

    app: str
    env: str
    channel: str  # the app's deploys channel
    revision: str  # Flux's `<branch>@sha1:<sha>`
    sha: str
    ready: bool
    message: str  # Flux's words when it failed
    commits: tuple[CommitSummary, ...]  # newest last, at most KEPT
    total: int
    at: datetime

    @property
    def day(self) -> date:
        """The UTC day whose thread the report goes to."""
        return self.at.date()


Report = Callable[[DevDeploy], None]


class DevDeploys:
    def __init__(self, pipeline: Pipeline, store: Store, workspace: Workspace, clock: Clock,
                 submit: Submit, report: Report):
        self._store = store
        self._workspace = workspace
        self._clock = clock
        self._submit = submit
        self._report = report
        self._first: dict[FluxRef, App] = {
            app.environments[0].kustomization: app for app in pipeline.apps.values()
            if app.report_dev_deploys and app.environments}

    def on_status(self, status: KustomizationStatus) -> None:
        """A Kustomization changed: a new revision of a first env is reported (on the workers,
        one app at a time)."""
        app = self._first.get(status.ref)
        if app is None or status.suspended:
            return
        self._submit(("dev-deploy", app.name), lambda: self.look(app.name, status), None)

    def look(self, app_name: str, status: KustomizationStatus) -> DevDeploy | None:
        """Report `status` if it shows a revision not reported yet; the report, if any."""
        app = next(a for a in self._first.values() if a.name == app_name)
        outcome = _outcome(status)
        if outcome is None:
            return None
        revision, ready = outcome
        said = f"{revision} {'ready' if ready else 'failed'}"
        reported = self._store.recall(_key("reported", app.name))
        applied = self._store.recall(_key("applied", app.name))
        if reported is None and applied is None:  # the first look: only remembered
            self._remember(app.name, said, revision if ready else None)
            return None
        if said == reported:
            return None
        sha = revision.rpartition("sha1:")[2]
        env = app.environments[0]
        if self._from_a_record(app.name, env.name, sha):
            self._remember(app.name, said, revision if ready else None)
            return None
        before = applied.rpartition("sha1:")[2] if applied else None
        if before == sha and not ready:
            return None  # nothing new was attempted
        commits = self._commits(app, env.branch, before, sha)
        deploy = DevDeploy(app.name, env.name, app.channels.deploys, revision, sha, ready,
                           "" if ready else status.message,
                           tuple(changes.summary(c, app.ticket_pattern)
                                 for c in commits[-KEPT:]),
                           len(commits), self._clock.now())
        self._report(deploy)  # raises: remembered not, so the next status reports it again
        self._remember(app.name, said, revision if ready else None)
        return deploy

    def _commits(self, app: App, branch: str, before: str | None,
                 sha: str) -> list[CommitInfo]:
        try:
            if before and before != sha:
                listed = self._workspace.changes(app.repository, before, sha)
                if listed:
                    return listed
            return [c for c in self._workspace.first_parent_history(app.repository, branch, 5)
                    if c.sha == sha][:1]
        except AdapterError:
            log.exception("%s: could not list the commits of dev's revision %s", app.name, sha)
            return []

    def _from_a_record(self, app: str, env: str, sha: str) -> bool:
        return any(r.merge_sha == sha for r in self._store.history(app, env, RECENT))

    def _remember(self, app: str, said: str, applied: str | None) -> None:
        self._store.remember(_key("reported", app), said, REMEMBERED_SECONDS)
        if applied is not None:
            self._store.remember(_key("applied", app), applied, REMEMBERED_SECONDS)


def _outcome(status: KustomizationStatus) -> tuple[str, bool] | None:
    """(revision, Ready) when Flux has finished with a revision; None while it works."""
    if status.is_ready and status.last_applied_revision:
        return status.last_applied_revision, True
    attempted = status.last_attempted_revision
    if (status.ready == "False" and attempted and attempted != status.last_applied_revision
            and status.observed_generation >= status.generation):
        return attempted, False
    return None


def _key(what: str, app: str) -> str:
    return f"dev-deploy:{what}:{app}"
