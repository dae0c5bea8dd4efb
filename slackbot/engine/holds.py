"""Freezes and holds: an env that no promotion may enter until it is lifted.

A freeze is placed by a person (/promote freeze); a hold by a rollback, so that the next
promotion does not ship the bad change again. Either is lifted by whoever placed it, a
stakeholder or on-call. Every change is an audit event; a freeze is also said on the pull
request of the env's live record.
"""

from __future__ import annotations

from slackbot.engine import writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import NotAllowed
from slackbot.events import Frozen, HoldPlaced, Unfrozen, Unlocked
from slackbot.models import Block, BlockKind, Promotion
from slackbot.pipeline import ALL, App, Environment
from slackbot.ports import Directory, Store
from slackbot.reasons import Action, Code, Next, Reason


class Holds:
    def __init__(self, lookup: Lookup, records: Records, store: Store, directory: Directory):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._directory = directory

    def freeze(self, app_name: str | None, env_name: str, user: str, reason: str,
               channel: str | None = None) -> Block:
        app, env = self._lookup.app_env(app_name, env_name, channel)
        now = self._records.clock.now()
        block = Block(BlockKind.FREEZE, app.name, env.name, user,
                      reason.strip() or "no reason given", now)
        event = self._records.event_for_env(app.name, env.name, user, Frozen(block.reason))
        self._store.set_block(block, event)
        self._comment_live(app, env, writing.frozen_comment(env.name, user, block.reason))
        return block

    def unfreeze(self, app_name: str | None, env_name: str, user: str,
                 channel: str | None = None) -> bool:
        app, env = self._lookup.app_env(app_name, env_name, channel)
        self.check_may_lift(app, env, BlockKind.FREEZE, user)
        event = self._records.event_for_env(app.name, env.name, user, Unfrozen())
        lifted = self._store.clear_block(BlockKind.FREEZE, app.name, env.name, event)
        if lifted:
            self._comment_live(app, env, writing.unfrozen_comment(env.name, user))
        return lifted

    def unlock(self, app_name: str | None, env_name: str, user: str,
               channel: str | None = None) -> bool:
        app, env = self._lookup.app_env(app_name, env_name, channel)
        self.check_may_lift(app, env, BlockKind.HOLD, user)
        event = self._records.event_for_env(app.name, env.name, user, Unlocked())
        return self._store.clear_block(BlockKind.HOLD, app.name, env.name, event)

    def hold(self, record: Promotion, user: str, reason: str) -> None:
        """A rollback's hold on its env, said on the rollback's card."""
        assert record.rollback is not None
        block = Block(BlockKind.HOLD, record.app, record.env, user, reason,
                      self._records.clock.now(), record=record.id,
                      target=record.rollback.target)
        event = self._records.event(record, HoldPlaced(reason), user)
        self._store.set_block(block, event)
        self._records.told(record, event)

    def check_may_lift(self, app: App | None, env: Environment | None, kind: BlockKind,
                       user: str) -> None:
        """A freeze or a hold is lifted by whoever placed it, a stakeholder or on-call (of
        every app it covers). `env` None: the freeze of every env of `app`; `app` None too:
        the freeze of every app (slackbot/engine/freezes.py)."""
        app_name = app.name if app is not None else ALL
        env_name = env.name if env is not None and app is not None else ALL
        block = next((b for b in self._store.blocks(app_name, env_name)
                      if b.kind is kind and (b.app, b.env) == (app_name, env_name)), None)
        if block is None or user == block.by:
            return
        covered = [app] if app is not None else list(self._lookup.pipeline.apps.values())
        if all(any(group and self._directory.is_member(group, user)
                   for group in (each.groups.stakeholders, each.groups.oncall))
               for each in covered):
            return
        action = Action.UNFREEZE if kind is BlockKind.FREEZE else Action.UNLOCK
        raise NotAllowed(Reason(Code.MAY_NOT_LIFT, Next.ASK_OWNER, app=app_name, env=env_name,
                                who=block.by, action=action))

    def _comment_live(self, app: App, env: Environment, text: str) -> None:
        """Tell the pull request of the env's live record, if it has one."""
        live = self._store.live(app.name, env.name)
        if live is not None:
            self._records.comment(live, text)
