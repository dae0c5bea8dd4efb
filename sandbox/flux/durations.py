"""Go-style durations ("1m30s") and timestamps as the Flux and Kubernetes APIs write them.

Flux specs carry Go duration strings and its messages print time.Duration.String() ("3m0s");
status timestamps are RFC 3339 in UTC with second precision (metav1.Time). This module only
converts; it must not know about simulated time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string such as "1m", "2m30s" or "500ms"; raises ValueError."""
    value = text.strip()
    if value in ("0", ""):
        if value == "":
            raise ValueError("empty duration")
        return 0.0
    pos, total = 0, 0.0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value):
        raise ValueError(f"invalid duration {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """time.Duration.String(): "3m0s", "30s", "1.5s", "250ms", "1h0m0s"."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        ms = seconds * 1000
        return f"{_trim(ms)}ms" if ms >= 1 else f"{_trim(seconds * 1e6)}µs"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{_trim(secs)}s"
    if hours or minutes:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return text


def _trim(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
