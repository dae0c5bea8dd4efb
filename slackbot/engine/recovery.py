"""What the leading replica takes up that another one, or an outage, left unfinished: records
in `merging` (a dead holder's env lock is free within the lease time: they are kicked every
round of the lease), and deploys whose sync or backport an outage interrupted (when Redis
answers again, not only at the next restart).

An interrupted aftercare is run under a claim in the store and on its record's key, so two
replicas, or a run and a recovery, do not merge the same branches twice. Every step is the
engine's own (steps, aftercare); this module only decides when to take them up again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slackbot.engine.aftercare import Aftercare
from slackbot.engine.runner import Runner, Submit
from slackbot.models import Promotion, State
from slackbot.ports import Store

log = logging.getLogger(__name__)

AFTERCARE_CLAIM_MS = 10 * 60 * 1000  # a sync merges a few branches on GitHub


class Recovery:
    def __init__(self, store: Store, runner: Runner, aftercare: Aftercare, submit: Submit,
                 owner: str):
        self._store = store
        self._runner = runner
        self._aftercare = aftercare
        self._submit = submit
        self._owner = owner

    def merging(self) -> list[int]:
        """Kick every record left in `merging`: one whose lock is free now merges (or finds
        its merge done on GitHub); one whose holder still works is left to it."""
        kicked = []
        for record in self._store.live_all():
            if record.state is State.MERGING and self._runner.kick(record.id):
                kicked.append(record.id)
        return kicked

    def aftercare(self) -> list[int]:
        """Take up every deploy whose sync or backport is still due."""
        taken = []
        for promotion_id in self._store.aftercare_due():
            record = self._store.get(promotion_id)
            if record is None or (not record.live and record.state is not State.DEPLOYED):
                self._store.clear_aftercare(promotion_id)
            elif record.state is State.DEPLOYED:
                self._submit(promotion_id, self._claimed(record), "aftercare")
                taken.append(promotion_id)
        return taken

    def _claimed(self, record: Promotion) -> Callable[[], None]:
        def run() -> None:
            claim = f"aftercare:{record.id}"
            if not self._store.claim_key(claim, self._owner, AFTERCARE_CLAIM_MS):
                return  # another replica runs it now
            try:
                if record.id in self._store.aftercare_due():  # not finished meanwhile
                    self._aftercare.run(record)
            finally:
                self._store.unclaim_key(claim, self._owner)

        return run
