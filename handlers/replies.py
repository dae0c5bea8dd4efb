"""The kinds of failure a user can see, applied around one core call after the ack.

A DomainError is a business refusal: its Reason is shown in words, with the next step. A
database that does not answer, GitHub limiting or failing, or GitHub's branch protection
refusing, are said plainly (nothing was changed). Anything else is a bug or
an outage: the user gets a generic sentence with a reference id and the log gets the traceback
under that id. Exception text never reaches Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from handlers.background import reference
from handlers.messages import answers
from slackbot.errors import (
    DomainError,
    ForgeUnavailable,
    Protected,
    RateLimited,
    StoreUnavailable,
)

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
        _say(say, answers.refused(exc.reason), what)
    except StoreUnavailable:
        log.warning("%s: Redis did not answer", what, exc_info=True)
        _say(say, answers.database_unavailable(), what)
    except ForgeUnavailable as exc:  # GitHub limiting or failing: said plainly, nothing done
        log.warning("%s: %s", what, exc)
        until = exc.until if isinstance(exc, RateLimited) else None
        _say(say, answers.github_unavailable(until, exc.since, exc.status), what)
    except Protected as exc:
        log.warning("%s: %s", what, exc)
        _say(say, answers.protected(exc.branch, exc.rule), what)
    except Exception:
        ref = reference()
        log.exception("%s failed (reference %s)", what, ref)
        _say(say, answers.generic_error(ref), what)
    return False


def _say(say: Say, text: str, what: str) -> None:
    try:
        say(text)
    except Exception:
        log.exception("%s: the answer could not be sent (reference %s)", what, reference())
