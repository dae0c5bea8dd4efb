"""SlackNotifier: the core's Notifier port, as one card per record: in the app's deploys channel,
or, for a rollback or a hotfix, in the channel it was asked from (where the incident is), with
one line linking to it in the deploys channel.

A change only queues a render of the record's card on the bot's workers (key: the card), so
the core never waits on Slack and a burst of changes costs one update: the render reads the
newest record and its events, posts the card the first time (or updates it in place), then
posts in its thread the details of every event not threaded yet. Where the card is and how far
its thread got are kept in the store, so a render that failed, or a restart, picks up where
the last one stopped. An event that tells people directly (a reminder, a queued request
that started) sends its direct messages in the same pass, so they follow the thread's
progress too. It never decides anything: it only shows what the core recorded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import blocks
from handlers.home import HomePublisher
from handlers.messages import card as card_words
from handlers.messages import direct, timeline
from slackbot.engine.runner import Submit
from slackbot.events import Event
from slackbot.models import Kind, Promotion
from slackbot.pipeline import Pipeline
from slackbot.ports import Store

log = logging.getLogger(__name__)

GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
ABSENT = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
ELSEWHERE = frozenset({Kind.ROLLBACK, Kind.HOTFIX})  # cards shown where they were asked for
CARD = "card"  # the workers' key prefix of card renders


@dataclass(frozen=True)
class CardRef:
    """Where a record's card is, and how many of its events the thread has shown."""

    channel: str
    ts: str
    threaded: int = 0
    mirrored: bool = False  # the line in the deploys channel was posted (or is not needed)

    def encode(self) -> str:
        return json.dumps({"channel": self.channel, "ts": self.ts, "threaded": self.threaded,
                           "mirrored": self.mirrored})

    @classmethod
    def decode(cls, raw: str | None) -> CardRef | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["channel"]), str(data["ts"]), int(data.get("threaded", 0)),
                       bool(data.get("mirrored", True)))
        except (ValueError, KeyError, TypeError):
            return None


class SlackNotifier:
    def __init__(self, client: WebClient, pipeline: Pipeline, store: Store, submit: Submit,
                 home: HomePublisher | None = None):
        self._client = client
        self._pipeline = pipeline
        self._store = store
        self._submit = submit
        self.home = home

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        self._submit((CARD, promotion.id), lambda: self.render(promotion.id), CARD)

    def render(self, promotion_id: int) -> None:
        """Bring the record's card and thread up to date with the store (idempotent)."""
        record = self._store.get(promotion_id)
        if record is None:
            return
        app = self._pipeline.app(record.app)
        events = self._store.events(record.id)
        env = app.env(record.env)
        line = self._store.queue(record.app, record.env) if record.live else []
        body = blocks.card(record, events, env.gates, app.env_names, queue=line,
                           waiting=env.waiting)
        ref = CardRef.decode(self._store.notice(record.id))
        if ref is None:
            ref = self._post_first(record, app.channels.deploys, body)
        else:
            try:
                self._client.chat_update(channel=ref.channel, ts=ref.ts, **body)
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
                log.warning("promotion %s: its card is gone; posting a new one", record.id)
                ref = self._post(record, ref.channel, body, threaded=ref.threaded,
                                 mirrored=ref.mirrored)
        if not ref.mirrored:
            ref = self._mirror(record, app.channels.deploys, ref)
        self._thread(record, events, ref)
        if self.home is not None:
            self.home.refresh()

    def _post_first(self, record: Promotion, deploys: str, body: dict[str, Any]) -> CardRef:
        """A rollback's or a hotfix's card goes where it was asked for, if the bot is there."""
        where = record.channel if record.kind in ELSEWHERE and record.channel else deploys
        if where != deploys:
            try:
                return self._post(record, where, body, threaded=0, mirrored=False)
            except SlackApiError as exc:
                if exc.response.get("error") not in ABSENT:
                    raise
                log.warning("%s: not in %s; the card goes to the deploys channel", record.name,
                            where)
        return self._post(record, deploys, body, threaded=0)

    def _mirror(self, record: Promotion, deploys: str, ref: CardRef) -> CardRef:
        link: str | None = None
        try:
            link = str(self._client.chat_getPermalink(channel=ref.channel,
                                                      message_ts=ref.ts)["permalink"])
        except SlackApiError:
            log.info("%s: no permalink for its card", record.name, exc_info=True)
        self._client.chat_postMessage(channel=deploys, text=card_words.mirror(record,
                                                                               ref.channel, link))
        ref = CardRef(ref.channel, ref.ts, ref.threaded, True)
        self._store.set_notice(record.id, ref.encode())
        return ref

    def _post(self, record: Promotion, channel: str, body: dict[str, Any],
              threaded: int, mirrored: bool = True) -> CardRef:
        """Post the card and keep where it is at once (a retry must not post it twice)."""
        response = self._client.chat_postMessage(channel=channel, **body)
        ref = CardRef(str(response["channel"]), str(response["ts"]), threaded, mirrored)
        self._store.set_notice(record.id, ref.encode())
        return ref

    def _thread(self, record: Promotion, events: list[Event], ref: CardRef) -> None:
        """Post the details of the events the thread has not shown yet, in order."""
        for index in range(ref.threaded, len(events)):
            detail = timeline.thread_detail(events[index], record)
            if detail:
                self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=detail)
            for user, text in direct.messages(events[index], record, ref.channel):
                self._tell(record, user, text)
            ref = CardRef(ref.channel, ref.ts, index + 1, ref.mirrored)
            self._store.set_notice(record.id, ref.encode())

    def _tell(self, record: Promotion, user: str, text: str) -> None:
        """A direct message (chat.postMessage to a user id: the bot's conversation with them);
        one that Slack refuses is logged and skipped, never holding the thread back."""
        try:
            self._client.chat_postMessage(channel=user, text=text)
        except SlackApiError as exc:
            log.warning("promotion %s: a direct message to %s was refused (%s)", record.id,
                        user, exc.response.get("error"))
