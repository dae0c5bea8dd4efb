"""What the listeners are given: the engine, the store, the pipeline, App Home, a defer hook.

Built once by the composition root and handed to every `register(app, services)`. It holds
no state of its own beyond these references.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.background import Defer, run_now
from handlers.home import HomePublisher
from handlers.replies import Say, guarded
from slackbot.engine import Engine
from slackbot.incidents import Incidents
from slackbot.pipeline import Pipeline
from slackbot.store import RedisStore


@dataclass
class Services:
    engine: Engine
    store: RedisStore
    pipeline: Pipeline
    home: HomePublisher | None = None
    defer: Defer = run_now  # where follow-up work runs (advance after a request)
    incidents: Incidents | None = None  # rollbacks, holds and hotfixes (needs a git workspace)
    click_window_seconds: int = 5  # two clicks of one button within this act once
    delivery_ttl_seconds: int = 3600  # how long a delivery's idempotency key is kept

    @property
    def env_names(self) -> tuple[str, ...]:
        return tuple(sorted({e for app in self.pipeline.apps.values() for e in app.env_names}))

    @property
    def app_names(self) -> tuple[str, ...]:
        return self.pipeline.app_names

    def follow_up(self, say: Say, what: str, work: Callable[[], None]) -> None:
        """Run a listener's slow part (outside calls) on the defer pool, so that Bolt's
        listener threads only ack: a burst of slow requests never delays another's ack."""
        self.defer(lambda: guarded(say, what, work))

    def advance_later(self, promotion_id: int, say: Say) -> None:
        """Drive a new record forward after the ack; a failure is told to the user."""
        engine = self.engine
        self.defer(
            lambda: guarded(
                say, f"advancing #{promotion_id}", lambda: _discard(engine.advance(promotion_id))
            )
        )

    def refresh_home(self) -> None:
        if self.home is not None:
            self.home.refresh()


def _discard(_: object) -> None:
    return None
