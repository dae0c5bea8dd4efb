"""When the notifier may call Slack: Slack's posting limit per channel, one update a second per
card, and the pause a 429 asks for, so that a burst of 200 promotions waits its turn instead of
drawing 429s.

The posting limit is kept in the store (every replica shares one pace per channel, by Redis's
clock); a card's spacing and a method's Retry-After are this process's own (a render of one
card runs in one replica at a time). Each answer is a number of seconds to wait (0: go now);
waiting is the caller's business (it reschedules, it never sleeps on a worker).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from slackbot.ports import Store

POST_INTERVAL = 1.0  # Slack: about one message a second per channel
UPDATE_INTERVAL = 1.0  # the "about one update a second per card"
BACKOFF_FIRST, BACKOFF_CAP = 1.0, 60.0  # a render Slack failed: again after 1, 2, 4 ... 60 s


class Pacing:
    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic,
                 post_interval: float = POST_INTERVAL, update_interval: float = UPDATE_INTERVAL):
        self._store = store
        self._clock = clock
        self._post_ms = int(post_interval * 1000)
        self._update_interval = update_interval
        self._lock = threading.Lock()
        self._updated: dict[int, float] = {}  # card -> when it was last updated
        self._blocked: dict[str, float] = {}  # method or method:channel -> not before
        self._failures: dict[int, int] = {}  # card -> renders Slack failed in a row

    def post(self, channel: str) -> float:
        """Seconds before a message may be posted in `channel`; 0 takes the slot."""
        blocked = self.blocked("chat.postMessage", channel)
        if blocked:
            return blocked
        return self._store.pace(f"post:{channel}", self._post_ms) / 1000.0

    def update(self, card: int) -> float:
        """Seconds before the card may be updated again (0: now; the caller updates it)."""
        blocked = self.blocked("chat.update")
        now = self._clock()
        with self._lock:
            last = self._updated.get(card)
            spacing = 0.0 if last is None else max(0.0, last + self._update_interval - now)
        return max(blocked, spacing)

    def updated(self, card: int) -> None:
        with self._lock:
            self._updated[card] = self._clock()
            if len(self._updated) > 10_000:  # bounded: the oldest cards are long settled
                for old in sorted(self._updated, key=self._updated.__getitem__)[:5_000]:
                    del self._updated[old]

    def blocked(self, method: str, channel: str | None = None) -> float:
        now = self._clock()
        with self._lock:
            until = max(self._blocked.get(method, 0.0),
                        self._blocked.get(f"{method}:{channel}", 0.0) if channel else 0.0)
        return max(0.0, until - now)

    def limited(self, method: str, channel: str | None, retry_after: float) -> float:
        """Slack answered 429: no call of `method` (in `channel` for the posting limit) before
        Retry-After, plus a little jitter so waiting renders do not all go at once."""
        key = f"{method}:{channel}" if method == "chat.postMessage" and channel else method
        wait = max(retry_after, 1.0) + random.uniform(0.0, 0.5)
        with self._lock:
            self._blocked[key] = max(self._blocked.get(key, 0.0), self._clock() + wait)
        return wait

    def failed(self, card: int) -> float:
        """A render Slack failed (not a 429): when to try again, backing off to a minute."""
        with self._lock:
            count = self._failures.get(card, 0) + 1
            self._failures[card] = count
        delay = min(BACKOFF_CAP, BACKOFF_FIRST * float(2 ** min(count - 1, 10)))
        return delay * random.uniform(0.8, 1.2)

    def succeeded(self, card: int) -> None:
        with self._lock:
            self._failures.pop(card, None)
