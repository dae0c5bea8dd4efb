"""Signs a request as Slack does and POSTs it to the app's request URL, within Slack's 3 s.

The signature is v0=HMAC-SHA256(signing_secret, "v0:{timestamp}:{body}") in X-Slack-Signature,
with X-Slack-Request-Timestamp beside it (Slack's signing). This module only delivers and reports
what came back; it must not interpret the app's answer, and never logs the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(signing_secret: str, timestamp: str, body: str) -> str:
    basestring = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), basestring, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@dataclass
class Delivery:
    """What the app answered: HTTP status, body and headers, or the failure Slack would show."""

    status: int | None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # dispatch_failed / operation_timeout, as Slack names them
    via: str = "http"  # or "socket_mode": the envelope went over the app's websocket

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "body": self.body,
            "headers": self.headers,
            "error": self.error,
            "via": self.via,
        }


def deliver(url: str | None, signing_secret: str, body: str, timeout: float,
            content_type: str = "application/x-www-form-urlencoded") -> Delivery:
    if not url:
        return Delivery(None, error="dispatch_failed")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(signing_secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Delivery(
                response.status,
                response.read().decode("utf-8", "replace"),
                dict(response.headers.items()),
            )
    except urllib.error.HTTPError as exc:
        body_text = exc.read().decode("utf-8", "replace")
        error = None if exc.code == 200 else "dispatch_failed"
        return Delivery(exc.code, body_text, dict(exc.headers.items()), error)
    except TimeoutError:
        return Delivery(None, error="operation_timeout")
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        if isinstance(getattr(exc, "reason", None), (TimeoutError, socket.timeout)):
            return Delivery(None, error="operation_timeout")
        return Delivery(None, error="dispatch_failed")
