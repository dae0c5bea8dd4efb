"""What people ask of a promotion: request it, approve it, reject it, cancel it, write its
rollback plan. Each command asks the access policy first (slackbot/engine/access.py), then
validates against the workflow's rules, records the change as one compare-and-set, and wakes
the record so the runner takes its next steps.

A command never takes a step itself (no merge happens inside an Approve): the runner does,
on the bot's workers. Nothing here knows Slack; people are opaque user ids.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from slackbot.engine import chain, rules, writing
from slackbot.engine.access import MAX_NAMED, Access
from slackbot.engine.approving import Approving
from slackbot.engine.holds import Holds
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import (
    ConcurrentUpdate,
    NotAllowed,
    NothingToPromote,
    OrderViolation,
    StaleApproval,
)
from slackbot.events import Approved, Cancelled, PlanWritten, Rejected, Requested
from slackbot.models import Approval, Kind, Promotion, Rejection, State
from slackbot.pipeline import App, Environment
from slackbot.ports import Cluster, Forge, Store
from slackbot.reasons import Action, Code, Next, Reason

Wake = Callable[[int], object]  # "this record may move now": the runner advances it soon
# A command that loses a compare-and-set re-reads and tries again. Each round of racing
# writers has one winner, so a writer among N concurrent ones wins by round N: enough for an
# approval storm of 50 stakeholders on one record (other replicas' writers included).
CAS_ATTEMPTS = 100


class Commands:
    def __init__(self, lookup: Lookup, records: Records, store: Store, forge: Forge,
                 cluster: Cluster, access: Access, holds: Holds, wake: Wake,
                 approving: Approving):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._forge = forge
        self._cluster = cluster
        self._access = access
        self._holds = holds
        self._wake = wake
        self._approving = approving

    def request(self, app_name: str | None, env_name: str, user: str, *,
                source: str | None = None, channel: str | None = None,
                rollback_plan: str | None = None) -> Promotion:
        """Validate a promotion into `env_name` and record it; the runner does the rest."""
        app, env, src = self.admissible(app_name, env_name, user, source=source,
                                        channel=channel)
        rules.check_no_live(self._store.live(app.name, env.name), env)
        # The comparison names the source's head (one request less than reading the branch),
        # and the head and what it brings come from the same answer.
        comparison = self._forge.compare(app.repository, env.branch, src.branch)
        head = comparison.head_sha or self._forge.branch_head(app.repository, src.branch)
        until = self._source_wait(app, src, env, head)
        if not comparison.changes_content:
            raise NothingToPromote(Reason(Code.NOTHING_TO_PROMOTE, env=env.name,
                                          branch=src.branch, target=env.branch))
        now = self._records.clock.now()
        record = Promotion(
            id=self._store.next_id(), kind=Kind.PROMOTION, app=app.name, env=env.name,
            source_env=src.name, source_branch=src.branch, target_branch=env.branch,
            requested_by=user, requested_at=now, head_sha=head, rollback_plan=rollback_plan,
            updated_at=now, source_until=now + until if until else None,
        )
        try:
            record = self._records.create(record, Requested(head))
        except ConcurrentUpdate:
            rules.check_no_live(self._store.live(app.name, env.name), env)  # the winner's facts
            raise
        return self._woken(record)

    def _source_wait(self, app: App, src: Environment, env: Environment,
                     head: str) -> timedelta | None:
        """None when the source runs the head, Ready; how long to wait for it when it is
        reconciling that head (its timeout and one interval); raises the refusal otherwise."""
        status = self._cluster.kustomization(src.kustomization)
        live = self._store.live(app.name, src.name)
        deploying = (live is not None and live.state is State.RECONCILING
                     and live.merge_sha == head)
        ready = rules.check_source_ready(
            src, status, head, env, artifact=self._cluster.source_revision(src.git_repository),
            deploying=deploying, root=chain.waiting_root(app, self._cluster, status))
        return None if ready else src.timeout + src.interval

    def admissible(self, app_name: str | None, env_name: str, user: str, *,
                   source: str | None = None,
                   channel: str | None = None) -> tuple[App, Environment, Environment]:
        """The rules a request meets whatever the env runs now: names, who may ask, order,
        freezes and holds (the queue checks a request with these before it waits in line).
        The app, the env and the env it is promoted from."""
        app, env = self._lookup.app_env(app_name, env_name, channel)
        self._access.check(Action.REQUEST, app, env, user, channel)
        src = app.source_of(env.name)
        if src is None:
            raise OrderViolation(Reason(Code.FIRST_ENV, app=app.name, env=env.name,
                                        branch=env.branch))
        if source is not None and source != src.name:
            self._lookup.env(app, source)
            raise OrderViolation(Reason(Code.WRONG_SOURCE, Next.PROMOTE_SOURCE, app=app.name,
                                        env=env.name, source=src.name, name=source,
                                        choices=app.env_names))
        rules.check_not_blocked(self._store.blocks(app.name, env.name), env)
        rules.check_no_calendar_freeze(env.freezes_at(self._records.clock.now()), env)
        return app, env, src

    def approve(self, promotion_id: int, user: str, sha: str | None = None,
                channel: str | None = None) -> Promotion:
        """A stakeholder's approval of the pinned head (`sha`: the head the approver saw)."""
        for _ in range(CAS_ATTEMPTS):
            record = self._records.live(promotion_id, Action.APPROVE)
            app, env = self._lookup.app_env(record.app, record.env)
            if env.gates.stakeholder_approvals == 0:
                raise NotAllowed(Reason(Code.NO_APPROVAL_NEEDED, env=env.name))
            rules.check_not_own(record, user, Action.APPROVE)
            self._check_approver(Action.APPROVE, app, record, user, channel)
            rules.check_before_merge(record, Action.APPROVE)
            if sha is not None and sha != record.head_sha:
                raise StaleApproval(Reason(Code.STALE_APPROVAL, Next.REVIEW_NEW_HEAD,
                                           record=record.id, kind=record.kind, sha=sha,
                                           name=record.head_sha))
            if user in record.approvers():
                return record
            approval = Approval(user, record.head_sha or "", self._records.clock.now(),
                                self._approving.groups_of(record, user))
            try:
                record = self._records.transition(record, Approved(record.head_sha or ""),
                                                  actor=user,
                                                  approvals=(*record.approvals, approval))
            except ConcurrentUpdate:
                continue  # the record moved (another approval, a gate): look again
            return self._woken(record)
        raise ConcurrentUpdate(f"promotion {promotion_id} kept changing")

    def reject(self, promotion_id: int, user: str, reason: str,
               channel: str | None = None) -> Promotion:
        for _ in range(CAS_ATTEMPTS):
            record = self._records.live(promotion_id, Action.REJECT)
            rules.check_not_own(record, user, Action.REJECT)
            self._check_approver(Action.REJECT, self._lookup.app(record.app), record, user,
                                 channel)
            if not reason.strip():
                raise NotAllowed(Reason(Code.EMPTY_REASON))
            rules.check_before_merge(record, Action.REJECT)
            rejection = Rejection(user, reason.strip(), self._records.clock.now())
            try:
                record = self._records.finish(record, State.REJECTED, Rejected(reason.strip()),
                                              actor=user, rejection=rejection)
            except ConcurrentUpdate:
                continue
            self._records.comment(record, writing.rejected_comment(self._records.person(user),
                                                                   reason.strip()))
            return record
        raise ConcurrentUpdate(f"promotion {promotion_id} kept changing")

    def cancel(self, promotion_id: int, user: str, channel: str | None = None) -> Promotion:
        """Stop a record before it merges; a rollback's own hold is lifted with it."""
        for _ in range(CAS_ATTEMPTS):
            record = self._records.live(promotion_id, Action.CANCEL)
            app = self._lookup.app(record.app)
            self._access.check_record(Action.CANCEL, app, record, user, channel)
            rules.check_before_merge(record, Action.CANCEL)
            try:
                record = self._records.finish(record, State.CANCELLED, Cancelled(), actor=user)
            except ConcurrentUpdate:
                continue
            self._records.comment(record, writing.cancelled_comment(self._records.person(user)))
            if record.kind is Kind.ROLLBACK:
                self._holds.lift_own(record, user)
            return record
        raise ConcurrentUpdate(f"promotion {promotion_id} kept changing")

    def set_rollback_plan(self, promotion_id: int, user: str, plan: str,
                          channel: str | None = None) -> Promotion:
        plan = plan.strip()
        for _ in range(CAS_ATTEMPTS):
            record = self._records.live(promotion_id, Action.PLAN)
            self._access.check_record(Action.PLAN, self._lookup.app(record.app), record, user,
                                      channel)
            if not plan:
                raise NotAllowed(Reason(Code.EMPTY_PLAN))
            rules.check_before_merge(record, Action.PLAN)
            try:
                record = self._records.transition(record, PlanWritten(plan), actor=user,
                                                  rollback_plan=plan)
            except ConcurrentUpdate:
                continue
            if record.pr_number is not None:
                repository = self._lookup.app(record.app).repository
                self._forge.update_pull_body(repository, record.pr_number, writing.with_plan(
                    self._forge.pull_body(repository, record.pr_number), plan,
                    self._records.person(user)))
            return self._woken(record)
        raise ConcurrentUpdate(f"promotion {promotion_id} kept changing")

    def may(self, action: Action, promotion_id: int, user: str,
            channel: str | None = None) -> Promotion:
        """Refuse now what `action` on the live record would refuse for this person here (a
        dialog asks before it opens, so nobody types in vain); the record otherwise."""
        record = self._records.live(promotion_id, action)
        app = self._lookup.app(record.app)
        if action in (Action.APPROVE, Action.REJECT):
            rules.check_not_own(record, user, action)
            self._check_approver(action, app, record, user, channel)
        else:
            self._access.check_record(action, app, record, user, channel)
        return record

    def _check_approver(self, action: Action, app: App, record: Promotion, user: str,
                        channel: str | None) -> None:
        """The policy's approve (or reject) rule; an env whose gate names its approvers
        (gates.approvers) lets exactly them, in the rule's channels."""
        approvers = app.env(record.env).gates.approvers
        if approvers is not None and not self._approving.may_approve(record, user):
            people = tuple(u for u in approvers.users if u != record.requested_by)
            raise NotAllowed(Reason(Code.NOT_APPROVER, Next.ASK_ROLE, app=app.name,
                                    env=record.env, record=record.id, action=action,
                                    people=people if len(people) <= MAX_NAMED else ()))
        self._access.check_record(action, app, record, user, channel,
                                  member=True if approvers is not None else None)

    def _woken(self, record: Promotion) -> Promotion:
        """Wake the record (the runner takes its next steps); the record as this command
        recorded it."""
        self._wake(record.id)
        return record

