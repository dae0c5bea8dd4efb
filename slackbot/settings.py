"""Process settings (tokens, URLs, port, log level) read from the environment once, at start-up.

`load_settings(os.environ)` checks every variable and raises one SettingsError naming each
missing or bad one, like starlette's config: the variable and its bad value, except secrets,
whose values are never echoed. Nothing else reads os.environ. Secrets stay wrapped in `Secret`
so a logged Settings shows '**********'; only the adapter that needs one calls `.reveal()`.
(Over 400 lines: one reader per variable, each with the words of its refusal; splitting them
would split the one list of what the process reads.)
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from slackbot.errors import SettingsError

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "GitHubApp",
    "GitHubToken",
    "Secret",
    "Settings",
    "SettingsError",
    "load_settings",
]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("json", "text")
MASK = "**********"


class Secret:
    """A value that must not be logged: str() and repr() are a mask; `.reveal()` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


@dataclass(frozen=True)
class GitHubToken:
    """GitHub auth with a personal access or fine-grained token."""

    token: Secret


@dataclass(frozen=True)
class GitHubApp:
    """GitHub auth as an App installation (PEM private key, read from the variable or a file)."""

    app_id: int
    private_key: Secret
    installation_id: int


@dataclass(frozen=True)
class Settings:
    slack_bot_token: Secret
    slack_signing_secret: Secret
    github_auth: GitHubToken | GitHubApp
    slack_app_token: Secret | None = None  # set: Socket Mode; unset: HTTP mode
    slack_api_url: str = "https://slack.com/api/"
    github_api_url: str = "https://api.github.com"
    github_webhook_secret: Secret | None = None  # unset: gates are polled, webhooks refused
    kube_api_url: str | None = None  # unset: in-cluster config, else KUBECONFIG
    # unset: the embedded in-process Redis; a Secret because the URL may carry a password
    redis_url: Secret | None = None
    # REDIS_SENTINELS (host:port,...): find the primary through Redis Sentinel instead
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_service: str = "mymaster"  # REDIS_SENTINEL_SERVICE
    redis_password: Secret | None = None  # REDIS_PASSWORD: the primary's, through Sentinel
    redis_sentinel_password: Secret | None = None  # REDIS_SENTINEL_PASSWORD
    # PROMOTEBOT_REDIS_PERSISTENCE: "required" refuses to start on a Redis that keeps nothing
    # on disk (a restart of it would lose every record); "optional" only warns
    redis_persistence: Literal["required", "optional"] = "required"
    pipeline_path: Path | None = None  # unset: the built-in default pipeline
    host: str = "0.0.0.0"
    port: int = 3000
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"  # PROMOTEBOT_LOG_FORMAT: text for a terminal
    poll_seconds: float = 30.0  # how often gates are re-read when no webhook says so
    # PROMOTEBOT_SAFETY_POLL_SECONDS: with a webhook secret set, GitHub tells the bot what
    # changed; its answers are then trusted this long before they are asked for again
    safety_poll_seconds: float = 1200.0
    # PROMOTEBOT_LEASE_SECONDS: the leader lease's time to live, and so the longest a dead
    # replica's env locks and duties wait for another replica (renewed every third of it)
    lease_seconds: float = 15.0
    # SLACK_RESPONSE_URL_HOSTS: hosts ("host" or "host:port") besides hooks.slack.com that a
    # payload's response_url may name (the sandbox's Slack emulator); empty in production
    response_url_hosts: tuple[str, ...] = ()
    # PROMOTEBOT_FAILURE_WINDOW_HOURS: a rollback or hotfix of an env this soon after a deploy
    # counts that deploy as a failed change (the DORA change failure rate)
    failure_window_hours: float = 24.0
    # PROMOTEBOT_STARTUP_WAIT_SECONDS: how long `serve` asks an unreachable Slack, GitHub,
    # cluster or Redis again (with backoff) before it gives up and exits 2
    startup_wait_seconds: float = 60.0

    @property
    def slack_mode(self) -> Literal["socket", "http"]:
        return "socket" if self.slack_app_token is not None else "http"


class _Reader:
    """Reads variables and collects problems instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        """The value, None when unset or blank (Kubernetes often sets unused vars to "")."""
        value = self.environ.get(name)
        return value.strip() if value is not None and value.strip() else None

    def bad(self, name: str, expected: str, value: str | None, secret: bool = False) -> None:
        got = "" if value is None else (" (value not shown)" if secret else f", got {value!r}")
        self.problems.append(f"{name}: expected {expected}{got}")

    def missing(self, name: str, what: str) -> None:
        self.problems.append(f"{name}: missing; {what}")

    def secret(self, name: str, *, required: str | None = None, prefix: str = "") -> Secret | None:
        value = self.raw(name)
        if value is None:
            if required is not None:
                self.missing(name, required)
            return None
        if prefix and not value.startswith(prefix):
            self.bad(name, f"a token starting with {prefix}", value, secret=True)
            return None
        return Secret(value)

    def url(self, name: str, default: str | None, schemes: tuple[str, ...]) -> str | None:
        value = self.raw(name)
        if value is None:
            return default
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            self.bad(name, "an http(s) URL like https://host/path", value)
            return None
        return value

    def positive_int(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        if not value.isdigit() or int(value) < 1:
            self.bad(name, "a positive whole number", value)
            return None
        return int(value)


def _github(read: _Reader) -> GitHubToken | GitHubApp | None:
    token = read.raw("GITHUB_TOKEN")
    app_vars = (
        "GITHUB_APP_ID",
        "GITHUB_APP_PRIVATE_KEY",
        "GITHUB_APP_PRIVATE_KEY_FILE",
        "GITHUB_APP_INSTALLATION_ID",
    )
    set_app_vars = [name for name in app_vars if read.raw(name) is not None]
    if token is not None and set_app_vars:
        read.problems.append(
            "GITHUB_TOKEN: set either GITHUB_TOKEN or the GITHUB_APP_* variables, not both "
            f"(also set: {', '.join(set_app_vars)})"
        )
        return None
    if token is not None:
        return GitHubToken(Secret(token))
    if not set_app_vars:
        read.missing(
            "GITHUB_TOKEN",
            "set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY (or "
            "GITHUB_APP_PRIVATE_KEY_FILE) and GITHUB_APP_INSTALLATION_ID",
        )
        return None
    app_id = read.positive_int("GITHUB_APP_ID")
    installation_id = read.positive_int("GITHUB_APP_INSTALLATION_ID")
    for name in ("GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID"):
        if read.raw(name) is None:
            read.missing(name, "a GitHub App needs its app id and installation id")
    key = _private_key(read)
    if app_id is None or installation_id is None or key is None:
        return None
    return GitHubApp(app_id=app_id, private_key=key, installation_id=installation_id)


def _private_key(read: _Reader) -> Secret | None:
    inline, path = read.raw("GITHUB_APP_PRIVATE_KEY"), read.raw("GITHUB_APP_PRIVATE_KEY_FILE")
    if inline is not None and path is not None:
        read.problems.append(
            "GITHUB_APP_PRIVATE_KEY: set it or GITHUB_APP_PRIVATE_KEY_FILE, not both"
        )
        return None
    if inline is None and path is None:
        read.missing("GITHUB_APP_PRIVATE_KEY", "set it (PEM text) or GITHUB_APP_PRIVATE_KEY_FILE")
        return None
    name = "GITHUB_APP_PRIVATE_KEY"
    if path is not None:
        name = "GITHUB_APP_PRIVATE_KEY_FILE"
        try:
            inline = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            read.bad(name, "a readable PEM file", path)
            read.problems[-1] += f" ({reason})"
            return None
    assert inline is not None
    # A key pasted into a one-line variable often arrives with literal "\n": accept it.
    pem = inline.replace("\\n", "\n").strip()
    if not (pem.startswith("-----BEGIN") and "PRIVATE KEY-----" in pem):
        read.bad(
            name,
            "a PEM private key (-----BEGIN ... PRIVATE KEY-----)",
            path or inline,
            secret=path is None,
        )
        return None
    return Secret(pem + "\n")


def _pipeline_path(read: _Reader) -> Path | None:
    value = read.raw("PROMOTEBOT_PIPELINE")
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        read.bad("PROMOTEBOT_PIPELINE", "the path of a pipeline file", value)
        read.problems[-1] += " (no such file)"
        return None
    return path


def _port(read: _Reader) -> int:
    value = read.raw("PROMOTEBOT_PORT")
    if value is None:
        return 3000
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        read.bad("PROMOTEBOT_PORT", "a port number 1-65535 (0: any free port)", value)
        return 3000
    return int(value)


def _log_level(read: _Reader) -> str:
    value = read.raw("PROMOTEBOT_LOG_LEVEL")
    if value is None:
        return "INFO"
    if value.upper() not in LOG_LEVELS:
        read.bad("PROMOTEBOT_LOG_LEVEL", "one of " + ", ".join(LOG_LEVELS), value)
        return "INFO"
    return value.upper()


def _log_format(read: _Reader) -> Literal["json", "text"]:
    value = read.raw("PROMOTEBOT_LOG_FORMAT")
    if value is None:
        return "json"
    if value.lower() == "text":
        return "text"
    if value.lower() != "json":
        read.bad("PROMOTEBOT_LOG_FORMAT", "one of " + ", ".join(LOG_FORMATS), value)
    return "json"


def _number(read: _Reader, name: str, default: float, fits: Callable[[float], bool],
            expected: str) -> float:
    """A finite number from `name` that `fits`; the default when unset, or when it is bad
    (then named, with what was expected)."""
    value = read.raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and fits(number)):
        read.bad(name, expected, value)
        return default
    return number


def _lease_seconds(read: _Reader) -> float:
    return _number(read, "PROMOTEBOT_LEASE_SECONDS", 15.0, lambda s: 1.0 <= s <= 600.0,
                   "seconds between 1 and 600, like 15")


def _failure_window_hours(read: _Reader) -> float:
    return _number(read, "PROMOTEBOT_FAILURE_WINDOW_HOURS", 24.0, lambda h: 0 < h <= 24 * 30,
                   "hours between 0 and 720, like 24")


def _startup_wait_seconds(read: _Reader) -> float:
    return _number(read, "PROMOTEBOT_STARTUP_WAIT_SECONDS", 60.0, lambda s: 0 <= s <= 3600,
                   "seconds between 0 and 3600, like 60")


def _poll_seconds(read: _Reader, name: str = "PROMOTEBOT_POLL_SECONDS",
                  default: float = 30.0) -> float:
    return _number(read, name, default, lambda s: s > 0,
                   f"a positive number of seconds like {default:g}")


_HOSTNAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _response_url_hosts(read: _Reader) -> tuple[str, ...]:
    """Comma-separated "host" or "host:port" entries (no scheme, no path), lower-cased."""
    value = read.raw("SLACK_RESPONSE_URL_HOSTS")
    if value is None:
        return ()
    hosts: list[str] = []
    for entry in (e.strip().lower() for e in value.split(",")):
        if not entry:
            continue
        try:
            parts = urlsplit("//" + entry)
            port = parts.port
        except ValueError:
            port, parts = -1, urlsplit("")
        if ("@" in entry or parts.netloc != entry or not _HOSTNAME.fullmatch(parts.hostname or "")
                or port in (0, -1)):
            read.bad("SLACK_RESPONSE_URL_HOSTS", "comma-separated hosts like 127.0.0.1:8080 "
                     "or slack.example.com (no scheme, no path)", value)
            return ()
        hosts.append(entry)
    return tuple(dict.fromkeys(hosts))


def _redis_url(read: _Reader) -> Secret | None:
    value = read.raw("REDIS_URL")
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
        # The URL may carry a password: name the scheme we saw, never the value.
        read.bad(
            "REDIS_URL",
            "a URL like redis://host:6379/0 (or rediss://, unix://)",
            value,
            secret=True,
        )
        return None
    return Secret(value)


def _sentinels(read: _Reader) -> tuple[tuple[str, int], ...]:
    """REDIS_SENTINELS: comma-separated host:port of the sentinels (port 26379 by default)."""
    value = read.raw("REDIS_SENTINELS")
    if value is None:
        return ()
    found: list[tuple[str, int]] = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        host, _, port = entry.rpartition(":") if ":" in entry else (entry, "", "26379")
        if not host or not _HOSTNAME.fullmatch(host.lower()) or not port.isdigit() or not (
                0 < int(port) < 65536):
            read.bad("REDIS_SENTINELS", "comma-separated host:port of the sentinels, like "
                     "sentinel-0:26379,sentinel-1:26379", value)
            return ()
        found.append((host, int(port)))
    if not found:
        read.bad("REDIS_SENTINELS", "at least one sentinel host:port", value)
    if found and read.raw("REDIS_URL") is not None:
        read.problems.append("REDIS_SENTINELS: set either REDIS_URL or REDIS_SENTINELS (with "
                             "REDIS_SENTINEL_SERVICE and REDIS_PASSWORD), not both")
        return ()
    return tuple(found)


def _persistence(read: _Reader) -> Literal["required", "optional"]:
    value = read.raw("PROMOTEBOT_REDIS_PERSISTENCE")
    if value is None or value.lower() == "required":
        return "required"
    if value.lower() == "optional":
        return "optional"
    read.bad("PROMOTEBOT_REDIS_PERSISTENCE", "required or optional", value)
    return "required"


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from `environ` (pass os.environ); SettingsError naming every bad variable."""
    read = _Reader(environ)
    bot_token = read.secret(
        "SLACK_BOT_TOKEN", required="the bot token (xoxb-...) of the Slack app", prefix="xoxb-"
    )
    signing_secret = read.secret(
        "SLACK_SIGNING_SECRET", required="the signing secret from the Slack app's Basic Information"
    )
    app_token = read.secret("SLACK_APP_TOKEN", prefix="xapp-")
    slack_api_url = read.url("SLACK_API_URL", "https://slack.com/api/", ("https", "http"))
    response_url_hosts = _response_url_hosts(read)
    github_auth = _github(read)
    github_api_url = read.url("GITHUB_API_URL", "https://api.github.com", ("https", "http"))
    webhook_secret = read.secret("GITHUB_WEBHOOK_SECRET")
    kube_api_url = read.url("KUBE_API_URL", None, ("https", "http"))
    redis_url = _redis_url(read)
    sentinels = _sentinels(read)
    sentinel_service = read.raw("REDIS_SENTINEL_SERVICE") or "mymaster"
    redis_password = read.secret("REDIS_PASSWORD")
    sentinel_password = read.secret("REDIS_SENTINEL_PASSWORD")
    redis_persistence = _persistence(read)
    pipeline_path = _pipeline_path(read)
    host = read.raw("PROMOTEBOT_HOST") or "0.0.0.0"
    port = _port(read)
    log_level = _log_level(read)
    log_format = _log_format(read)
    poll_seconds = _poll_seconds(read)
    safety_poll_seconds = _poll_seconds(read, "PROMOTEBOT_SAFETY_POLL_SECONDS", 1200.0)
    lease_seconds = _lease_seconds(read)
    failure_window_hours = _failure_window_hours(read)
    startup_wait_seconds = _startup_wait_seconds(read)
    if read.problems:
        raise SettingsError(read.problems)
    assert bot_token and signing_secret and github_auth and slack_api_url and github_api_url
    return Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        github_auth=github_auth,
        slack_app_token=app_token,
        slack_api_url=slack_api_url if slack_api_url.endswith("/") else slack_api_url + "/",
        github_api_url=github_api_url.rstrip("/"),
        github_webhook_secret=webhook_secret,
        kube_api_url=kube_api_url,
        redis_url=redis_url,
        redis_sentinels=sentinels,
        redis_sentinel_service=sentinel_service,
        redis_password=redis_password,
        redis_sentinel_password=sentinel_password,
        redis_persistence=redis_persistence,
        pipeline_path=pipeline_path,
        host=host,
        port=port,
        log_level=log_level,
        log_format=log_format,
        poll_seconds=poll_seconds,
        safety_poll_seconds=safety_poll_seconds,
        lease_seconds=lease_seconds,
        response_url_hosts=response_url_hosts,
        failure_window_hours=failure_window_hours,
        startup_wait_seconds=startup_wait_seconds,
    )
