"""How long a record may wait for its gates: a reminder to the approvers who have not
answered, an escalation to a second group, then expiry (the env's `waiting` in the pipeline).

Each timer is a fact of the record (when it was asked for, whether it was reminded), so it is
never lost: every advance of a live record applies what is due first. Each step is a
compare-and-set that records its time on the record, so a second replica, a retry or a
restart never reminds twice. The next due time is kept in the store's due index, which the
leader's fast job reads, so a reminder goes out when it is due rather than at the next poll.
Nothing here knows Slack: the events carry who is to be told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slackbot import gates as gate_names
from slackbot.engine.approving import Approving
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import ConcurrentUpdate
from slackbot.events import Escalated, Expired, Reminded
from slackbot.models import BEFORE_MERGE, Promotion, State
from slackbot.pipeline import Waiting
from slackbot.ports import Directory, Store
from slackbot.reasons import Code, Next, Reason

ROUNDS = 4  # a reminder, an escalation and the expiry can all be due after a long outage


@dataclass(frozen=True)
class Deadlines:
    """When a waiting record is reminded, escalated and expired (None: not configured)."""

    remind: datetime | None
    escalate: datetime | None
    expire: datetime


def deadlines(record: Promotion, waiting: Waiting) -> Deadlines:
    """From the request; the expiry from a scheduled merge's window when that is later (a
    merge that waits for its change window does not expire before it opens)."""
    start = record.requested_at
    since = max(start, record.merge_not_before or start)
    return Deadlines(
        remind=start + waiting.remind_after if waiting.remind_after else None,
        escalate=start + waiting.escalate_after if waiting.escalate_after else None,
        expire=since + waiting.expire_after,
    )


def waits_on_people(record: Promotion) -> bool:
    """Waiting for gates that people pass (a merge scheduled for its window waits on none)."""
    return record.state in (State.PR_OPEN, State.AWAITING_GATES) and record.merge_not_before is None


def upcoming(record: Promotion, waiting: Waiting) -> Deadlines | None:
    """What is still to come for a waiting record (the card shows it), or None."""
    if record.state not in BEFORE_MERGE or not record.live:
        return None
    marks = deadlines(record, waiting)
    return Deadlines(
        remind=marks.remind if record.reminded_at is None else None,
        escalate=marks.escalate if record.escalated_at is None and waiting.escalate_to else None,
        expire=marks.expire,
    )


class Timers:
    def __init__(self, lookup: Lookup, records: Records, store: Store, directory: Directory,
                 approving: Approving):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._directory = directory
        self._approving = approving
        records.when_finished(lambda record: store.clear_due(record.id))

    def apply(self, record: Promotion) -> Promotion:
        """Take every timer step due now (each recorded once), then note the next due time;
        the record after them (not live once it expired)."""
        for _ in range(ROUNDS):
            try:
                after = self._step(record)
            except ConcurrentUpdate:
                after = self._records.get(record.id)  # moved meanwhile: look again
            if after is record:
                break
            record = after
        self._schedule(record)
        return record

    def _step(self, record: Promotion) -> Promotion:
        if not record.live or record.state not in BEFORE_MERGE:
            return record
        waiting = self._lookup.env(self._lookup.app(record.app), record.env).waiting
        marks, now = deadlines(record, waiting), self._records.clock.now()
        if now >= marks.expire:
            return self._records.finish(
                record, State.EXPIRED, Expired(waiting.expire_after),
                failure=Reason(Code.EXPIRED, Next.PROMOTE_AGAIN, env=record.env,
                               timeout=waiting.expire_after))
        if not waits_on_people(record):
            return record
        if (marks.escalate is not None and waiting.escalate_to and now >= marks.escalate
                and record.escalated_at is None):
            assert waiting.escalate_after is not None
            told = tuple(sorted(self._directory.members(waiting.escalate_to)
                                - {record.requested_by}))
            return self._records.transition(
                record, Escalated(waiting.escalate_after, waiting.escalate_to, told),
                escalated_at=now)
        if marks.remind is not None and now >= marks.remind and record.reminded_at is None:
            assert waiting.remind_after is not None
            return self._records.transition(
                record, Reminded(waiting.remind_after, self._asked(record)), reminded_at=now)
        return record

    def _asked(self, record: Promotion) -> tuple[str, ...]:
        """The approvers to remind: only while the approvals are what is missing."""
        gate = record.gate(gate_names.STAKEHOLDERS)
        if gate is None or gate.passed:
            return ()
        return self._approving.waiting_on(record)

    def _schedule(self, record: Promotion) -> None:
        """The record's next due time in the store's index (none once it no longer waits)."""
        if not record.live or record.state not in BEFORE_MERGE:
            self._store.clear_due(record.id)
            return
        waiting = self._lookup.env(self._lookup.app(record.app), record.env).waiting
        marks = upcoming(record, waiting)
        assert marks is not None
        now = self._records.clock.now()
        # A reminder already due while nobody is waited on (a merge scheduled for its window)
        # is not scheduled again: the record would be kicked at every look.
        due = [marks.expire, *(t for t in (marks.remind, marks.escalate)
                               if t is not None and (t > now or waits_on_people(record)))]
        self._store.set_due(record.id, min(due))
