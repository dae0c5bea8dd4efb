"""Where the bot may POST a reply: a payload's `response_url` only when it is Slack's hooks host
(or a host the SLACK_RESPONSE_URL_HOSTS setting lists, as the sandbox does for its emulator),
and never where a redirect points.

Bolt builds `respond` from whatever `response_url` a payload names (slack_bolt's
request/internals.py build_context, context/context.py `respond`), with slack_sdk's
WebhookClient, whose urlopen follows redirects (a 302 becomes a GET of any address). The HTTP
edge refuses a payload naming another host before Bolt runs and gives every request a
`DirectRespond` instead, which posts through one `Transport` (kept-alive connections, the
environment's proxy, no redirects); `middleware` does the same in Socket Mode. It decides
nothing else.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import urllib3
from slack_bolt import BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse

log = logging.getLogger(__name__)

SLACK_HOOKS_HOST = "hooks.slack.com"
MAX_URL = 2048
TIMEOUT_SECONDS = 10
# urllib's own NO_PROXY rule, given the proxies read once (typeshed does not declare it)
_bypass: Callable[[str, dict[str, str]], bool] = vars(urllib.request)["proxy_bypass_environment"]
POOL_SIZE = 16  # connections kept per host: about one per thread that answers at once


class ResponseUrls:
    """The rule: https://hooks.slack.com/..., or http(s) to one of `extra_hosts` ("host" or
    "host:port", matched exactly, port included)."""

    def __init__(self, extra_hosts: Iterable[str] = ()):
        self.extra_hosts = frozenset(h.strip().lower() for h in extra_hosts if h.strip())

    def allows(self, url: object) -> bool:
        if not isinstance(url, str) or not url or len(url) > MAX_URL:
            return False
        if not url.isprintable() or any(c in url for c in " \\"):
            return False
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if "@" in parts.netloc or not parts.hostname:
            return False
        host = parts.hostname.lower()
        if parts.scheme == "https" and host == SLACK_HOOKS_HOST and port in (None, 443):
            return True
        netloc = f"{host}:{port}" if port is not None else host
        return parts.scheme in ("http", "https") and netloc in self.extra_hosts

    def refused(self, body: dict[str, Any]) -> list[str]:
        """The response URLs a payload names that the rule refuses (Bolt takes `response_url`,
        else the first of `response_urls`); empty when every one is allowed."""
        named: list[object] = []
        if "response_url" in body:
            named.append(body["response_url"])
        urls = body.get("response_urls")  # its shape is handlers.envelopes' to check
        if isinstance(urls, list):
            named.extend(u.get("response_url") for u in urls if isinstance(u, dict))
        return [_shown(u) for u in named if u is not None and not self.allows(u)]


def _shown(url: object) -> str:
    """A refused URL for a log line: its scheme and host only (the path is a credential)."""
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    try:
        parts = urlsplit(url)
        if not parts.scheme or not parts.hostname:
            return "<no host>"
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "<unparseable>"


class Transport:
    """The answers' HTTP: kept-alive connections per host (a burst of commands opened one
    per answer before, a sixth of the bot's CPU), through the proxy the environment names as
    urllib would (HTTPS_PROXY or HTTP_PROXY per scheme, NO_PROXY; read when first used), and
    never following a redirect (a 3xx is the answer). Thread-safe; shared by every answer."""

    def __init__(self, proxies: dict[str, str] | None = None):
        self._proxies = urllib.request.getproxies() if proxies is None else proxies
        self._lock = threading.Lock()
        self._managers: dict[str, urllib3.PoolManager] = {}

    def proxy_for(self, url: str) -> str | None:
        parts = urlsplit(url)
        proxy = self._proxies.get(parts.scheme)
        if not proxy or _bypass(parts.hostname or "", self._proxies):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    def post(self, url: str, body: bytes) -> urllib3.BaseHTTPResponse:
        proxy = self.proxy_for(url)
        with self._lock:
            manager = self._managers.get(proxy or "")
            if manager is None:
                manager = (urllib3.ProxyManager(proxy, maxsize=POOL_SIZE) if proxy
                           else urllib3.PoolManager(maxsize=POOL_SIZE))
                self._managers[proxy or ""] = manager
        return manager.request("POST", url, body=body, redirect=False, retries=False,
                               timeout=TIMEOUT_SECONDS,
                               headers={"Content-Type": "application/json;charset=utf-8"})


_TRANSPORT: Transport | None = None  # made at the first answer; DirectRespond does not hold
_MADE = threading.Lock()  # it, and stays deep-copyable as Bolt needs


def transport() -> Transport:
    global _TRANSPORT
    with _MADE:
        if _TRANSPORT is None:
            _TRANSPORT = Transport()
        return _TRANSPORT


class DirectRespond(Respond):
    """Bolt's `respond`, posting once to its URL and never following a redirect (a 3xx is
    returned as the answer, and logged). The URL was checked by the edge; it is checked again
    here, so a refused one is never contacted."""

    def __init__(self, *, response_url: str | None, rule: ResponseUrls):
        super().__init__(response_url=response_url)
        self._rule = rule

    def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        url = self.response_url
        if url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if not self._rule.allows(url):
            raise ValueError(f"response_url host not allowed: {_shown(url)}")
        if isinstance(text, dict):  # respond({...}): the whole message
            fields = dict(text)
            body = str(fields.pop("text", ""))
        else:
            body, fields = text, {
                "blocks": blocks, "attachments": attachments, "response_type": response_type,
                "replace_original": replace_original, "delete_original": delete_original,
                "unfurl_links": unfurl_links, "unfurl_media": unfurl_media,
                "thread_ts": thread_ts, "metadata": metadata}
        message = _message(body, fields)
        return self._post(url, message)

    def _post(self, url: str, message: dict[str, Any]) -> WebhookResponse:
        answer = transport().post(url, json.dumps(message).encode())
        if 300 <= answer.status < 400:
            log.warning("response_url %s answered %s: the redirect was not followed",
                        _shown(url), answer.status)
        return _response(url, answer)


def _response(url: str, answer: urllib3.BaseHTTPResponse) -> WebhookResponse:
    charset = Message()
    charset["content-type"] = answer.headers.get("content-type", "")
    return WebhookResponse(url=url, status_code=answer.status,
                           body=answer.data.decode(charset.get_content_charset() or "utf-8",
                                                   errors="replace"),
                           headers=dict(answer.headers))


def _message(text: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON Bolt's respond() sends: text, and each other field only when given (blocks
    and attachments only when not empty)."""
    message: dict[str, Any] = {"text": text}
    for key, value in fields.items():
        if value is None or (key in ("blocks", "attachments") and not value):
            continue
        if key in ("blocks", "attachments"):
            value = [v.to_dict() if isinstance(v, Block | Attachment) else v for v in value]
        message[key] = value
    return message


def middleware(rule: ResponseUrls) -> Callable[..., Any]:
    """A Bolt global middleware doing for Socket Mode what the HTTP edge does: a payload
    naming another host reaches no listener, and `respond` never follows a redirect."""

    def guard(body: dict[str, Any], context: BoltContext, next: Callable[[], Any]) -> Any:
        refused = rule.refused(body)
        if refused:
            log.warning("a payload's response_url is on a host replies never go to (%s); "
                        "SLACK_RESPONSE_URL_HOSTS lists other hosts", ", ".join(refused))
            return BoltResponse(status=400, body={"error": "response_url is not Slack's"})
        if not isinstance(context.get("respond"), DirectRespond):
            context["respond"] = DirectRespond(response_url=context.response_url, rule=rule)
        return next()

    return guard
