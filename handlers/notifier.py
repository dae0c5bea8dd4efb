"""SlackNotifier: the engine's Notifier port, as one card per record in the app's deploys channel.

The first notice posts the card and returns its ref "<channel>:<ts>"; every later one renders
the card afresh from the stored record and its events and chat.update's it in place. Details
(gate changes, Flux progress, failure reasons) go to the card's thread. It never decides
anything: it only shows what the engine recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import blocks, messages
from handlers.background import reference
from handlers.home import HomePublisher
from slackbot.models import Event, Promotion
from slackbot.pipeline import Pipeline
from slackbot.store import RedisStore

log = logging.getLogger(__name__)

GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


def parse_ref(ref: str) -> tuple[str, str]:
    channel, _, ts = ref.partition(":")
    return channel, ts


class SlackNotifier:
    def __init__(
        self,
        client: WebClient,
        pipeline: Pipeline,
        store: RedisStore,
        home: HomePublisher | None = None,
    ):
        self._client = client
        self._pipeline = pipeline
        self._store = store
        self.home = home

    def promotion_changed(self, promotion: Promotion, event: Event, ref: str | None) -> str | None:
        app = self._pipeline.app(promotion.app)
        gates = app.env(promotion.env).gates
        body = blocks.card(promotion, self._store.events(promotion.id), gates)
        if ref is None:
            ref = self._post(app.channels.deploys, body)
        else:
            channel, ts = parse_ref(ref)
            try:
                self._client.chat_update(channel=channel, ts=ts, **body)
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
                log.warning(
                    "promotion %s: its card %s is gone; posting a new one", promotion.id, ref
                )
                ref = self._post(channel, body)
        detail = messages.thread_detail(event, promotion)
        if detail:
            channel, ts = parse_ref(ref)
            try:
                self._client.chat_postMessage(channel=channel, thread_ts=ts, text=detail)
            except SlackApiError:
                log.exception(
                    "promotion %s: thread reply failed (reference %s)", promotion.id, reference()
                )
        if self.home is not None:
            self.home.refresh()
        return ref

    def _post(self, channel: str, body: dict[str, Any]) -> str:
        response = self._client.chat_postMessage(channel=channel, **body)
        return f"{response['channel']}:{response['ts']}"
