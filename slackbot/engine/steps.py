"""Advancing one record: take every step the outside world allows right now.

    requested       open (or adopt) the pull request; a rollback first makes its revert
    pr_open,
    awaiting_gates  read the gates on the pinned head; merge when all are green
    merging         merge exactly the pinned head (slackbot/engine/merging.py)
    reconciling     judge Flux and the rollout (slackbot/engine/verdict.py)

`advance` is safe to call from anywhere at any time (a command's wake, a webhook, the shared
watch, the scheduler, a restart): every step is a compare-and-set, so a step another caller
already took is simply not taken again. The runner calls it on the bot's workers. GitHub's
answers may be a moment old (the adapter trusts recent ones): before a merge every gate is read
again from GitHub itself. While GitHub holds a record up (its rate limit, its errors) the record
says so (`Outside`), until a step gets through.
"""

from __future__ import annotations

import dataclasses

from slackbot import changes
from slackbot import gates as gate_rules
from slackbot.engine import chain, writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.merging import Merger
from slackbot.engine.records import Records
from slackbot.engine.verdict import Verdict
from slackbot.errors import ConcurrentUpdate, ForgeUnavailable, RateLimited
from slackbot.events import (
    AwaitingGates,
    GatesChanged,
    GatesPassed,
    HeadMoved,
    MergeScheduled,
    Merging,
    OutsideRecovered,
    OutsideTrouble,
    PullOpened,
)
from slackbot.models import Kind, Promotion, State
from slackbot.outside import Outside, Trouble
from slackbot.ports import Cluster, Forge, KustomizationStatus
from slackbot.reasons import Code, Next, Reason

ROUNDS = 8  # each step moves the state forward; a handful is always enough


class Steps:
    def __init__(self, lookup: Lookup, records: Records, forge: Forge, cluster: Cluster,
                 merger: Merger, verdict: Verdict):
        self._lookup = lookup
        self._records = records
        self._forge = forge
        self._cluster = cluster
        self._merger = merger
        self._verdict = verdict

    def advance(self, promotion_id: int, status: KustomizationStatus | None = None) -> Promotion:
        """Take every step the world allows now; the record as it stands after them."""
        for _ in range(ROUNDS):
            record = self._records.get(promotion_id)
            before = (record.state, record.version)
            try:
                record = self._step(record, status)
                if record.outside is not None and record.live:
                    record = self._records.transition(
                        record, OutsideRecovered(record.outside.service, record.outside.since),
                        outside=None)
            except ConcurrentUpdate:
                continue  # someone else moved it: look again
            except ForgeUnavailable as exc:
                return self._held_up(promotion_id, exc)
            if (record.state, record.version) == before or not record.live:
                return record
        return self._records.get(promotion_id)

    def _held_up(self, promotion_id: int, exc: ForgeUnavailable) -> Promotion:
        """GitHub did not let the step through: the record says why, until one gets through
        (the next kick or tick tries again; nothing is sent during a rate-limit wait)."""
        record = self._records.get(promotion_id)
        now = self._records.clock.now()
        earlier = record.outside
        if isinstance(exc, RateLimited):
            since = earlier.since if earlier and earlier.trouble is Trouble.RATE_LIMIT else now
            outside = Outside("github", Trouble.RATE_LIMIT, since, until=exc.until,
                              secondary=exc.secondary)
        else:
            outside = Outside("github", Trouble.ERRORS, exc.since or now, status=exc.status)
        if not record.live or outside.same_spell(earlier):
            return record
        try:
            return self._records.transition(record, OutsideTrouble(outside), outside=outside)
        except ConcurrentUpdate:
            return self._records.get(promotion_id)

    def recover(self, promotion_id: int,
                status: KustomizationStatus | None = None) -> Promotion:
        """A failed record that merged, judged again: deployed if Flux applied it after all."""
        try:
            return self._verdict.recover(self._records.get(promotion_id), status)
        except ConcurrentUpdate:
            return self._records.get(promotion_id)

    def watched(self, record: Promotion) -> bool:
        return self._verdict.watched(record)

    def _step(self, record: Promotion, status: KustomizationStatus | None) -> Promotion:
        if record.state is State.REQUESTED:
            if record.direct:
                return self._merger.begin_direct_revert(record)
            if record.rollback is not None:
                failed = self._merger.prepare_revert_branch(record)
                if failed is not None:
                    return failed
            return self._open_pull(record)
        if record.state in (State.PR_OPEN, State.AWAITING_GATES):
            return self._evaluate(record)
        if record.state is State.MERGING:
            return self._merger.merge(record)
        if record.state is State.RECONCILING:
            return self._verdict.observe(record, status)
        return record

    def _open_pull(self, record: Promotion) -> Promotion:
        app = self._lookup.app(record.app)
        repository = app.repository
        # One comparison: the body of a new pull request, the card's list of commits and the
        # oldest commit's time (the lead time of the delivery figures).
        comparison = self._forge.compare(repository, record.target_branch, record.source_branch)
        # Created straight away: one that is already open (a crash after its creation, or
        # one a person opened) is GitHub's 422, and the forge adopts it then; no list first.
        pull = self._forge.open_pull(
            repository, record.target_branch, record.source_branch,
            writing.pull_title(record, comparison.ahead_by),
            writing.pull_body(record, comparison.commits, comparison.files,
                              self._records.person(record.requested_by)))
        adopted = pull.adopted
        if record.rollback_plan:
            self._forge.update_pull_body(
                repository, pull.number,
                writing.with_plan(pull.body, record.rollback_plan,
                                  self._records.person(record.requested_by)))
        listed = changes.of(comparison, pull.url, record.target_branch, pull.head_sha,
                            app.ticket_pattern)
        return self._records.transition(record, PullOpened(pull.number, pull.url, adopted),
                                        State.PR_OPEN, pr_number=pull.number, pr_url=pull.url,
                                        head_sha=pull.head_sha, changes=listed,
                                        first_commit_at=comparison.first_commit_at)

    def _evaluate(self, record: Promotion, fresh: bool = False) -> Promotion:
        app, env = self._lookup.app_env(record.app, record.env)
        assert record.pr_number is not None
        if fresh:
            self._forge.refresh(app.repository)
        pull = self._forge.get_pull(app.repository, record.pr_number)
        if pull.merged or pull.state != "open":
            code = Code.PULL_MERGED_OUTSIDE if pull.merged else Code.PULL_CLOSED
            return self._records.fail(record, Reason(code, _again(record), env=record.env,
                                                     pull=pull.number, kind=record.kind,
                                                     name=_hotfix_name(record)))
        if pull.head_sha != record.head_sha:
            voided = record.approvers()
            comparison = self._forge.compare(app.repository, record.target_branch,
                                             record.source_branch)  # once per new head
            listed = changes.of(comparison, pull.url, record.target_branch, pull.head_sha,
                                app.ticket_pattern, moved_from=record.head_sha)
            return self._records.transition(
                record, HeadMoved(record.head_sha or "", pull.head_sha, voided),
                head_sha=pull.head_sha, voided=voided or record.voided, changes=listed)
        src = app.env(record.source_env) if record.source_env else None
        source_status = self._cluster.kustomization(src.kustomization) if src else None
        root = chain.waiting_root(app, self._cluster, source_status) if source_status else None
        facts = gate_rules.Facts(
            sha=pull.head_sha,
            now=self._records.clock.now(),
            source_env=src.name if src else None,
            source_branch=src.branch if src else None,
            source_status=source_status,
            source_until=record.source_until,
            source_root=root.env if root else None,
            source_root_reason=root.reason if root else None,
            source_root_message=root.message if root else "",
            checks=self._forge.check_states(app.repository, pull.head_sha)
            if env.gates.required_checks else {},
            reviews=tuple(self._forge.reviews(app.repository, pull.number))
            if env.gates.required_reviews else (),
            requester=self._lookup.pipeline.github_login(record.requested_by),
            approvers=record.approvers(),
            rollback_plan=record.rollback_plan,
            approver_groups={a.user: a.groups for a in record.approvals
                             if a.sha == pull.head_sha},
        )
        gates = env.gates
        if record.kind is Kind.ROLLBACK:  # a rollback's own rollback plan is the original change
            gates = dataclasses.replace(gates, rollback_plan=False)
        if record.kind is Kind.HOTFIX and not gates.incidents_wait_for_window:
            gates = dataclasses.replace(gates, change_windows=())  # the incident is now
        results = gate_rules.evaluate(gates, facts)
        source = next((r for r in results if r.name == gate_rules.SOURCE), None)
        until = record.source_until
        if source is not None and until is not None:
            if source.passed:  # waited for, and there: the bound no longer applies
                record = self._records.transition(record, GatesChanged(results), gates=results,
                                                  source_until=None)
            elif facts.now > until:
                said = root or source_status
                return self._records.fail(record, Reason(
                    Code.SOURCE_WAIT_OVER, Next.PROMOTE_AGAIN, env=record.env, source=source.env,
                    sha=record.head_sha, root=source.root,
                    flux_reason=said.reason if said else None,
                    message=said.message if said else None), gates=results)
        failed = gate_rules.terminal_failure(results)
        if failed is not None:
            next_step = Next.RERUN_CHECK if record.kind is Kind.ROLLBACK else Next.FIX_SOURCE
            reason = Reason(Code.CHECK_FAILED, next_step, env=record.env, kind=record.kind,
                            check=failed.check, sha=record.head_sha,
                            branch=record.source_branch, name=_hotfix_name(record))
            return self._records.fail(record, reason, gates=results)
        if gate_rules.all_passed(results):
            if not fresh:  # what GitHub said may be a moment old: ask it again first
                return self._evaluate(record, fresh=True)
            if record.state is State.AWAITING_GATES:
                return self._merger.begin_merge(record, GatesPassed(), results)
            record = self._records.transition(record, GatesPassed(), State.AWAITING_GATES,
                                              gates=results)
            return self._merger.begin_merge(record, Merging(record.head_sha), results)
        opens = record.merge_not_before  # the merge waits for the window once all else is green
        if gate_rules.all_passed(results, ignore=(gate_rules.WINDOW,)):
            opens = gates.next_window(facts.now)
        if record.state is State.PR_OPEN:
            return self._records.transition(record, AwaitingGates(results),
                                            State.AWAITING_GATES, gates=results,
                                            merge_not_before=opens)
        if opens is not None and opens != record.merge_not_before:
            return self._records.transition(record, MergeScheduled(opens), gates=results,
                                            merge_not_before=opens)
        if results != record.gates:
            return self._records.transition(record, GatesChanged(results), gates=results)
        return record


def _again(record: Promotion) -> Next:
    """The command that starts this kind of record over."""
    if record.kind is Kind.ROLLBACK:
        return Next.ROLLBACK_AGAIN
    if record.kind is Kind.HOTFIX:
        return Next.HOTFIX_PROMOTE_AGAIN
    return Next.PROMOTE_AGAIN


def _hotfix_name(record: Promotion) -> str | None:
    return record.hotfix.name if record.hotfix else None
