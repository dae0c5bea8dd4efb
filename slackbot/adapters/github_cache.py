"""What the bot last heard from GitHub, per URL: the answer, its ETag (or Last-Modified) and
when GitHub last confirmed it, so that a read can ask "has it changed?" (a conditional
request: GitHub answers 304 for free) or, while the answer is trusted, not ask at all.

An answer is trusted for a while after GitHub confirmed it, unless something said it may have
changed since: a webhook delivery, or a write of the bot's own (`stale`, by URL prefix). The
cache is bounded (the least recently used answers go first). No HTTP here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

NEVER = float("-inf")


@dataclass
class Answer:
    body: Any
    etag: str | None
    last_modified: str | None
    link: str | None  # the Link header: where the next page is
    confirmed: float  # when GitHub last said this is current (epoch seconds); NEVER: ask again

    def validators(self) -> dict[str, str]:
        """The headers of a conditional request for this answer."""
        if self.etag:
            return {"If-None-Match": self.etag}
        if self.last_modified:
            return {"If-Modified-Since": self.last_modified}
        return {}


class AnswerCache:
    def __init__(self, max_answers: int = 4000):
        self._max = max_answers
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def get(self, url: str) -> Answer | None:
        with self._lock:
            answer = self._answers.get(url)
            if answer is not None:
                self._answers.move_to_end(url)
            return answer

    def put(self, url: str, answer: Answer) -> None:
        with self._lock:
            self._answers[url] = answer
            self._answers.move_to_end(url)
            while len(self._answers) > self._max:
                self._answers.popitem(last=False)

    def confirm(self, url: str, at: float) -> Answer | None:
        """GitHub answered 304: the kept answer is current as of `at`."""
        with self._lock:
            answer = self._answers.get(url)
            if answer is not None:
                answer.confirmed = at
            return answer

    def stale(self, prefixes: Iterable[str]) -> int:
        """Answers whose URL starts with one of `prefixes` are no longer trusted (they keep
        their ETag: the next read asks GitHub whether they changed). How many."""
        wanted = tuple(prefixes)
        count = 0
        with self._lock:
            for url, answer in self._answers.items():
                if url.startswith(wanted):
                    answer.confirmed = NEVER
                    count += 1
        return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)
