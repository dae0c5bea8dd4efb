"""`promotebot serve`'s look at the outside world before it takes a request: can it reach Slack,
Redis, each cluster and GitHub, and does Slack accept its token and scopes?

Each problem is one line naming the setting and what to do, never a traceback (the DEBUG log
keeps it). A service that does not answer is asked again with capped backoff for
PROMOTEBOT_STARTUP_WAIT_SECONDS (one restarting beside the bot is no reason to crash-loop),
then start-up gives up; a refused token or a missing scope stops it at once. It starts nothing
and keeps nothing: the checks only ask.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackbot.adapters.github_http import GitHubRefusal
from slackbot.settings import Settings

log = logging.getLogger(__name__)

# The bot scopes of slack-app-manifest.yaml (a test keeps the two the same): each is a Web API
# call the bot makes.
SLACK_SCOPES = ("commands", "chat:write", "usergroups:read", "users:read")
# auth.test's answers that mean the token itself is wrong (not Slack being down)
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                          "token_expired", "not_allowed_token_type"})
# The libraries' own retry chatter ("Retrying ... connection refused") would be a second line.
NOISY = ("slack_sdk", "urllib3", "kubernetes", "github", "redis", "slackbot.adapters")
FIRST_DELAY, MAX_DELAY = 1.0, 15.0


class Unreachable(Exception):
    """The service did not answer: ask again, until the start-up wait is over."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


class Refused(Exception):
    """The service answered no: asking again changes nothing."""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


@dataclass(frozen=True)
class Check:
    name: str  # "slack", "redis", "github", "kubernetes", "kubernetes:prod"
    run: Callable[[], object]  # raises Unreachable or Refused


def backoff(first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    delay = first
    while True:
        yield min(delay, cap)
        delay *= 2


def wait_for_services(checks: Sequence[Check], wait_seconds: float, *,
                      sleep: Callable[[float], None] = time.sleep,
                      monotonic: Callable[[], float] = time.monotonic) -> list[str]:
    """Runs every check until each passes; [] then. A Refused stops at once with its line; a
    check still Unreachable when `wait_seconds` are over gives its line. One warning per
    service while start-up waits for it."""
    deadline = monotonic() + wait_seconds
    pending = list(checks)
    warned: set[str] = set()
    delays = backoff()
    while True:
        unreachable: list[tuple[Check, str]] = []
        for check in pending:
            try:
                with _quiet():
                    check.run()
            except Refused as refused:
                return [refused.line]
            except Unreachable as exc:
                unreachable.append((check, exc.line))
        if not unreachable:
            return []
        delay = next(delays)
        if monotonic() + delay > deadline:
            return [line for _check, line in unreachable]
        for check, line in unreachable:
            if check.name not in warned:
                warned.add(check.name)
                log.warning("start-up waits for %s (up to %gs, "
                            "PROMOTEBOT_STARTUP_WAIT_SECONDS): %s", check.name, wait_seconds,
                            line)
        pending = [check for check, _line in unreachable]
        sleep(delay)


@contextmanager
def _quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in NOISY]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _why(exc: BaseException) -> str:
    """The innermost reason in a few words ("Connection refused"), never a traceback."""
    seen: list[BaseException] = []
    current: object = exc
    while isinstance(current, BaseException) and current not in seen:
        seen.append(current)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        current = (current.__cause__ or getattr(current, "reason", None) or current.__context__
                   or (current.args[0] if current.args else None))
    errno = _ERRNO.search(str(exc))
    if errno:
        return errno.group(1)
    text = str(exc).split("\n")[0] or type(exc).__name__
    return text[:120]


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def slack_check(client: WebClient, settings: Settings) -> Check:
    def run() -> None:
        try:
            reply = client.auth_test()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if error in TOKEN_ERRORS:
                raise Refused(f"SLACK_BOT_TOKEN: Slack refused the bot token ({error}): copy "
                              f"the Bot User OAuth Token (xoxb-...) from the Slack app's OAuth "
                              f"& Permissions page") from exc
            log.debug("auth.test failed", exc_info=True)
            raise Unreachable(f"SLACK_API_URL: Slack at {settings.slack_api_url} answered "
                              f"{error}: check SLACK_API_URL") from exc
        except Exception as exc:
            log.debug("auth.test failed", exc_info=True)
            raise Unreachable(f"SLACK_API_URL: cannot reach Slack at {settings.slack_api_url} "
                              f"({_why(exc)}): check SLACK_API_URL and that this host may "
                              f"reach it (DNS, proxy, firewall)") from exc
        headers = {k.lower(): v for k, v in (reply.headers or {}).items()}
        granted = headers.get("x-oauth-scopes")
        if isinstance(granted, list):
            granted = ",".join(granted)
        if granted is None:
            return  # Slack did not say: a missing scope shows on the call that needs it
        missing = [s for s in SLACK_SCOPES if s not in {g.strip() for g in granted.split(",")}]
        if missing:
            raise Refused(missing_scopes_line(missing))

    def app_token() -> None:
        if settings.slack_app_token is None:
            return
        try:  # the URL it answers is for one connection, and expires unused
            client.apps_connections_open(app_token=settings.slack_app_token.reveal())
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if error in TOKEN_ERRORS:
                raise Refused(f"SLACK_APP_TOKEN: Slack refused the app-level token ({error}): "
                              f"generate one with the connections:write scope on the Slack "
                              f"app's Basic Information page") from exc
            raise Unreachable(f"SLACK_API_URL: Slack at {settings.slack_api_url} answered "
                              f"{error} to apps.connections.open: check SLACK_API_URL") from exc

    def both() -> None:
        run()
        app_token()

    return Check("slack", both)


def missing_scopes_line(missing: Sequence[str]) -> str:
    scopes = ", ".join(missing)
    return (f"SLACK_BOT_TOKEN: the Slack app lacks the bot scope{'s' if len(missing) > 1 else ''}"
            f" {scopes}: add {'them' if len(missing) > 1 else 'it'} from "
            f"slack-app-manifest.yaml and reinstall the app to the workspace")


def probe_check(name: str, probe: Callable[[], object], setting: str, what: str,
                url: str | None, credentials: str = "GITHUB_TOKEN") -> Check:
    """A readiness probe as a start-up check: an exception is the service not answering
    (GitHub's 401 is its credentials refused)."""

    def run() -> None:
        try:
            probe()
        except GitHubRefusal as exc:
            if exc.status == 401:
                raise Refused(f"{credentials}: GitHub refused the credentials "
                              f"({exc.message}): check them") from exc
            raise Unreachable(f"{setting}: {what} answered {exc.status}: check {setting}") \
                from exc
        except Exception as exc:
            log.debug("%s did not answer", name, exc_info=True)
            if type(exc).__name__ == "AuthenticationError":  # Redis: a wrong password
                raise Refused(f"{setting}: Redis refused the password: check {setting} "
                              f"(or REDIS_PASSWORD)") from exc
            where = f" at {url}" if url else ""
            raise Unreachable(f"{setting}: cannot reach {what}{where} ({_why(exc)}): check "
                              f"{setting} and that this host may reach it") from exc

    return Check(name, run)
