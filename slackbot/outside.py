"""What an outside service is doing to a live record right now: GitHub's rate limit keeping it
waiting until a given time, or GitHub answering errors (or nothing) since a given time.

The record keeps the latest `Outside` while the trouble lasts and the card shows it; the next
step that gets through clears it. A value only (the front end words it); a generic "<service>
is answering errors since HH:MM" fact for every outside service can adopt it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Trouble(StrEnum):
    RATE_LIMIT = "rate_limit"  # the service said to come back at `until`
    ERRORS = "errors"  # answering 5xx (`status`), or not answering at all, since `since`


@dataclass(frozen=True)
class Outside:
    service: str  # "github"
    trouble: Trouble
    since: datetime
    until: datetime | None = None  # RATE_LIMIT: when the wait ends
    status: int | None = None  # ERRORS: the last HTTP status (None: no answer)
    secondary: bool = False  # RATE_LIMIT: GitHub's secondary limit rather than the hourly budget

    def same_spell(self, other: Outside | None) -> bool:
        """Is `other` this same trouble (nothing new worth recording)?"""
        return (other is not None and other.service == self.service
                and other.trouble is self.trouble and other.until == self.until
                and other.since == self.since and other.status == self.status)
