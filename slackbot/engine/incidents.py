"""The incident side of the workflow: rollbacks, hotfixes and retries, as the workflow document
prescribes them per env.

    dev      revert commits pushed to dev
    staging  a revert pull request through staging's gates
    prod     emergency (incident channel, on-call only): the merge reverted on prod directly;
             planned: a revert pull request through prod's gates
    hotfix   hotfix/<name> from prod's head, promoted to prod through prod's gates, then
             backported to the envs below (slackbot/engine/aftercare.py)

A rollback places a hold on its env (slackbot/engine/holds.py). Records are of kind rollback
or hotfix; the runner drives them forward like promotions. Nothing here knows Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slackbot.engine import rules, writing
from slackbot.engine.access import Access
from slackbot.engine.commands import Commands, Wake
from slackbot.engine.holds import Holds
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import InvalidName, NotAllowed, NotFound, NothingToPromote, SourceNotReady
from slackbot.events import HotfixStarted, Requested
from slackbot.models import HotfixSpec, Kind, Promotion, RevertMode, RollbackSpec, State
from slackbot.pipeline import App, Environment, FluxRef
from slackbot.ports import Cluster, CommitInfo, Forge, Store, Workspace
from slackbot.reasons import Action, Code, Next, Reason

HOTFIX_PREFIX = "hotfix/"
# git check-ref-format, for one path component under hotfix/: no "..", no leading "." or "-",
# no ASCII control characters, spaces or ~^:?*[\ , not ending in ".lock" or "/".
_BRANCH_PART = re.compile(
    r"^(?!.*\.\.)(?!.*//)(?!.*@\{)(?![.\-/])[A-Za-z0-9._\-/]{1,100}(?<![./])$"
)


@dataclass(frozen=True)
class Revision:
    """A revision an env ran, offered as a rollback target."""

    sha: str
    subject: str
    record: int | None = None  # the record that deployed it, when the store knows it
    kind: Kind | None = None


class Incidents:
    def __init__(self, lookup: Lookup, records: Records, store: Store, forge: Forge,
                 cluster: Cluster, access: Access, workspace: Workspace, holds: Holds,
                 commands: Commands, wake: Wake):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._forge = forge
        self._cluster = cluster
        self._access = access
        self._workspace = workspace
        self._holds = holds
        self._commands = commands
        self._wake = wake

    # -- rollbacks -------------------------------------------------------------------------

    def rollback_choices(self, app_name: str | None, env_name: str,
                         channel: str | None = None, limit: int = 10) -> list[Revision]:
        """The env's recent revisions, newest first, its current one excluded."""
        app, env = self._lookup.app_env(app_name, env_name, channel)
        history = self._workspace.first_parent_history(app.repository, env.branch, limit + 1)
        deployed = {p.merge_sha: p for p in self._store.history(app.name, env.name, 50)
                    if p.state is State.DEPLOYED and p.merge_sha}
        choices = []
        for commit in history[1:]:
            record = deployed.get(commit.sha)
            choices.append(Revision(commit.sha, commit.message, record.id if record else None,
                                    record.kind if record else None))
        return choices[:limit]

    def check_rollback(self, app_name: str | None, env_name: str, user: str, *,
                       emergency: bool = False,
                       channel: str | None = None) -> tuple[App, Environment]:
        """Who may roll back what, where, and whether the env is free: raises the refusal,
        changes nothing (a dialog can ask before listing revisions)."""
        app, env = self._lookup.app_env(app_name, env_name, channel)
        if emergency:
            last = app.environments[-1]
            if env.name != last.name:
                mode = RevertMode.DIRECT if app.index(env.name) == 0 else RevertMode.PULL
                raise NotAllowed(Reason(Code.EMERGENCY_NOT_LAST, env=env.name, name=last.name,
                                        text=mode.value))
        action = Action.EMERGENCY_ROLLBACK if emergency else Action.ROLLBACK
        self._access.check(action, app, env, user, channel)
        rules.check_no_live(self._store.live(app.name, env.name), env, Next.WAIT)
        return app, env

    def rollback(self, app_name: str | None, env_name: str, user: str, *, to: str,
                 emergency: bool = False, channel: str | None = None,
                 reason: str = "") -> Promotion:
        """Start a rollback of the env to `to` (a sha, or a prefix of at least 7 of one)."""
        app, env = self.check_rollback(app_name, env_name, user, emergency=emergency,
                                       channel=channel)
        history = self._workspace.first_parent_history(app.repository, env.branch, 50)
        head = history[0].sha
        target = _resolve(to, history[1:])
        if target is None:
            raise NotFound(Reason(Code.REVISION_UNKNOWN, Next.ROLLBACK_LIST, env=env.name,
                                  name=to[:12]))
        if app.next_of(env.name) is None:
            self._check_chain(app, env, Action.ROLLBACK)
        direct = app.index(env.name) == 0 or emergency
        now = self._records.clock.now()
        record_id = self._store.next_id()
        record = Promotion(
            id=record_id, kind=Kind.ROLLBACK, app=app.name, env=env.name,
            source_branch=env.branch if direct else f"rollback/{env.name}-{record_id}",
            target_branch=env.branch, requested_by=user, requested_at=now, updated_at=now,
            rollback=RollbackSpec(RevertMode.DIRECT if direct else RevertMode.PULL, target.sha,
                                  target.message, head, emergency, reason.strip()),
        )
        record = self._records.create(record, Requested())
        self._holds.hold(record, user, reason.strip())
        reverted = {c.sha for c in history[: history.index(target)]}
        for earlier in self._store.history(app.name, env.name, 50):
            if earlier.merge_sha in reverted and earlier.id != record.id:
                self._records.comment(earlier, writing.rolled_back_comment(record))
        self._wake(record.id)
        return record

    def _check_chain(self, app: App, env: Environment, action: Action) -> None:
        """Walk the env's dependsOn chain; an upstream that is not Ready would leave the env in
        DependencyNotReady after the merge: say which, why, and what to do, up front."""
        seen: set[FluxRef] = set()
        todo = list(self._cluster.kustomization(env.kustomization).depends_on)
        while todo:
            ref = todo.pop(0)
            if ref in seen:
                continue
            seen.add(ref)
            status = self._cluster.kustomization(ref)
            if not status.settled:
                upstream = next((e.name for e in app.environments if e.kustomization == ref),
                                ref.name)
                raise SourceNotReady(Reason(Code.CHAIN_NOT_READY, Next.ROLLBACK_UPSTREAM,
                                            app=app.name, env=env.name, name=ref.name,
                                            action=action,
                                            source=upstream, flux_reason=status.reason or None,
                                            message=status.message))
            todo.extend(status.depends_on)

    # -- hotfixes --------------------------------------------------------------------------

    def hotfix_start(self, app_name: str | None, name: str, user: str,
                     channel: str | None = None) -> tuple[str, str]:
        """Create hotfix/<name> from the last env's head; returns (branch, sha)."""
        app = self._lookup.app(app_name, channel)
        prod = app.environments[-1]
        self._access.check(Action.HOTFIX_START, app, prod, user, channel)
        branch = _hotfix_branch(name)
        if self._forge.branch_exists(app.repository, branch):
            raise NotAllowed(Reason(Code.HOTFIX_EXISTS, Next.HOTFIX_PUSH, branch=branch,
                                    name=name))
        sha = self._forge.branch_head(app.repository, prod.branch)
        self._forge.create_branch(app.repository, branch, sha)
        self._store.append_event(self._records.event_for_env(
            app.name, prod.name, user, HotfixStarted(branch, sha, prod.branch)))
        return branch, sha

    def hotfix_promote(self, app_name: str | None, name: str, user: str,
                       channel: str | None = None) -> Promotion:
        """Promote hotfix/<name> into the last env through its gates (a freeze or a hold
        does not stop a hotfix: it is the fix)."""
        app = self._lookup.app(app_name, channel)
        prod = app.environments[-1]
        self._access.check(Action.HOTFIX_PROMOTE, app, prod, user, channel)
        branch = _hotfix_branch(name)
        if not self._forge.branch_exists(app.repository, branch):
            raise NotFound(Reason(Code.HOTFIX_MISSING, Next.HOTFIX_START, branch=branch,
                                  name=name))
        rules.check_no_live(self._store.live(app.name, prod.name), prod, Next.WAIT)
        if self._forge.compare(app.repository, prod.branch, branch).ahead_by == 0:
            raise NothingToPromote(Reason(Code.HOTFIX_EMPTY, Next.HOTFIX_PUSH, branch=branch,
                                          target=prod.branch, name=name))
        self._check_chain(app, prod, Action.HOTFIX_PROMOTE)
        head = self._forge.branch_head(app.repository, branch)
        now = self._records.clock.now()
        record = Promotion(
            id=self._store.next_id(), kind=Kind.HOTFIX, app=app.name, env=prod.name,
            source_branch=branch, target_branch=prod.branch, requested_by=user,
            requested_at=now, head_sha=head, updated_at=now, hotfix=HotfixSpec(name),
        )
        record = self._records.create(record, Requested(head))
        self._wake(record.id)
        return record

    # -- retry -----------------------------------------------------------------------------

    def retry(self, promotion_id: int, user: str, channel: str | None = None) -> Promotion:
        """Start a finished record over as a new one of its kind, asked for by `user`: a
        promotion is requested again (keeping its rollback plan), a hotfix promoted again.
        A retry is authorized as the action it repeats (a request, a hotfix's promotion)."""
        record = self._records.get(promotion_id)
        if record.live:
            raise NotAllowed(Reason(Code.STILL_LIVE, Next.WAIT, record=record.id,
                                    state=record.state))
        if record.kind is Kind.ROLLBACK:
            raise NotAllowed(Reason(Code.NOT_RETRIED, Next.ROLLBACK_LIST, env=record.env))
        app, env = self._lookup.app_env(record.app, record.env)
        repeated = Action.HOTFIX_PROMOTE if record.hotfix is not None else Action.REQUEST
        self._access.check(repeated, app, env, user, channel, record=record.id,
                           kind=record.kind)
        if record.hotfix is not None:
            return self.hotfix_promote(record.app, record.hotfix.name, user, channel)
        return self._commands.request(record.app, record.env, user, channel=channel,
                                      rollback_plan=record.rollback_plan)


def _hotfix_branch(name: str) -> str:
    if not _BRANCH_PART.match(name) or name.endswith(".lock") or "/." in name:
        raise InvalidName(Reason(Code.INVALID_NAME, name=name))
    return HOTFIX_PREFIX + name


def _resolve(wanted: str, history: list[CommitInfo]) -> CommitInfo | None:
    wanted = wanted.strip().lower()
    if len(wanted) < 7 or not re.fullmatch(r"[0-9a-f]+", wanted):
        return None
    matches = [c for c in history if c.sha.startswith(wanted)]
    return matches[0] if len(matches) == 1 else None
