"""Freezes and holds: an env that no promotion may enter until it is lifted.

A freeze is placed by a person (/promote freeze); a hold by a rollback, so that the next
promotion does not ship the bad change again. Each keeps its owner: it is lifted (or replaced)
only by whoever placed it or by a role the access policy names for unfreeze or unlock; every
change is a compare-and-set on the block. Every change is an audit event; a freeze is also said
on the pull request of the env's live record; a cancelled rollback lifts its own hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slackbot.engine import writing
from slackbot.engine.access import Access
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import ConcurrentUpdate, NotAllowed
from slackbot.events import Frozen, HoldKept, HoldPlaced, Unfrozen, Unlocked
from slackbot.models import Block, BlockKind, Promotion
from slackbot.pipeline import ALL, App, Environment
from slackbot.ports import Store
from slackbot.reasons import Action, Code, Next, Reason

CAS_ATTEMPTS = 8  # a change that loses its compare-and-set on the block re-reads and tries again


@dataclass(frozen=True)
class Freezing:
    """What a freeze request did: the freeze in force after it, and the same owner's freeze
    it repeated (None for a new freeze). `block is repeated`: nothing changed."""

    block: Block
    repeated: Block | None = None

    @property
    def unchanged(self) -> bool:
        return self.block is self.repeated


class Holds:
    def __init__(self, lookup: Lookup, records: Records, store: Store, access: Access):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._access = access

    def freeze(self, app_name: str | None, env_name: str, user: str, reason: str,
               channel: str | None = None) -> Block:
        """The freeze in force after `freezing` (which see)."""
        return self.freezing(app_name, env_name, user, reason, channel).block

    def freezing(self, app_name: str | None, env_name: str, user: str, reason: str,
                 channel: str | None = None) -> Freezing:
        """Freeze the env, or change the reason of one's own freeze. A freeze has one owner:
        a freeze over another person's is refused (ALREADY_FROZEN), not taken over nor
        recorded as a co-freeze: the env is frozen either way, and with one owner and one
        reason it stays clear who lifts it; whoever may unfreeze it can, then freeze it with
        their own reason, both steps in the audit trail. The owner's repeat keeps the freeze
        and its time: with no new reason nothing changes (no event, no comment); with one,
        only the reason does."""
        app, env = self._lookup.app_env(app_name, env_name, channel)
        self._access.check(Action.FREEZE, app, env, user, channel)
        return self.place_freeze(app.name, env.name, user, reason, lambda block: (
            self._comment_live(app, env, writing.frozen_comment(env.name, user, block.reason))))

    def place_freeze(self, app: str, env: str, user: str, reason: str,
                     placed: Callable[[Block], None]) -> Freezing:
        """The freeze of (app, env), an env's own or a wide one (`*`), placed or repeated by
        `user` as `freezing` says (the caller checked who may); `placed` is told of a new or
        changed freeze once it is stored."""
        for _ in range(CAS_ATTEMPTS):
            current = self._own(app, env, BlockKind.FREEZE)
            if current is not None and current.by != user:
                raise NotAllowed(Reason(Code.ALREADY_FROZEN, Next.ASK_OWNER, app=app, env=env,
                                        who=current.by, since=current.at, text=current.reason))
            said = reason.strip()
            if current is not None and said in ("", current.reason):
                return Freezing(current, current)
            block = Block(BlockKind.FREEZE, app, env, user, said or "no reason given",
                          current.at if current is not None else self._records.clock.now())
            event = self._records.event_for_env(app, env, user, Frozen(block.reason))
            if self._store.swap_block(block, event, current):
                placed(block)
                return Freezing(block, current)
        raise ConcurrentUpdate(f"the freeze of {app}/{env} kept changing")

    def unfreeze(self, app_name: str | None, env_name: str, user: str,
                 channel: str | None = None) -> bool:
        app, env = self._lookup.app_env(app_name, env_name, channel)
        lifted = self._lift(app, env, BlockKind.FREEZE, Action.UNFREEZE, user, channel)
        if lifted:
            self._comment_live(app, env, writing.unfrozen_comment(env.name, user))
        return lifted

    def unlock(self, app_name: str | None, env_name: str, user: str,
               channel: str | None = None) -> bool:
        app, env = self._lookup.app_env(app_name, env_name, channel)
        return self._lift(app, env, BlockKind.HOLD, Action.UNLOCK, user, channel)

    def hold(self, record: Promotion, user: str, reason: str) -> None:
        """A rollback's hold on its env, said on the rollback's card. Another person's hold
        stays theirs (the card says so); one's own is replaced by this rollback's."""
        assert record.rollback is not None
        app, env = self._lookup.app_env(record.app, record.env)
        for _ in range(CAS_ATTEMPTS):
            current = self._block(app, env, BlockKind.HOLD)
            if current is not None and current.by != user:
                self._records.note(record, HoldKept(current.by, current.record), user)
                return
            block = Block(BlockKind.HOLD, record.app, record.env, user, reason,
                          self._records.clock.now(), record=record.id,
                          target=record.rollback.target)
            event = self._records.event(record, HoldPlaced(reason), user)
            if self._store.swap_block(block, event, current):
                self._records.told(record, event)
                return
        raise ConcurrentUpdate(f"the hold of {record.app}/{record.env} kept changing")

    def lift_own(self, record: Promotion, user: str) -> bool:
        """The hold of a cancelled rollback, lifted if it is still the one it placed."""
        app, env = self._lookup.app_env(record.app, record.env)
        current = self._block(app, env, BlockKind.HOLD)
        if current is None or current.record != record.id:
            return False
        event = self._records.event(record, Unlocked(), user)
        lifted = self._store.clear_block(BlockKind.HOLD, app.name, env.name, event, current)
        if lifted:
            self._records.told(record, event)
        return lifted

    def _lift(self, app: App, env: Environment, kind: BlockKind, action: Action, user: str,
              channel: str | None) -> bool:
        """Lift a freeze or a hold: its owner, or a role the policy names (False: none)."""
        for _ in range(CAS_ATTEMPTS):
            current = self._block(app, env, kind)
            self._access.check(action, app, env, user, channel,
                               owner=current.by if current else None)
            if current is None:
                return False
            facts = Unfrozen() if kind is BlockKind.FREEZE else Unlocked()
            event = self._records.event_for_env(app.name, env.name, user, facts)
            if self._store.clear_block(kind, app.name, env.name, event, current):
                return True
        raise ConcurrentUpdate(f"the {kind.value} of {app.name}/{env.name} kept changing")

    def check_may_lift_wide(self, app: App | None, user: str, channel: str | None) -> None:
        """The freeze of every env of `app` (None: of every app) is lifted by its owner, or by
        whoever the policy lets unfreeze each env it covers (slackbot/engine/freezes.py)."""
        self._check_wide(Action.UNFREEZE, app, user, channel)

    def check_may_freeze_wide(self, app: App | None, user: str, channel: str | None) -> None:
        """Freezing every env of `app` (None: of every app) needs the freeze rule of each."""
        self._check_wide(Action.FREEZE, app, user, channel)

    def _check_wide(self, action: Action, app: App | None, user: str,
                    channel: str | None) -> None:
        key = app.name if app is not None else ALL
        current = next((b for b in self._store.blocks(key, ALL) if b.kind is BlockKind.FREEZE
                        and (b.app, b.env) == (key, ALL)), None)
        owner = current.by if current is not None else None
        if action is Action.UNFREEZE and (current is None or owner == user):
            return
        covered = [app] if app is not None else list(self._lookup.pipeline.apps.values())
        for each in covered:
            # a wide freeze is asked for from anywhere the app's own channels are: a channel
            # rule is checked in the app it was typed for, not in every app it covers
            where = channel if app is not None else None
            for env in each.environments:
                self._access.check(action, each, env, user, where, owner=owner)

    def _block(self, app: App, env: Environment, kind: BlockKind) -> Block | None:
        return self._own(app.name, env.name, kind)

    def _own(self, app: str, env: str, kind: BlockKind) -> Block | None:
        """The freeze or hold placed on exactly (app, env), either possibly `*` (not a wider
        freeze that also covers it)."""
        return next((b for b in self._store.blocks(app, env)
                     if b.kind is kind and (b.app, b.env) == (app, env)), None)

    def _comment_live(self, app: App, env: Environment, text: str) -> None:
        """Tell the pull request of the env's live record, if it has one."""
        live = self._store.live(app.name, env.name)
        if live is not None:
            self._records.comment(live, text)
