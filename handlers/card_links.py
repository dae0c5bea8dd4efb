"""The link to a record's card (Slack's chat.getPermalink of the message), for what the bot
writes on GitHub (a Deployment status's log_url, a commit status's target_url).

The CardLinks port of the core, on the Slack edge: the core never knows what a card is. A
permalink never changes, so each is asked once and kept (a bounded number of them). It
raises nothing: no card yet, or Slack refusing, is no link.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.notifier import CardRef
from slackbot.ports import Store

log = logging.getLogger(__name__)

KEPT = 1000


class SlackCardLinks:
    def __init__(self, client: WebClient, store: Store):
        self._client = client
        self._store = store
        self._lock = threading.Lock()
        self._links: OrderedDict[tuple[str, str], str] = OrderedDict()

    def card_link(self, promotion_id: int) -> str | None:
        ref = CardRef.decode(self._store.notice(promotion_id))
        if ref is None:
            return None
        key = (ref.channel, ref.ts)
        with self._lock:
            if key in self._links:
                return self._links[key]
        try:
            reply = self._client.chat_getPermalink(channel=ref.channel, message_ts=ref.ts)
        except SlackApiError as exc:
            log.info("record %s: no permalink for its card (%s)", promotion_id,
                     exc.response.get("error"))
            return None
        link = str(reply.get("permalink") or "") or None
        if link is not None:
            with self._lock:
                self._links[key] = link
                while len(self._links) > KEPT:
                    self._links.popitem(last=False)
        return link
