"""What the listeners are given: the engine's parts, the store, the pipeline, App Home, `run`,
which hands a listener's work to the bot's workers after its ack, and `soon`, for the Slack
calls after an ack that must not wait behind a record's work (a dialog within its trigger's
3 s).

Built once by the composition root and handed to every `register(app, services)`. It holds
no state of its own beyond these references.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from handlers import blocks
from handlers.background import Defer, run_now
from handlers.home import HomePublisher
from handlers.notifier import ELSEWHERE
from handlers.replies import Say, guarded
from slackbot.delivery import Delivery
from slackbot.engine import Core
from slackbot.engine.runner import Submit
from slackbot.models import Promotion
from slackbot.pipeline import Pipeline
from slackbot.ports import Store


@dataclass
class Services:
    core: Core
    store: Store
    pipeline: Pipeline
    submit: Submit  # the bot's workers: serialised per key, parallel across keys
    home: HomePublisher | None = None
    delivery: Delivery | None = None  # the DORA figures (/promote stats)
    click_window_seconds: int = 5  # two clicks of one button within this act once
    delivery_ttl_seconds: int = 3600  # how long a delivery's idempotency key is kept
    # after the ack, off the request's thread (Bolt answers Slack when the listener returns):
    # the listeners' own pool in the bot; in the caller's thread where nothing serves HTTP
    soon: Defer = run_now

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(sorted({e for app in self.pipeline.apps.values() for e in app.env_names}))

    @property
    def app_names(self) -> tuple[str, ...]:
        return self.pipeline.app_names

    def run(self, key: Hashable, say: Say, what: str, work: Callable[[], None]) -> None:
        """After the ack: `work` on the bot's workers under `key` (a record's id for work on
        a record), its refusal or failure told through `say`."""
        self.submit(key, lambda: guarded(say, what, work, blocks.refusal_message), None)

    def deploys_channel(self, app: str) -> str:
        return self.pipeline.app(app).channels.deploys

    def card_channel(self, record: Promotion) -> str:
        """Where the record's card is posted (a rollback's or a hotfix's: where it was asked
        for, as handlers/notifier.py does)."""
        if record.kind in ELSEWHERE and record.channel:
            return record.channel
        return self.deploys_channel(record.app)

    def refresh_home(self) -> None:
        if self.home is not None:
            self.home.refresh()
