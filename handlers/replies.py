"""The two kinds of failure a user can see (STYLE.md, "Errors"), applied around one engine call.

A DomainError is a business refusal: its sentence is shown as is. Anything else is a bug or
an outage: the user gets a generic sentence with a reference id and the log gets the
traceback under that id. Exception text of non-domain errors never reaches Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from handlers import messages
from handlers.background import reference
from slackbot.errors import DomainError

log = logging.getLogger(__name__)

Say = Callable[[str], None]


def privately(respond: Callable[..., object]) -> Say:
    """A Say that answers the acting user only, as a new ephemeral (never replacing the ack:
    Slack may apply the ack after our answer arrives)."""

    def say(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    return say


def guarded(say: Say, what: str, work: Callable[[], None]) -> bool:
    """Run `work`; tell the user through `say` if it fails. True when it succeeded."""
    try:
        work()
        return True
    except DomainError as exc:
        _say(say, messages.refused(str(exc)), what)
    except Exception:
        ref = reference()
        log.exception("%s failed (reference %s)", what, ref)
        _say(say, messages.generic_error(ref), what)
    return False


def _say(say: Say, text: str, what: str) -> None:
    try:
        say(text)
    except Exception:
        log.exception("%s: the answer could not be sent (reference %s)", what, reference())
