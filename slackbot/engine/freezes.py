"""Freezes at every scale: of one env (slackbot/engine/holds.py), of every env of an app, of
every app (`/promote freeze all`), and the dated freezes of the pipeline file's calendar.

A wide freeze is a block in the store under the app `*` or the env `*`; the store hands it
with the env's own blocks, so every rule that reads an env's blocks (a request, the status)
sees it. Placing or lifting it takes the access policy's freeze or unfreeze rule of every env
it covers (Holds.check_may_freeze_wide and check_may_lift_wide); its owner may lift it. A
calendar freeze is configuration: it refuses requests while in force (slackbot/engine/rules.py)
and cannot be lifted from Slack. Nothing here knows Slack.
"""

from __future__ import annotations

from datetime import datetime

from slackbot.engine import writing
from slackbot.engine.holds import Freezing, Holds
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.events import Unfrozen
from slackbot.models import Block, BlockKind
from slackbot.pipeline import ALL, App, CalendarFreeze
from slackbot.ports import Store

EVERY_APP = "all"  # what people type for the freeze of every app


class Freezes:
    def __init__(self, lookup: Lookup, records: Records, store: Store, holds: Holds):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._holds = holds

    def freeze(self, app_name: str | None, user: str, reason: str,
               channel: str | None = None) -> Block:
        """The wide freeze in force after `freezing` (which see)."""
        return self.freezing(app_name, user, reason, channel).block

    def freezing(self, app_name: str | None, user: str, reason: str,
                 channel: str | None = None) -> Freezing:
        """Freeze every env of the app, or of every app when `app_name` is None; as an env's
        freeze (Holds.freezing), it keeps one owner: another person's is refused, the owner's
        repeat keeps the freeze and its time (with a new reason, only the reason changes)."""
        app = self._lookup.app(app_name, channel) if app_name is not None else None
        self._holds.check_may_freeze_wide(app, user, channel)
        key = app.name if app is not None else ALL
        scope = app.name if app is not None else EVERY_APP
        return self._holds.place_freeze(key, ALL, user, reason, lambda block: self._comment_live(
            app, writing.wide_frozen_comment(scope, user, block.reason)))

    def unfreeze(self, app_name: str | None, user: str, channel: str | None = None) -> bool:
        """Lift the freeze of every env of the app (or of every app); False when none."""
        app = self._lookup.app(app_name, channel) if app_name is not None else None
        self._holds.check_may_lift_wide(app, user, channel)
        key = app.name if app is not None else ALL
        lifted = self._store.clear_block(BlockKind.FREEZE, key, ALL,
                                         self._records.event_for_env(key, ALL, user, Unfrozen()))
        if lifted:
            scope = app.name if app is not None else EVERY_APP
            self._comment_live(app, writing.wide_unfrozen_comment(scope, user))
        return lifted

    def wider(self, app_name: str, env_name: str) -> list[Block]:
        """The freezes of the app or of every app that also cover this env."""
        return [b for b in self._store.blocks(app_name, env_name) if b.env == ALL]

    def calendar(self, app_name: str, env_name: str, now: datetime) -> list[CalendarFreeze]:
        """The env's calendar freezes in force or to come, soonest first."""
        env = self._lookup.env(self._lookup.app(app_name), env_name)
        return sorted((f for f in env.freezes if not f.over(now)), key=lambda f: f.start)

    def _comment_live(self, app: App | None, text: str) -> None:
        for record in self._store.live_all():
            if app is None or record.app == app.name:
                self._records.comment(record, text)
