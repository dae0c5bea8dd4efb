"""Logging for operators: one JSON object per line carrying the request id and the promotion id
of the work that wrote it, and a redaction filter so no token ever reaches a log line.

The ids live in contextvars, set by the edges (the HTTP app, the composition root's wrappers
around listener, driver and webhook work), never by the engine. Redaction masks the configured
secret values and anything shaped like a Slack or GitHub token, an Authorization header or a
`token` field, in messages and in exception text. No request can forge a line: JSON escapes
every line break, and the text format escapes control characters (a record is one line; its
traceback follows, indented). It must not decide anything else.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, Literal, ParamSpec, TypeVar

from slackbot.events import Event
from slackbot.models import Promotion
from slackbot.ports import Notifier
from slackbot.settings import MASK, GitHubApp, GitHubToken, Secret, Settings

P = ParamSpec("P")
T = TypeVar("T")
LogFormat = Literal["json", "text"]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
promotion_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "promotion_id", default=None)
# True inside one unit of work of its own (a listener run, a deferred job): there the first
# record the work touches names the rest of its lines.
_adopting: contextvars.ContextVar[bool] = contextvars.ContextVar("adopting", default=False)

# -- context ---------------------------------------------------------------------------------


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def scope(*, request: str | None = None, promotion: int | None = None) -> Iterator[None]:
    """Lines logged inside carry these ids (None leaves the current one)."""
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    if request is not None:
        tokens.append((request_id, request_id.set(request)))
    if promotion is not None:
        tokens.append((promotion_id, promotion_id.set(promotion)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def adopt_promotion(pid: int) -> None:
    """Inside a unit of work that has no promotion yet, the record it just touched becomes
    its promotion (a /promote creates the record half-way through the listener)."""
    if _adopting.get() and promotion_id.get() is None:
        promotion_id.set(pid)


def unit_of_work(fn: Callable[P, T]) -> Callable[P, T]:
    """`fn` run in a copy of the caller's context (its ids), as a unit of work of its own:
    what it sets stays in it, never in the thread that runs it next."""
    context = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        def inside() -> T:
            _adopting.set(True)
            return fn(*args, **kwargs)

        return context.copy().run(inside)

    return run


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context (the request and
    promotion ids follow work into the listeners' pool), and that knows how many of its tasks
    are not finished yet (a drain, and the tests, wait on it)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._unfinished = 0
        self._count = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._count:
            self._unfinished += 1
        future = super().submit(unit_of_work(fn), *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: Future[Any]) -> None:
        with self._count:
            self._unfinished -= 1

    def idle(self) -> bool:
        with self._count:
            return self._unfinished == 0


class ContextNotifier:
    """A Notifier decorator: the inner notifier's lines carry the record's id, and a unit of
    work with no promotion yet adopts it."""

    def __init__(self, inner: Notifier):
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        adopt_promotion(promotion.id)
        with scope(promotion=promotion.id):
            self._inner.promotion_changed(promotion, event)


# -- redaction -------------------------------------------------------------------------------

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers, as text, dict reprs or JSON: keep the name, mask the credential.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|token|basic)\s+)?"
                r"[^\s\"',;}]+"), r"\1" + MASK),
    # `token` fields: form bodies (Slack's legacy verification token), JSON, url-encoded JSON.
    (re.compile(r"(?i)\b([a-z_]*token)=[^&\s\"']+"), r"\1=" + MASK),
    (re.compile(r"(?i)([\"'][a-z_]*token[\"']\s*:\s*[\"'])[^\"']*"), r"\1" + MASK),
    (re.compile(r"(?i)(token%22(?:%20|\+)?%3A(?:%20|\+)?%22)[^%&\s]*"), r"\1" + MASK),
    # Slack tokens (bot, user, app-level, refresh...), GitHub tokens, JWTs.
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]+|github_pat_[A-Za-z0-9_]+)"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), MASK),
)
MIN_SECRET = 4  # shorter values would mask ordinary words


class Redactor:
    """Masks the given secret values and every token-shaped string in a text."""

    def __init__(self, secrets: Iterable[str] = ()):
        values: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            values.add(secret)
            values.add(secret.strip())
            # A PEM key may surface one line at a time (a traceback, a repr).
            values.update(line.strip() for line in secret.splitlines() if len(line.strip()) >= 16)
        self._values = sorted((v for v in values if len(v) >= MIN_SECRET), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold (tokens, signing and webhook secrets, the private
    key, the Redis URL and its password)."""
    found: list[Secret] = [settings.slack_bot_token, settings.slack_signing_secret]
    for optional in (settings.slack_app_token, settings.github_webhook_secret, settings.redis_url,
                     settings.redis_password, settings.redis_sentinel_password):
        if optional is not None:
            found.append(optional)
    auth = settings.github_auth
    if isinstance(auth, GitHubToken):
        found.append(auth.token)
    elif isinstance(auth, GitHubApp):
        found.append(auth.private_key)
    values = [s.reveal() for s in found]
    if settings.redis_url is not None:
        password = _url_password(settings.redis_url.reveal())
        if password:
            values.append(password)
    return values


def _url_password(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


class RedactionFilter(logging.Filter):
    """Rewrites each record with its message and exception text redacted, and stamps the
    context's ids on it (handlers format in the logging thread, so the ids are the work's)."""

    def __init__(self, redact: Redactor):
        super().__init__()
        self._redact = redact
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_promotebot_redacted", False):
            try:
                message = record.getMessage()
            except Exception:  # a bad format string must not lose the line
                message = f"{record.msg!r} {record.args!r}"
            record.msg, record.args = self._redact(message), None
            if record.exc_info and not record.exc_text:
                record.exc_text = self._formatter.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self._redact(record.stack_info)
            record._promotebot_redacted = True
        _stamp(record)
        return True


_HOUSE_FORM = re.compile(r"^promotion #?(\d+)\b")


def _stamp(record: logging.LogRecord) -> None:
    if getattr(record, "request_id", None) is None:
        record.request_id = request_id.get()
    if getattr(record, "promotion_id", None) is None:
        pid = promotion_id.get()
        if pid is None:
            # The house form of a line about one record: "promotion 12: ..."
            found = _HOUSE_FORM.match(record.getMessage())
            pid = int(found.group(1)) if found else None
        record.promotion_id = pid


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, promotion_id,
    thread, and exception (the traceback) when there is one."""

    def __init__(self, redact: Redactor | None = None):
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        exception = record.exc_text or None
        if record.stack_info:
            exception = (exception + "\n" if exception else "") + record.stack_info
        if self._redact is not None:
            message = self._redact(message)
            exception = self._redact(exception) if exception else None
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key in ("request_id", "promotion_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        line["thread"] = record.threadName
        if exception:
            line["exception"] = exception
        return _one_line(json.dumps(line, ensure_ascii=False, default=str))


# Line breaks JSON leaves as they are, but which str.splitlines() and some log shippers split on.
_JSON_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _one_line(text: str) -> str:
    return text.translate(_JSON_BREAKS)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s #%(promotion_id)s] %(message)s"
TRACEBACK_INDENT = "    "


def _escape_char(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _is_control(char: str) -> bool:
    """C0, DEL, C1, and the Unicode line, paragraph and direction controls."""
    code = ord(char)
    return (code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029)
            or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069)


def escape_controls(text: str, keep_newlines: bool = False) -> str:
    """`text` with every control character written as an escape (\\n, \\x1b, \\u2028)."""
    if all(not _is_control(c) or (keep_newlines and c == "\n") for c in text):
        return text
    return "".join(
        _escape_char(c) if _is_control(c) and not (keep_newlines and c == "\n") else c
        for c in text)


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, one line per record whatever a message carries: every control character
    of the line is escaped (a request's "\\n" or ANSI escape cannot start a forged line or
    recolour a terminal). A traceback follows on lines of its own, each indented, so only a
    record's own first line starts at the margin."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = escape_controls(self.formatMessage(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        extra = [part for part in (record.exc_text, record.stack_info) if part]
        for part in extra:
            for piece in escape_controls(part, keep_newlines=True).split("\n"):
                line += "\n" + TRACEBACK_INDENT + piece
        return line


def handler(stream: IO[str] | None = None, secrets: Iterable[str] = (),
            fmt: LogFormat = "json") -> logging.Handler:
    """A stream handler that redacts and formats (JSON, or text for a terminal)."""
    redact = Redactor(secrets)
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(RedactionFilter(redact))
    out.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter())
    out._promotebot = True  # type: ignore[attr-defined]
    return out


_configure_lock = threading.Lock()


def configure(level: str = "INFO", secrets: Iterable[str] = (), fmt: LogFormat = "json",
              stream: IO[str] | None = None) -> logging.Handler:
    """The process's logging: the root logger at `level` with one redacting handler (a second
    call replaces the handler the first one installed)."""
    with _configure_lock:
        root = logging.getLogger()
        for old in [h for h in root.handlers if getattr(h, "_promotebot", False)]:
            root.removeHandler(old)
        new = handler(stream, secrets, fmt)
        root.addHandler(new)
        root.setLevel(level)
        return new
