"""Every REST request the bot makes to GitHub, sent through PyGithub's Requester (its auth and
App tokens, its connection, its pacing), with what PyGithub's objects leave out:

- conditional reads: each answer's ETag is kept and sent back (If-None-Match); GitHub answers
  304 for free when nothing changed (PyGithub's objects never send one);
- trust: an answer GitHub confirmed less than `trust_seconds` ago (longer while the budget is
  low, `RateBudget.pace`) is used without asking, unless something made it stale;
- retries with backoff for 5xx answers and lost connections on reads, then a pause growing
  with each failure (no request at all before it ends); writes are never repeated blindly;
- GitHub's rate limits: no request while a wait is in force (RateLimited), a Retry-After
  honoured, the budget of every answer noted;
- an installation token refused with 401 is minted anew and the request sent once more;
- writes one at a time (GitHub: mutating requests of one token serially, a second apart).
  PyGithub's pacing sleeps until a second after the last write, but every thread waiting
  sleeps the same second and then they all go at once; a lock here makes them a queue.

It speaks HTTP verbs and paths; GitHubForge (github.py) speaks the Forge port. A failure is
always one of slackbot.errors, chained from the SDK's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from github import GithubException
from github.Requester import Requester

from slackbot.adapters.github_auth import RenewableInstallationAuth
from slackbot.adapters.github_cache import Answer, AnswerCache
from slackbot.adapters.github_rate import RateBudget, is_rate_limit
from slackbot.downtime import Downtime
from slackbot.errors import ForgeError, ForgeUnavailable, RateLimited
from slackbot.ports import Clock

log = logging.getLogger(__name__)

MAX_PAGES = 50
SHORT_WAIT = 3.0  # a Retry-After this short is slept through, once, instead of failing


class GitHubRefusal(ForgeError):
    """GitHub answered 4xx: its status, message and error details (never a token)."""

    def __init__(self, status: int, message: str, details: tuple[str, ...] = (),
                 headers: dict[str, str] | None = None):
        super().__init__(f"GitHub answered {status}: {'; '.join((message, *details))}")
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers or {}

    @property
    def text(self) -> str:
        """GitHub's message and its details, as one line."""
        return "; ".join(p for p in (self.message, *self.details) if p)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class _Trouble:
    since: datetime
    failures: int
    status: int | None
    retry_at: datetime


class GitHubApi:
    def __init__(self, requester: Requester, clock: Clock, *, trust_seconds: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep, budget: RateBudget | None = None,
                 attempts: int = 3, backoff_seconds: float = 1.0,
                 max_pause_seconds: float = 60.0,
                 observe: Callable[[str], None] | None = None,
                 serial_writes: bool = True):
        self.requester = requester
        self.clock = clock
        self.trust_seconds = trust_seconds
        self.budget = budget or RateBudget(clock)
        self.cache = AnswerCache()
        self._sleep = sleep
        self._attempts = max(attempts, 1)
        self._backoff = backoff_seconds
        self._max_pause = max_pause_seconds
        self.observe: Callable[[str], None] = observe or (lambda outcome: None)
        self._lock = threading.Lock()
        # off only where nothing paces (emulators, tests): there a queue would only slow
        self._writing: AbstractContextManager[Any] = (
            threading.Lock() if serial_writes else contextlib.nullcontext())
        self._trouble: _Trouble | None = None
        # the outage's two log lines (its start, its end); the pause above is its backoff
        self._downtime = Downtime("GitHub", log, first=backoff_seconds, cap=max_pause_seconds)
        self._prefix = urlsplit(requester.base_url).path.rstrip("/")

    # -- reads -----------------------------------------------------------------------------

    def get(self, path: str, *, fresh: bool = False, trust: float | None = None) -> Any:
        """The JSON at `path`: trusted if recent, else asked for conditionally."""
        return self._read(path, fresh, trust).body

    def pages(self, path: str, key: str | None = None, *, fresh: bool = False,
              trust: float | None = None) -> list[Any]:
        """Every item of a paginated list (following Link rel="next"); `key` names the list
        in an object answer (`statuses`, `check_runs`)."""
        items: list[Any] = []
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                break
            answer = self._read(url, fresh, trust)
            chunk = answer.body.get(key) if key and isinstance(answer.body, dict) else answer.body
            items.extend(chunk or [])
            url = self._next(answer.link)
        return items

    def _read(self, url: str, fresh: bool, trust: float | None) -> Answer:
        now = self._seconds()
        held = self.cache.get(url)
        window = (self.trust_seconds if trust is None else trust) * self.budget.pace()
        if held is not None and not fresh and now - held.confirmed < window:
            self.observe("trusted")
            return held
        reply = self._send("GET", url, held.validators() if held else {}, None, retry=True)
        if reply.status == 304 and held is not None:
            self.observe("not_modified")
            return self.cache.confirm(url, self._seconds()) or held
        self.observe("sent")
        answer = Answer(reply.body, reply.headers.get("etag"), reply.headers.get("last-modified"),
                        reply.headers.get("link"), self._seconds())
        self.cache.put(url, answer)
        return answer

    def remember(self, url: str, body: Any) -> None:
        """Keep a write's answer as what `url` reads now (GitHub sent no ETag with it)."""
        self.cache.put(url, Answer(body, None, None, None, self._seconds()))

    def stale(self, prefixes: Iterable[str]) -> None:
        """Answers under these URL prefixes may have changed: ask again before using them."""
        self.cache.stale(prefixes)

    # -- writes ----------------------------------------------------------------------------

    def send(self, verb: str, path: str, body: Any = None) -> Reply:
        """One write: never repeated on a 5xx or a lost answer (it may have been done); one
        at a time (see the module's docstring)."""
        self.observe("sent")
        with self._writing:
            return self._send(verb, path, {}, body, retry=False)

    # -- one request -------------------------------------------------------------------------

    def _send(self, verb: str, url: str, headers: dict[str, str], body: Any,
              retry: bool) -> Reply:
        renewed = short_wait = False
        attempt = 0
        while True:
            self._gate()
            sent_token = self._held_token()
            try:
                status, raw_headers, text = self.requester.requestJson(
                    verb, url, headers=dict(headers), input=body)
            except (requests.RequestException, OSError) as exc:
                failure: tuple[int | None, BaseException | None] = (None, exc)
            except GithubException as exc:  # minting an installation token failed
                if exc.status < 500:
                    raise GitHubRefusal(exc.status, "the App could not get an installation "
                                        "token") from exc
                failure = (exc.status, exc)
            else:
                reply_headers = {k.lower(): str(v) for k, v in raw_headers.items()}
                self.budget.observe(reply_headers)
                if status < 500:
                    data = _json(text)
                    if status == 401 and not renewed and self._renew(sent_token):
                        renewed = True
                        continue
                    message = str(data.get("message") or "") if isinstance(data, dict) else ""
                    if is_rate_limit(status, reply_headers, message):
                        wait = self.budget.refused(reply_headers, message)
                        left = (wait.until - self.clock.now()).total_seconds()
                        if not short_wait and left <= SHORT_WAIT:
                            short_wait = True
                            self._sleep(max(left, 0.0))
                            continue
                        raise RateLimited(f"GitHub's {'secondary ' if wait.secondary else ''}"
                                          f"rate limit: waiting until {wait.until:%H:%M:%S}",
                                          until=wait.until, secondary=wait.secondary)
                    self._recovered()
                    if status >= 400:
                        raise _refusal(status, data, reply_headers)
                    return Reply(status, data, reply_headers)
                failure = (status, None)
            attempt += 1
            if not retry or attempt >= self._attempts or self._in_trouble():
                raise self._failed(failure[0], verb, url) from failure[1]
            self._sleep(self._backoff * 2 ** (attempt - 1))

    def _gate(self) -> None:
        wait = self.budget.wait()
        if wait is not None:
            raise RateLimited(f"GitHub's rate limit: waiting until {wait.until:%H:%M:%S}",
                              until=wait.until, secondary=wait.secondary)
        with self._lock:
            trouble = self._trouble
        if trouble is not None and self.clock.now() < trouble.retry_at:
            raise ForgeUnavailable(_trouble_text(trouble.status), since=trouble.since,
                                   status=trouble.status)

    def _in_trouble(self) -> bool:
        with self._lock:
            return self._trouble is not None

    def _failed(self, status: int | None, verb: str, url: str) -> ForgeUnavailable:
        now = self.clock.now()
        with self._lock:
            trouble = self._trouble
            failures = trouble.failures + 1 if trouble else 1
            since = trouble.since if trouble else now
            pause = min(self._backoff * 2 ** failures, self._max_pause)
            self._trouble = _Trouble(since, failures, status, now + timedelta(seconds=pause))
        self._downtime.failed(f"{verb} {url.split('?')[0]} failed ({status or 'no answer'}); "
                              f"no request for {pause:.0f} s")
        return ForgeUnavailable(_trouble_text(status), since=since, status=status)

    def _recovered(self) -> None:
        with self._lock:
            self._trouble = None
        self._downtime.answered()

    def trouble_since(self) -> datetime | None:
        with self._lock:
            return self._trouble.since if self._trouble else None

    def _held_token(self) -> str | None:
        auth = self.requester.auth
        return auth.current() if isinstance(auth, RenewableInstallationAuth) else None

    def _renew(self, refused: str | None) -> bool:
        auth = self.requester.auth
        if not isinstance(auth, RenewableInstallationAuth):
            return False
        log.info("github: the installation token was refused; minting a new one")
        auth.renew(refused)
        return True

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    def _next(self, link: str | None) -> str | None:
        """The relative URL of the next page, from a Link header."""
        for part in (link or "").split(","):
            target, _, rel = part.partition(";")
            if 'rel="next"' in rel:
                parts = urlsplit(target.strip().strip("<>"))
                path = parts.path
                if self._prefix and path.startswith(self._prefix):
                    path = path[len(self._prefix):]
                return path + (f"?{parts.query}" if parts.query else "")
        return None


def _json(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:200]}


def _refusal(status: int, data: Any, headers: dict[str, str]) -> GitHubRefusal:
    body = data if isinstance(data, dict) else {}
    details = tuple(str(e.get("message") or "") for e in body.get("errors") or []
                    if isinstance(e, dict) and e.get("message"))
    return GitHubRefusal(status, str(body.get("message") or status), details, headers)


def _trouble_text(status: int | None) -> str:
    return f"GitHub answered {status}" if status else "GitHub could not be reached"
