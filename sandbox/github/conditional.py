"""Conditional GETs: ETag and Last-Modified on every successful GET, and 304 Not Modified
when the client's If-None-Match (or, without it, If-Modified-Since) still matches.

The ETag is a weak hash of the JSON body and of who asked (GitHub's vary on Authorization);
Last-Modified is when that body last changed for that caller and URL, on the emulator's clock,
strictly increasing so that a change within the same second is never hidden. A 304 has no
body; GitHub does not count it against the rate limit (the server skips it). No routing here.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from sandbox.github.clock import Clock

VARY = "Accept, Authorization, Cookie, X-GitHub-OTP"


def etag_of(caller: str, body: Any) -> str:
    digest = hashlib.sha256(caller.encode() + b"\0" + json.dumps(body, sort_keys=True).encode())
    return f'W/"{digest.hexdigest()[:40]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    wanted = [tag.strip() for tag in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in wanted)


class Validators:
    """The last ETag and Last-Modified handed out per (caller, URL)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], tuple[str, int]] = {}

    def validators(self, caller: str, url: str, body: Any) -> tuple[str, int]:
        """(ETag, Last-Modified in epoch seconds) for this body."""
        etag = etag_of(caller, body)
        key = (caller, url)
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and seen[0] == etag:
                return seen
            modified = int(self._clock.now())
            if seen is not None:
                modified = max(modified, seen[1] + 1)
            self._seen[key] = (etag, modified)
            return etag, modified

    def headers(self, etag: str, modified: int) -> dict[str, str]:
        stamp = datetime.fromtimestamp(modified, UTC)
        return {"ETag": etag, "Last-Modified": format_datetime(stamp, usegmt=True),
                "Vary": VARY}

    @staticmethod
    def not_modified(request_headers: dict[str, str], etag: str, modified: int) -> bool:
        """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None:
            return _matches(if_none_match, etag)
        since = request_headers.get("if-modified-since")
        if since is None:
            return False
        try:
            return modified <= int(parsedate_to_datetime(since).timestamp())
        except (TypeError, ValueError):
            return False

