"""Slack's request signature, checked over the raw bytes before anything of the body is read.

Slack signs `v0:{timestamp}:{raw body}` with HMAC-SHA256 and the app's signing secret, and a
request more than five minutes from our clock is a replay. Bolt parses the body before its own
check (and fails on a timestamp that is not a whole number), so the HTTP edge calls this first.
Pure: bytes, header values and a clock in, a verdict out; it must not parse the body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import Enum

WINDOW_SECONDS = 300  # Slack's replay window: |now - timestamp| at most five minutes
VERSION = "v0"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take "١٢" or " 12"
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Verdict(Enum):
    """Why a request was refused (every one is a 401), or OK."""

    OK = "ok"
    NO_TIMESTAMP = "the X-Slack-Request-Timestamp header is missing"
    BAD_TIMESTAMP = "the X-Slack-Request-Timestamp header is not a whole number of seconds"
    STALE = "the request timestamp is more than five minutes from this host's clock"
    NO_SIGNATURE = "the X-Slack-Signature header is missing"
    BAD_SIGNATURE = "the signature does not match the body"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature Slack sends for `body` at `timestamp`."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(
    secret: str, body: bytes, timestamp: str | None, sig: str | None, now: float
) -> Verdict:
    """OK only for a well-formed, fresh timestamp and the body's signature (constant time)."""
    if not timestamp:
        return Verdict.NO_TIMESTAMP
    if not _TIMESTAMP.fullmatch(timestamp):
        return Verdict.BAD_TIMESTAMP
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return Verdict.STALE
    if not sig:
        return Verdict.NO_SIGNATURE
    if not _SIGNATURE.fullmatch(sig) or not secret:
        return Verdict.BAD_SIGNATURE
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        return Verdict.BAD_SIGNATURE
    return Verdict.OK
