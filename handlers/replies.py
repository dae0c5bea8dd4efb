"""How a command is answered, and the kinds of failure a user can see, applied around one core
call after the ack.

A command gets one answer. Slack applies an ack's message asynchronously, so an "On it…" in
the ack can show after the answer it precedes; instead the ack is empty, and a `Reply` posts
"On it…" only when the answer is slow (PATIENCE), then replaces it with the answer: never
the other way round. A DomainError is a business refusal: its Reason is shown in words, with
the next step (and a button, when a dependsOn chain's root can be rolled back). A database
that does not answer, GitHub limiting or failing, or GitHub's branch protection refusing, are
said plainly (nothing was changed). Anything else is a bug or an
outage: the user gets a generic sentence with a reference id and the log gets the traceback
under that id. Exception text never reaches Slack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, Protocol, runtime_checkable

from handlers.background import Background, reference
from handlers.messages import answers
from slackbot.errors import (
    DomainError,
    ForgeUnavailable,
    Protected,
    RateLimited,
    StoreUnavailable,
)
from slackbot.timers import Later

log = logging.getLogger(__name__)

Say = Callable[[str], None]
Blocks = Callable[[Any], "dict[str, Any] | None"]  # a Reason -> a message with a button, or None
PATIENCE = 2.0  # seconds an answer may take before "On it…" is shown (then replaced)

# Every Reply's patience runs out on one timer thread (a timer thread per command cost a thread
# start per request), and the working notes are posted on a small pool of their own, so a slow
# response_url never holds another's note. Both make their threads at the first use.
_NOTES = Background(2, name="working-note")


def _post_note(key: Hashable, work: Callable[[], object], once: str | None) -> bool:
    _NOTES(work)
    return True


_PATIENCE = Later(_post_note, name="patience")


@runtime_checkable
class RichSay(Protocol):
    """A Say that can also answer with blocks (a button)."""

    def __call__(self, text: str) -> None: ...
    def message(self, body: dict[str, Any], in_channel: bool = False) -> None: ...


class Reply:
    """One answer to one command through its response_url: the answer alone when it comes
    within PATIENCE, else "On it…" at PATIENCE, replaced by the answer when it comes."""

    def __init__(self, respond: Callable[..., object], working: str,
                 patience: float = PATIENCE):
        self._respond = respond
        self._working = working
        self._lock = threading.Lock()
        self._shown = False  # "On it…" was posted
        self._answered = False
        self._patience = patience

    def start(self) -> Reply:
        _PATIENCE.after(self._patience, self, self._on_it)
        return self

    def _on_it(self) -> None:
        with self._lock:
            if self._answered:
                return
            try:
                self._respond(text=self._working, response_type="ephemeral",
                              replace_original=False)
                self._shown = True
            except Exception:
                log.exception("the working note could not be sent (reference %s)", reference())

    def __call__(self, text: str) -> None:
        self.message({"text": text})

    def message(self, body: dict[str, Any], in_channel: bool = False) -> None:
        """The answer: private, replacing "On it…" if shown; `in_channel` for everyone (the
        private note is then deleted first: an ephemeral cannot become a channel message)."""
        with self._lock:
            first = not self._answered  # "On it…" is not posted once this is set
            self._answered = True
            if in_channel:
                if self._shown and first:
                    self._respond(delete_original=True)
                self._respond(response_type="in_channel", replace_original=False, **body)
            else:
                self._respond(response_type="ephemeral",
                              replace_original=self._shown and first, **body)


def privately(respond: Callable[..., object]) -> Say:
    """A Say that answers the acting user only, as a new ephemeral (never replacing the ack:
    Slack may apply the ack after our answer arrives)."""

    def say(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    return say


def guarded(say: Say, what: str, work: Callable[[], None],
            rich: Blocks | None = None) -> bool:
    """Run `work`; tell the user through `say` if it fails (a Reply shows `rich`'s message
    for a refusal that offers a button). True when it succeeded."""
    try:
        work()
        return True
    except DomainError as exc:
        body = rich(exc.reason) if rich is not None and isinstance(say, RichSay) else None
        if body is not None and isinstance(say, RichSay):
            try:
                say.message(body)
            except Exception:
                log.exception("%s: the answer could not be sent (reference %s)", what,
                              reference())
        else:
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
