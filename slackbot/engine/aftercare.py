"""What follows a deploy to the last env: bringing the branches below in line with it (the
workflow's "merge prod back into staging and dev"), a hotfix's backport, and an emergency
rollback's revert carried down to staging and dev.

Each env below is aligned with the one above it, from the top down, so dev always holds
staging and staging always holds prod: a branch that holds nothing its upstream lacks is
fast-forwarded (no empty merge commit); one that holds more gets a merge, and its card line
lists the commits it brought. An emergency revert is made again on each branch below, its line
listing what it removes there, so no change leaves a branch without a card that says so. A
merge or a revert that does not apply cleanly becomes a pull request and a line on the card.
Safe to run again: a deploy stays due (in the store) until done.
"""

from __future__ import annotations

import logging

from slackbot.engine import writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import AdapterError, HeadMoved, MergeConflict, Protected
from slackbot.events import CarryConflict, RevertCarried, SyncConflict, Synced, SyncFailed
from slackbot.models import Kind, Promotion
from slackbot.pipeline import Environment
from slackbot.ports import Cluster, Forge, Store, Workspace

log = logging.getLogger(__name__)
LISTED = 20  # commits named on a card line; the rest are counted


class Aftercare:
    def __init__(self, lookup: Lookup, records: Records, store: Store, forge: Forge,
                 workspace: Workspace, cluster: Cluster):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._forge = forge
        self._workspace = workspace
        self._cluster = cluster

    def run(self, record: Promotion) -> None:
        """Align the branches below after the record's deploy, then mark it done."""
        app = self._lookup.app(record.app)
        if app.next_of(record.env) is None and record.merge_sha:  # only the last env goes down
            if record.rollback is not None and record.rollback.emergency:
                self._carry_down(record)
            elif record.kind is Kind.HOTFIX:
                self._align_down(record, label=record.source_branch, backport=True)
            else:  # a promotion, or a revert pull request into the last env
                self._align_down(record, label=record.target_branch, backport=False)
        self._store.clear_aftercare(record.id)

    def _below(self, record: Promotion) -> list[Environment]:
        app = self._lookup.app(record.app)
        return list(reversed([e for e in app.environments if e.name != record.env]))

    # -- sync and backport ---------------------------------------------------------------------

    def _align_down(self, record: Promotion, label: str, backport: bool) -> None:
        """Each env below gets the env above it, once that one is aligned: staging gets the
        deployed merge, dev gets staging (so dev is never behind staging)."""
        assert record.merge_sha is not None
        upstream, upstream_label = record.merge_sha, label
        for env in self._below(record):
            aligned = self._align(record, env, upstream, upstream_label, backport)
            if aligned is not None:  # on a conflict the env below still gets what is deployed
                upstream, upstream_label = aligned, env.branch

    def _align(self, record: Promotion, env: Environment, upstream: str, label: str,
               backport: bool) -> str | None:
        """Bring `upstream` into the env's branch: its new head, None when it was not done."""
        repository = self._lookup.app(record.app).repository
        base = env.branch
        try:
            before = self._forge.branch_head(repository, base)
            if before == upstream:
                self._tell(record, Synced(base, label, None, backport),
                           writing.synced_comment(label, base, None))
                return upstream
            brought = tuple(c.message.splitlines()[0] if c.message else c.sha[:7]
                            for c in self._workspace.changes(repository, before, upstream))
            if self._forge.fast_forward(repository, base, upstream):
                self._tell(record, Synced(base, label, upstream, backport, True, brought[:LISTED]),
                           writing.synced_comment(label, base, upstream, fast_forward=True))
                return upstream
            sha = self._forge.merge_branch(repository, base, upstream,
                                           writing.sync_message(record, label, base, backport))
        except MergeConflict:
            self._conflict(record, label, base, backport)
            return None
        except Protected as exc:  # the branch takes changes through pull requests only
            self._conflict(record, label, base, backport, exc.rule)
            return None
        except AdapterError:
            log.exception("%s: bringing %s into %s failed", record.name, label, base)
            self._tell(record, SyncFailed(base, label, backport),
                       writing.sync_failed_comment(label, base))
            return None
        self._tell(record, Synced(base, label, sha, backport, False,
                                  brought[:LISTED] if sha else ()),
                   writing.synced_comment(label, base, sha))
        return sha or before

    def _conflict(self, record: Promotion, head: str, base: str, backport: bool,
                  rule: str | None = None) -> None:
        repository = self._lookup.app(record.app).repository
        try:
            pull = self._forge.find_open_pull(repository, base, head) or self._forge.open_pull(
                repository, base, head, writing.sync_pull_title(record, head, base, backport),
                writing.sync_pull_body(record, head, base))
        except AdapterError:
            log.exception("%s: opening the pull request of %s into %s failed", record.name,
                          head, base)
            self._tell(record, SyncConflict(base, head, None, None, backport, rule),
                       writing.sync_conflict_comment(head, base, None, None))
            return
        self._tell(record, SyncConflict(base, head, pull.number, pull.url, backport, rule),
                   writing.sync_conflict_comment(head, base, pull.number, pull.url))

    # -- an emergency revert, carried down -------------------------------------------------------

    def _carry_down(self, record: Promotion) -> None:
        """The same revert on each branch below: the change from the revert's parent to the
        revert, applied there as a new commit and applied by Flux at once."""
        assert record.rollback is not None and record.merge_sha is not None
        app = self._lookup.app(record.app)
        spec, revert = record.rollback, record.merge_sha
        try:
            change = self._workspace.changes(app.repository, spec.target, spec.from_head)
        except AdapterError:
            log.exception("%s: listing what the revert removes failed", record.name)
            change = []
        removed = tuple(c.message.splitlines()[0] if c.message else c.sha[:7] for c in change)
        shas = tuple(c.sha for c in change)
        for env in self._below(record):
            message = writing.carried_message(record, env.branch, revert)
            try:
                if shas and not any(self._workspace.contains(app.repository, env.branch,
                                                             (sha,)) for sha in shas):
                    # the change never reached this branch (pushed to prod alone): nothing to
                    # remove here, and its revert would not apply
                    self._tell(record, RevertCarried(env.branch, None),
                               writing.carried_comment(record, env.branch, None, ()))
                    continue
                try:
                    applied = self._workspace.apply_change(app.repository, env.branch,
                                                           spec.from_head, revert, message)
                except HeadMoved:  # someone pushed meanwhile: once more, on the new head
                    applied = self._workspace.apply_change(app.repository, env.branch,
                                                           spec.from_head, revert, message)
            except MergeConflict:
                self._carry_conflict(record, env)
                continue
            except AdapterError:
                log.exception("%s: carrying the revert down to %s failed", record.name,
                              env.branch)
                self._tell(record, CarryConflict(env.branch),
                           writing.sync_failed_comment(record.target_branch, env.branch))
                continue
            if applied is None:
                self._tell(record, RevertCarried(env.branch, None),
                           writing.carried_comment(record, env.branch, None, ()))
                continue
            self._tell(record, RevertCarried(env.branch, applied.sha, applied.files[:LISTED],
                                             removed[:LISTED]),
                       writing.carried_comment(record, env.branch, applied.sha, applied.files))
            self._reconcile(record, env)

    def _carry_conflict(self, record: Promotion, env: Environment) -> None:
        """A pull request bringing the reverted branch into the env: resolved by people."""
        repository = self._lookup.app(record.app).repository
        branch = f"rollback/{env.name}-{record.id}"
        try:
            if not self._forge.branch_exists(repository, branch):
                assert record.merge_sha is not None
                self._forge.create_branch(repository, branch, record.merge_sha)
            pull = self._forge.find_open_pull(repository, env.branch, branch) or \
                self._forge.open_pull(repository, env.branch, branch,
                                      writing.sync_pull_title(record, branch, env.branch, False),
                                      writing.carry_pull_body(record, env.branch))
        except AdapterError:
            log.exception("%s: opening the pull request for %s failed", record.name, env.branch)
            self._tell(record, CarryConflict(env.branch),
                       writing.sync_conflict_comment(branch, env.branch, None, None))
            return
        self._tell(record, CarryConflict(env.branch, pull.number, pull.url),
                   writing.sync_conflict_comment(branch, env.branch, pull.number, pull.url))

    def _reconcile(self, record: Promotion, env: Environment) -> None:
        token = f"promotebot-{record.id}-{env.name}-{self._records.clock.now().isoformat()}"
        try:
            # the source only: kustomize-controller applies its source's new artifact by itself
            self._cluster.request_source_reconcile(env.git_repository, token)
        except AdapterError:
            log.exception("%s: reconcile request for %s failed; Flux will poll", record.name,
                          env.name)

    def _tell(self, record: Promotion,
              facts: Synced | SyncConflict | SyncFailed | RevertCarried | CarryConflict,
              comment: str) -> None:
        self._records.note(record, facts)
        self._records.comment(record, comment)
