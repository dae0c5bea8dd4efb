"""What follows a deploy to the last env: keeping the branches in sync (the workflow's "merge
prod back into staging and dev") and backporting a hotfix to the envs below.

Each merge is done on the server; one that does not apply cleanly becomes a pull request and a
line on the card, never a silent failure. Every outcome is an audit event on the record and a
comment on its pull request. Safe to run again: a deploy stays due (in the store) until done.
"""

from __future__ import annotations

import logging

from slackbot.engine import writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import AdapterError, MergeConflict, Protected
from slackbot.events import SyncConflict, Synced, SyncFailed
from slackbot.models import Kind, Promotion
from slackbot.ports import Forge, Store

log = logging.getLogger(__name__)


class Aftercare:
    def __init__(self, lookup: Lookup, records: Records, store: Store, forge: Forge):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._forge = forge

    def run(self, record: Promotion) -> None:
        """Sync or backport after the record's deploy, then mark it done."""
        app = self._lookup.app(record.app)
        if app.next_of(record.env) is None:  # only a deploy to the last env (prod) goes down
            if record.kind is Kind.PROMOTION:
                self._merge_down(record, head=record.target_branch, backport=False)
            elif record.kind is Kind.HOTFIX:
                self._merge_down(record, head=record.source_branch, backport=True)
        self._store.clear_aftercare(record.id)

    def _merge_down(self, record: Promotion, head: str, backport: bool) -> None:
        app = self._lookup.app(record.app)
        lower = [e for e in app.environments if e.name != record.env]
        for env in reversed(lower):  # staging first, then dev, as the workflow's commands do
            base = env.branch
            try:
                sha = self._forge.merge_branch(app.repository, base, head,
                                               writing.sync_message(record, head, base, backport))
            except MergeConflict:
                self._conflict(record, head, base, backport)
                continue
            except Protected as exc:  # the branch takes changes through pull requests only
                self._conflict(record, head, base, backport, exc.rule)
                continue
            except AdapterError:
                log.exception("%s #%s: merging %s into %s failed", record.kind.value, record.id,
                              head, base)
                self._tell(record, SyncFailed(base, head, backport),
                           writing.sync_failed_comment(head, base))
                continue
            self._tell(record, Synced(base, head, sha, backport),
                       writing.synced_comment(head, base, sha))

    def _conflict(self, record: Promotion, head: str, base: str, backport: bool,
                  rule: str | None = None) -> None:
        repository = self._lookup.app(record.app).repository
        try:
            pull = self._forge.find_open_pull(repository, base, head) or self._forge.open_pull(
                repository, base, head, writing.sync_pull_title(record, head, base, backport),
                writing.sync_pull_body(record, head, base))
        except AdapterError:
            log.exception("%s #%s: opening the pull request of %s into %s failed",
                          record.kind.value, record.id, head, base)
            self._tell(record, SyncConflict(base, head, None, None, backport, rule),
                       writing.sync_conflict_comment(head, base, None, None))
            return
        self._tell(record, SyncConflict(base, head, pull.number, pull.url, backport, rule),
                   writing.sync_conflict_comment(head, base, pull.number, pull.url))

    def _tell(self, record: Promotion, facts: Synced | SyncConflict | SyncFailed,
              comment: str) -> None:
        self._records.note(record, facts)
        self._records.comment(record, comment)
