"""The incident side of the workflow: rollbacks, holds and hotfixes, as the workflow document
prescribes them per env.

    dev      revert commits pushed to dev
    staging  a revert pull request through staging's gates
    prod     emergency (incident channel, on-call only): the merge reverted on prod directly;
             planned: a revert pull request through prod's gates
    hotfix   hotfix/<name> from prod's head, promoted to prod through prod's gates, then
             backported to the envs below (slackbot/aftercare.py)

A rollback places a hold on its env, so that the next /promote does not ship the bad change
again, until someone lifts it. Records are the engine's (kind rollback or hotfix); the engine
drives them forward like promotions. Nothing here knows Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slackbot.engine import DIRECT, PULL, Engine
from slackbot.errors import (
    AlreadyLive,
    DomainError,
    NotAllowed,
    NotFound,
    NothingToPromote,
    SourceNotReady,
)
from slackbot.models import Block, Event, Kind, Promotion, State
from slackbot.pipeline import App, Environment, FluxRef
from slackbot.ports import CommitInfo, Workspace

HOTFIX_PREFIX = "hotfix/"
# git check-ref-format, for one path component under hotfix/: no "..", no leading "." or "-",
# no ASCII control characters, spaces or ~^:?*[\ , not ending in ".lock" or "/".
_BRANCH_PART = re.compile(
    r"^(?!.*\.\.)(?!.*//)(?!.*@\{)(?![.\-/])[A-Za-z0-9._\-/]{1,100}(?<![./])$"
)


class InvalidName(DomainError):
    pass


@dataclass(frozen=True)
class Revision:
    """A revision an env ran, offered as a rollback target."""

    sha: str
    subject: str
    source: str  # "promotion #12", "branch history"


class Incidents:
    def __init__(self, engine: Engine, workspace: Workspace):
        self.engine = engine
        self.workspace = workspace

    # -- rollbacks -------------------------------------------------------------------------

    def rollback_choices(self, app_name: str | None, env_name: str,
                         channel: str | None = None, limit: int = 10) -> list[Revision]:
        """The env's recent revisions, newest first, its current one excluded."""
        app = self.engine.app(app_name, channel)
        env = self.engine.env(app, env_name)
        history = self.workspace.first_parent_history(app.repository, env.branch, limit + 1)
        deployed = {p.merge_sha: p for p in self.engine.store.history(app.name, env.name, 50)
                    if p.state is State.DEPLOYED and p.merge_sha}
        choices = []
        for commit in history[1:]:
            record = deployed.get(commit.sha)
            source = f"{record.kind.value} #{record.id}" if record else "branch history"
            choices.append(Revision(commit.sha, commit.message, source))
        return choices[:limit]

    def check_rollback(self, app_name: str | None, env_name: str, user: str, *,
                       emergency: bool = False,
                       channel: str | None = None) -> tuple[App, Environment]:
        """Who may roll back what, where, and whether the env is free: raises the refusal with
        its sentence, changes nothing (a dialog can ask before listing revisions)."""
        engine = self.engine
        app = engine.app(app_name, channel)
        env = engine.env(app, env_name)
        last = app.next_of(env.name) is None
        if emergency:
            if not last:
                how = ("pushes its revert directly" if app.index(env.name) == 0
                       else "opens a revert pull request")
                raise NotAllowed(
                    f"`emergency` is for {app.environments[-1].name} only: /rollback "
                    f"{env.name} {how}"
                )
            if channel != app.channels.incidents:
                raise NotAllowed(
                    f"an emergency rollback of {env.name} runs only in {app.name}'s incident "
                    f"channel: run it there, or drop `emergency` for a planned revert pull request"
                )
            if not engine.directory.is_member(app.groups.oncall, user):
                raise NotAllowed(
                    f"only {app.name}'s on-call responders can roll {env.name} back in an "
                    f"emergency: page them, or drop `emergency` for a planned revert pull request"
                )
        live = engine.store.live(app.name, env.name)
        if live is not None:
            raise AlreadyLive(
                f"{env.name} already has a live {live.kind.value} (#{live.id} by "
                f"@{live.requested_by}, {live.state.label}): wait for it, or cancel it first"
            )
        return app, env

    def rollback(self, app_name: str | None, env_name: str, user: str, *, to: str,
                 emergency: bool = False, channel: str | None = None,
                 reason: str = "") -> Promotion:
        """Start a rollback of the env to `to` (a sha, or a prefix of at least 7 of one)."""
        engine = self.engine
        app, env = self.check_rollback(app_name, env_name, user, emergency=emergency,
                                       channel=channel)
        last = app.next_of(env.name) is None
        history = self.workspace.first_parent_history(app.repository, env.branch, 50)
        head = history[0].sha
        target = _resolve(to, history[1:])
        if target is None:
            raise NotFound(
                f"{env.name} never ran {to[:12]}: /rollback {env.name} without a revision lists "
                f"the ones it ran"
            )
        if last:
            self._check_chain(app, env, "rollback")
        direct = app.index(env.name) == 0 or emergency
        now = engine.clock.now()
        record_id = engine.store.next_id()
        record = Promotion(
            id=record_id,
            kind=Kind.ROLLBACK,
            app=app.name,
            env=env.name,
            source_branch=env.branch if direct else f"rollback/{env.name}-{record_id}",
            target_branch=env.branch,
            requested_by=user,
            requested_at=now,
            head_sha=None,
            updated_at=now,
            extra={"mode": DIRECT if direct else PULL, "target_revision": target.sha,
                   "from_head": head, "emergency": "yes" if emergency else "no",
                   "reason": reason.strip()},
        )
        how = "emergency revert on" if emergency else ("revert pushed to" if direct else
                                                        "revert pull request into")
        event = Event("requested", record.id, app.name, env.name, user, now,
                      f"{how} {env.branch}: back to {target.sha[:7]} ({target.message})")
        record = engine.store.create(record, event)
        engine.notify(record, event)
        self._hold(app, env, user, f"rollback #{record.id} to {target.sha[:7]}"
                   + (f": {reason.strip()}" if reason.strip() else ""), record)
        reverted = {c.sha for c in history[: history.index(target)]}
        for earlier in engine.store.history(app.name, env.name, 50):
            if earlier.merge_sha in reverted and earlier.id != record.id:
                engine.comment_on(earlier, (
                    f"Rolled back by rollback #{record.id} (@{user}): {env.name} returns to "
                    f"{target.sha[:7]}" + (f" ({reason.strip()})" if reason.strip() else "")
                    + f". Promotions into {env.name} are on hold until /promote unlock "
                    f"{env.name}."))
        return record

    def unlock(self, app_name: str | None, env_name: str, user: str,
               channel: str | None = None) -> bool:
        app = self.engine.app(app_name, channel)
        env = self.engine.env(app, env_name)
        self.engine.check_may_lift(app, env, "hold", user)
        return self.engine.store.clear_block(
            "hold", app.name, env.name,
            Event("unlocked", None, app.name, env.name, user, self.engine.clock.now(),
                  f"hold on {env.name} lifted"),
        )

    def _hold(self, app: App, env: Environment, user: str, reason: str,
              record: Promotion) -> None:
        block = Block("hold", app.name, env.name, user, reason, self.engine.clock.now())
        event = Event("hold", record.id, app.name, env.name, user, block.at,
                      f"promotions into {env.name} are on hold until /promote unlock {env.name}")
        self.engine.store.set_block(block, event)
        self.engine.notify(record, event)

    def _check_chain(self, app: App, env: Environment, what: str) -> None:
        """Walk the env's dependsOn chain; an upstream that is not Ready would leave the env in
        DependencyNotReady after the merge: say which, why, and what to do, up front."""
        seen: set[FluxRef] = set()
        todo = list(self.engine.cluster.kustomization(env.kustomization).depends_on)
        while todo:
            ref = todo.pop(0)
            if ref in seen:
                continue
            seen.add(ref)
            status = self.engine.cluster.kustomization(ref)
            if not status.settled:
                upstream = next((e.name for e in app.environments if e.kustomization == ref),
                                ref.name)
                raise SourceNotReady(
                    f"{env.name} depends on {ref.name}, which is not Ready "
                    f"({status.reason or 'no status'}: {status.message}): after the {what} "
                    f"{env.name} would wait in DependencyNotReady. Fix {upstream} first "
                    f"(/rollback {upstream}), then retry"
                )
            todo.extend(status.depends_on)

    # -- hotfixes --------------------------------------------------------------------------

    def hotfix_start(self, app_name: str | None, name: str, user: str,
                     channel: str | None = None) -> tuple[str, str]:
        """Create hotfix/<name> from the last env's head; returns (branch, sha)."""
        engine = self.engine
        app = engine.app(app_name, channel)
        prod = app.environments[-1]
        branch = _hotfix_branch(name)
        if engine.forge.branch_exists(app.repository, branch):
            raise NotAllowed(
                f"{branch} already exists: push your fix to it and /hotfix promote {name}, or "
                f"pick another name"
            )
        sha = engine.forge.branch_head(app.repository, prod.branch)
        engine.forge.create_branch(app.repository, branch, sha)
        engine.store.append_event(
            Event("hotfix_started", None, app.name, prod.name, user, engine.clock.now(),
                  f"{branch} from {prod.branch}@{sha[:7]}"))
        return branch, sha

    def hotfix_promote(self, app_name: str | None, name: str, user: str,
                       channel: str | None = None) -> Promotion:
        """Promote hotfix/<name> into the last env through its gates (a freeze or a hold
        does not stop a hotfix: it is the fix)."""
        engine = self.engine
        app = engine.app(app_name, channel)
        prod = app.environments[-1]
        branch = _hotfix_branch(name)
        if not engine.forge.branch_exists(app.repository, branch):
            raise NotFound(f"there is no {branch}: start it with /hotfix start {name}")
        live = engine.store.live(app.name, prod.name)
        if live is not None:
            raise AlreadyLive(
                f"{prod.name} already has a live {live.kind.value} (#{live.id} by "
                f"@{live.requested_by}, {live.state.label}): wait for it, or cancel it first"
            )
        comparison = engine.forge.compare(app.repository, prod.branch, branch)
        if comparison.ahead_by == 0:
            raise NothingToPromote(
                f"{branch} has no commit that {prod.branch} lacks: push the fix to {branch} first"
            )
        self._check_chain(app, prod, "hotfix")
        head = engine.forge.branch_head(app.repository, branch)
        now = engine.clock.now()
        record = Promotion(
            id=engine.store.next_id(), kind=Kind.HOTFIX, app=app.name, env=prod.name,
            source_branch=branch, target_branch=prod.branch, requested_by=user,
            requested_at=now, head_sha=head, updated_at=now, extra={"hotfix": name},
        )
        event = Event("requested", record.id, app.name, prod.name, user, now,
                      f"{branch}@{head[:7]} -> {prod.branch}")
        record = engine.store.create(record, event)
        engine.notify(record, event)
        return record


    # -- retry -----------------------------------------------------------------------------

    def retry(self, promotion_id: int, user: str) -> Promotion:
        """Start a finished record over as a new one of its kind, asked for by `user`: a
        promotion is requested again (keeping its rollback plan), a hotfix promoted again."""
        engine = self.engine
        record = engine.get(promotion_id)
        if record.live:
            raise NotAllowed(f"#{record.id} is still {record.state.label}: there is nothing to "
                             f"retry yet")
        if record.kind is Kind.HOTFIX:
            return self.hotfix_promote(record.app, record.extra.get("hotfix", ""), user)
        if record.kind is Kind.ROLLBACK:
            raise NotAllowed(f"a rollback is not retried as it was: /rollback {record.env} "
                             f"lists the revisions to choose from")
        return engine.request(record.app, record.env, user, rollback_plan=record.rollback_plan)


def _hotfix_branch(name: str) -> str:
    if not _BRANCH_PART.match(name) or name.endswith(".lock") or "/." in name:
        raise InvalidName(
            f"`{name}` is not a valid branch name: use letters, digits, '-', '_', '.' or '/' "
            f"(for example /hotfix start fix-login-timeout)"
        )
    return HOTFIX_PREFIX + name


def _resolve(wanted: str, history: list[CommitInfo]) -> CommitInfo | None:
    wanted = wanted.strip().lower()
    if len(wanted) < 7 or not re.fullmatch(r"[0-9a-f]+", wanted):
        return None
    matches = [c for c in history if c.sha.startswith(wanted)]
    return matches[0] if len(matches) == 1 else None
