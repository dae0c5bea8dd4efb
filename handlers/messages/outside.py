"""The words for an outside service holding a record up (slackbot/outside.py): the card's line
while it lasts, and the timeline's lines when it starts and ends.

Self-contained on purpose: a generic "<service> is answering errors since HH:MM" for every
outside service can take these over as they are. Times are shown in each reader's zone.
"""

from __future__ import annotations

from datetime import datetime

from handlers import mrkdwn
from slackbot.outside import Outside, Trouble

SERVICES = {"github": "GitHub", "kubernetes": "the Kubernetes API", "slack": "Slack"}


def service_name(service: str) -> str:
    return SERVICES.get(service, service)


def _time(moment: datetime) -> str:
    return mrkdwn.when(moment, "{time}")


def card_line(outside: Outside) -> str:
    """What the card says while the trouble lasts."""
    name = service_name(outside.service)
    if outside.trouble is Trouble.RATE_LIMIT and outside.until is not None:
        limit = "secondary rate limit" if outside.secondary else "rate limit"
        return (f":hourglass: Waiting for {name}'s {limit} until {_time(outside.until)}: "
                f"nothing is sent to {name} until then, then it goes on by itself")
    if outside.status is not None:
        return (f":warning: {name} is answering {outside.status} since {_time(outside.since)}: "
                f"retrying with backoff")
    return f":warning: {name} is not answering since {_time(outside.since)}: retrying with backoff"


def trouble_line(outside: Outside) -> str:
    name = service_name(outside.service)
    if outside.trouble is Trouble.RATE_LIMIT and outside.until is not None:
        return f":hourglass: Waiting for {name}'s rate limit until {_time(outside.until)}"
    if outside.status is not None:
        return f":warning: {name} answers {outside.status}: retrying with backoff"
    return f":warning: {name} does not answer: retrying with backoff"


def recovered_line(service: str) -> str:
    return f":white_check_mark: {service_name(service)} answers again: going on"
