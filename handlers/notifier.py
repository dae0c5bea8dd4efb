"""SlackNotifier: the core's Notifier port, as one card per record: in the app's deploys channel,
or, for a rollback or a hotfix, in the channel it was asked from (where the incident is), with
one line linking to it in the deploys channel.

A change only marks the record's card due (in the store) and queues a render on the card
workers (key: the card), so the core never waits on Slack and a burst of changes costs one
update: the render reads the newest record and its events, posts the card the first time (or
updates it in place), then posts in its thread, in one reply, the details of the events not
threaded yet. Where the card is, the record version it shows and how far its thread got are
kept in the store, with the due mark cleared only once the card shows the record: a render
Slack failed, a restart, or a Redis outage is taken up again (`resume`), from the record.

Slack's limits are kept, never slept on (handlers/pacing.py): a post waits for its channel's
slot (about one a second, shared by the replicas), an update for the card's last one to be a
second old, and a 429 for its Retry-After; the render is handed in again later, coalesced.
One render of a card runs at a time across replicas (a short claim in the store), so a card
never shows an older version of its record than it did. An event that tells people directly
(a reminder, a queued request that started) sends its direct messages in the same pass, so
they follow the thread's progress too. It never decides anything.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers import blocks
from handlers.home import HomePublisher
from handlers.messages import card as card_words
from handlers.messages import direct, timeline
from handlers.pacing import Pacing
from slackbot.downtime import Downtime
from slackbot.engine.runner import Submit
from slackbot.errors import StoreUnavailable
from slackbot.events import Event
from slackbot.models import Kind, Promotion
from slackbot.outages import OutageBoard
from slackbot.pipeline import Pipeline
from slackbot.ports import Store
from slackbot.timers import Later

log = logging.getLogger(__name__)

GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
ABSENT = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
ELSEWHERE = frozenset({Kind.ROLLBACK, Kind.HOTFIX})  # cards shown where they were asked for
CARD = "card"  # the workers' key prefix of card renders
CLAIM_MS = 30_000  # one render's claim on its card: a few Slack calls of 10 s at most
CLAIMED_RETRY = 0.5  # another replica renders this card now: look again shortly
THREAD_TEXT_MAX = 3_500  # one thread reply gathers details up to about this much text


@dataclass(frozen=True)
class CardRef:
    """Where a record's card is, the record version it shows, and how many of its events the
    thread has shown."""

    channel: str
    ts: str
    threaded: int = 0
    version: int = 0
    events: int = 0  # how many events the card's timeline shows (a note adds one, no version)
    alerts: str = ""  # the outages the card shows (their keys), to take them off when over
    mirrored: bool = False  # the line in the deploys channel was posted (or is not needed)

    def encode(self) -> str:
        return json.dumps({"channel": self.channel, "ts": self.ts, "threaded": self.threaded,
                           "version": self.version, "events": self.events,
                           "alerts": self.alerts, "mirrored": self.mirrored})

    @classmethod
    def decode(cls, raw: str | None) -> CardRef | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["channel"]), str(data["ts"]), int(data.get("threaded", 0)),
                       int(data.get("version", 0)), int(data.get("events", 0)),
                       str(data.get("alerts", "")), bool(data.get("mirrored", True)))
        except (ValueError, KeyError, TypeError):
            return None


class _Later(Exception):
    """Stop this render; hand it in again in `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


class SlackNotifier:
    def __init__(self, client: WebClient, pipeline: Pipeline, store: Store, submit: Submit,
                 home: HomePublisher | None = None, *, later: Later | None = None,
                 pacing: Pacing | None = None, owner: str = "promotebot",
                 outages: OutageBoard | None = None):
        self._client = client
        self._pipeline = pipeline
        self._store = store
        self._submit = submit
        self.home = home
        self._later = later
        self._pacing = pacing or Pacing(store)
        self._owner = owner
        self._outages = outages
        # Slack or Redis away: one warning for the outage and one line when it answers, whatever
        # the number of cards waiting (each card keeps its own pause, in `pacing`)
        self._slack_down = Downtime("Slack (the cards)", log)
        self._redis_down = Downtime("Redis (the cards)", log)

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        self._store.mark_notice_due(promotion.id)  # kept until the card shows this change
        self._queue(promotion.id)

    def _queue(self, promotion_id: int, after: float = 0.0) -> None:
        key = (CARD, promotion_id)
        if after > 0 and self._later is not None:
            self._later.after(after, key, lambda: self.render(promotion_id), CARD)
        else:
            self._submit(key, lambda: self.render(promotion_id), CARD)

    def resume(self) -> list[int]:
        """Render every card the store says is behind its record (after a restart, a Redis or
        Slack outage); the ids queued."""
        due = self._store.notices_due()
        for promotion_id in due:
            self._queue(promotion_id)
        return due

    def refresh_live(self) -> None:
        """Re-render the live cards (what an outage line says changed)."""
        for record in self._store.live_all():
            self._queue(record.id)

    def render(self, promotion_id: int) -> None:
        """Bring the record's card and thread up to date with the store (idempotent); a render
        that must wait, or that Slack or Redis failed, is handed in again later."""
        claim = f"card:{promotion_id}"
        try:
            if not self._store.claim_key(claim, self._owner, CLAIM_MS):
                raise _Later(CLAIMED_RETRY)
            try:
                self._render(promotion_id)
            finally:
                self._store.unclaim_key(claim, self._owner)
        except _Later as wait:
            self._queue(promotion_id, after=wait.seconds)
            return
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                method = _method(exc)
                channel = _channel(exc)
                delay = self._pacing.limited(method, channel, _retry_after(exc))
                log.info("promotion %s: Slack rate-limits %s; its card waits %.1f s",
                         promotion_id, method, delay)
            elif exc.response.status_code >= 500:  # Slack itself is failing: an outage
                delay = self._pacing.failed(promotion_id)
                self._slack_down.failed(f"HTTP {exc.response.status_code} "
                                        f"{exc.response.get('error') or ''}".strip())
            else:
                delay = self._pacing.failed(promotion_id)
                log.warning("promotion %s: Slack failed the card (%s); again in %.0f s",
                            promotion_id, exc.response.get("error"), delay)
            self._queue(promotion_id, after=delay)
            return
        except (SlackClientError, OSError) as exc:
            delay = self._pacing.failed(promotion_id)
            self._slack_down.failed(exc)
            log.debug("promotion %s: Slack could not be reached; the card again in %.0f s",
                      promotion_id, delay)
            self._queue(promotion_id, after=delay)
            return
        except StoreUnavailable as exc:
            # the due mark stays in the store: resume() takes the card up when Redis answers
            self._redis_down.failed(exc)
            self._queue(promotion_id, after=self._pacing.failed(promotion_id))
            return
        self._slack_down.answered()
        self._redis_down.answered()
        self._pacing.succeeded(promotion_id)
        if self.home is not None:
            self.home.refresh()

    def _render(self, promotion_id: int) -> None:
        record = self._store.get(promotion_id)
        if record is None:
            self._store.clear_notice_due(promotion_id)
            return
        app = self._pipeline.app(record.app)
        events = self._store.events(record.id)
        env = app.env(record.env)
        line = self._store.queue(record.app, record.env) if record.live else []
        outages = self._outages.current() if self._outages is not None and record.live else ()
        # what the card shows besides the record: a change of it is worth an update too
        alerts = ",".join([f"{o.service}:{o.target or ''}:{o.problem}" for o in outages]
                          + [f"q:{e.user}:{e.seq}" for e in line])
        body = blocks.card(record, events, env.gates, app.env_names, outages, queue=line,
                           waiting=env.waiting)
        ref = CardRef.decode(self._store.notice(record.id))
        if ref is None:
            ref = self._post_first(record, app.channels.deploys, body, len(events), alerts)
        elif record.version < ref.version:
            return  # a stale read (a replica of Redis behind): never show an older record
        elif (ref.version, ref.events, ref.alerts) != (record.version, len(events), alerts):
            self._wait(self._pacing.update(record.id))
            try:
                self._client.chat_update(channel=ref.channel, ts=ref.ts, **body)
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
                log.warning("promotion %s: its card is gone; posting a new one", record.id)
                self._wait(self._pacing.post(ref.channel))
                ref = self._post(record, ref.channel, body, ref.threaded, len(events), alerts,
                                 mirrored=ref.mirrored)
            else:
                self._pacing.updated(record.id)
                ref = replace(ref, version=record.version, events=len(events), alerts=alerts)
                self._store.set_notice(record.id, ref.encode())
        if not ref.mirrored:
            ref = self._mirror(record, app.channels.deploys, ref)
        self._thread(record, events, ref)
        # Clear the due mark only if nothing changed meanwhile; a change stored while this
        # render ran has queued its own render (and marked the card due again).
        latest = self._store.get(record.id)
        if latest is not None and latest.version == record.version and len(
                self._store.events(record.id)) == len(events):
            self._store.clear_notice_due(record.id)

    def _post_first(self, record: Promotion, deploys: str, body: dict[str, Any], events: int,
                    alerts: str) -> CardRef:
        """A rollback's or a hotfix's card goes where it was asked for, if the bot is there."""
        where = record.channel if record.kind in ELSEWHERE and record.channel else deploys
        if where != deploys:
            self._wait(self._pacing.post(where))
            try:
                return self._post(record, where, body, 0, events, alerts, mirrored=False)
            except SlackApiError as exc:
                if exc.response.get("error") not in ABSENT:
                    raise
                log.warning("%s: not in %s; the card goes to the deploys channel", record.name,
                            where)
        self._wait(self._pacing.post(deploys))
        return self._post(record, deploys, body, 0, events, alerts)

    def _mirror(self, record: Promotion, deploys: str, ref: CardRef) -> CardRef:
        """One line in the deploys channel linking to a card posted elsewhere."""
        self._wait(self._pacing.post(deploys))
        link: str | None = None
        try:
            link = str(self._client.chat_getPermalink(channel=ref.channel,
                                                      message_ts=ref.ts)["permalink"])
        except SlackApiError:
            log.info("%s: no permalink for its card", record.name, exc_info=True)
        self._client.chat_postMessage(channel=deploys, text=card_words.mirror(record,
                                                                               ref.channel, link))
        ref = replace(ref, mirrored=True)
        self._store.set_notice(record.id, ref.encode())
        return ref

    @staticmethod
    def _wait(seconds: float) -> None:
        if seconds > 0:
            raise _Later(seconds)

    def _post(self, record: Promotion, channel: str, body: dict[str, Any], threaded: int,
              events: int, alerts: str, mirrored: bool = True) -> CardRef:
        """Post the card and keep where it is at once (a retry must not post it twice)."""
        response = self._client.chat_postMessage(channel=channel, **body)
        self._pacing.updated(record.id)
        ref = CardRef(str(response["channel"]), str(response["ts"]), threaded, record.version,
                      events, alerts, mirrored)
        self._store.set_notice(record.id, ref.encode())
        return ref

    def _thread(self, record: Promotion, events: list[Event], ref: CardRef) -> None:
        """Post the details of the events the thread has not shown yet, in order, gathered in
        one reply (each reply counts against the channel's posting limit)."""
        details: list[str] = []
        upto = ref.threaded
        for index in range(ref.threaded, len(events)):
            detail = timeline.thread_detail(events[index], record)
            if detail and details and sum(map(len, details)) + len(detail) > THREAD_TEXT_MAX:
                break
            if detail:
                details.append(detail)
            upto = index + 1
        if upto == ref.threaded:
            return
        if details:
            self._wait(self._pacing.post(ref.channel))
            self._client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts,
                                          text="\n\n".join(details))
        for index in range(ref.threaded, upto):
            for user, said in direct.messages(events[index], record, ref.channel):
                self._tell(record, user, said)
        ref = replace(ref, threaded=upto)
        self._store.set_notice(record.id, ref.encode())
        if upto < len(events):
            raise _Later(0.0)  # more details than one reply holds: the next reply soon

    def _tell(self, record: Promotion, user: str, text: str) -> None:
        """A direct message (chat.postMessage to a user id: the bot's conversation with them);
        one that Slack refuses is logged and skipped, never holding the thread back."""
        try:
            self._client.chat_postMessage(channel=user, text=text)
        except SlackApiError as exc:
            log.warning("promotion %s: a direct message to %s was refused (%s)", record.id,
                        user, exc.response.get("error"))


def _method(exc: SlackApiError) -> str:
    url = str(getattr(exc.response, "api_url", "") or "")
    return url.rstrip("/").rsplit("/", 1)[-1] or "unknown"


def _channel(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "req_args", None) or {}
    for part in ("json", "params", "data"):
        body = data.get(part) if isinstance(data, dict) else None
        if isinstance(body, dict) and body.get("channel"):
            return str(body["channel"])
    return None


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return float(raw) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
