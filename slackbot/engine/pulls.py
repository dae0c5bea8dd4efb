"""Keeps every record's pull request saying where the record stands: one promotebot section of
its body (state, each gate's verdict, approvals and reviews by name, the failure, the deploy),
rewritten in place after each step that changes it. The steps between the gates' last verdict
and the deploy's outcome (gates passed, merging, merged) are left to that outcome: GitHub shows
the merge itself, the merge comment says Flux is next, and each rewrite costs a request of the
hourly budget. The body is taken as GitHub has it before it is written (the forge keeps the one
it wrote last and reads it again once a delivery says someone edited it), so a plan or a
person's edit written meanwhile stays.

A Notifier beside the Slack one: a change only queues the rewrite on the bot's workers under
the record's own key (so it never races the rollback plan written into the same body) and
coalesced; the rewrite reads the newest record and writes only when the text changed. It
decides nothing, and a GitHub that fails is only logged: the next change writes it again.
"""

from __future__ import annotations

import logging

from slackbot.engine import writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import person
from slackbot.engine.runner import Submit
from slackbot.errors import AdapterError
from slackbot.events import Event, EventKind
from slackbot.models import Promotion
from slackbot.ports import Directory, Forge, Notifier, Store

log = logging.getLogger(__name__)

QUIET = frozenset({EventKind.REQUESTED, EventKind.PROGRESS, EventKind.HOLD,
                   EventKind.ROLLBACK_PLAN,  # the plan writes the body itself
                   EventKind.GATES_PASSED, EventKind.MERGING, EventKind.MERGED})
TAG = "pull-section"


class PullSection:
    def __init__(self, lookup: Lookup, store: Store, forge: Forge, directory: Directory,
                 submit: Submit):
        self._lookup = lookup
        self._directory = directory
        self._store = store
        self._forge = forge
        self._submit = submit

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        if promotion.pr_number is None or event.kind in QUIET:
            return
        self._submit(promotion.id, lambda: self.refresh(promotion.id), TAG)

    def refresh(self, promotion_id: int) -> None:
        """Rewrite the record's section if it says something new (idempotent)."""
        record = self._store.get(promotion_id)
        if record is None or record.pr_number is None:
            return
        mentioned = {a.user for a in record.approvals} | {
            u for g in record.gates if g.name == "stakeholders" for u in g.who}
        if record.rejection is not None:
            mentioned.add(record.rejection.user)
        people = {user: person(self._directory, user) for user in mentioned}
        repository = self._lookup.app(record.app).repository
        try:
            before = self._forge.pull_body(repository, record.pr_number)
            body = writing.with_status(before, writing.status_section(record, people))
            if body != before:
                self._forge.update_pull_body(repository, record.pr_number, body)
        except AdapterError:
            log.exception("%s: could not rewrite the pull request's section", record.name)


class Both:
    """Two notifiers, each told of every change (the second even when the first raised)."""

    def __init__(self, first: Notifier, second: Notifier):
        self._first = first
        self._second = second

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        try:
            self._first.promotion_changed(promotion, event)
        finally:
            self._second.promotion_changed(promotion, event)
