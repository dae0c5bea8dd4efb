"""The promotion engine: every rule of the workflow, applied to records in the store.

Commands (request, approve, reject, cancel, rollback plan, freeze) validate and record; `advance`
drives a live record as far as the outside world allows right now (open the pull request,
evaluate gates, merge, request a reconcile, judge Flux and the rollout). Every change is a
compare-and-set in the store, so two replicas, two clicks or a retry never apply one step twice,
and a record left mid-way by a crash is picked up by `resume` after a restart.

The engine talks only to its ports and knows nothing of Slack. People are named by their
opaque user ids, written `@<id>` in sentences.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from slackbot import aftercare
from slackbot import gates as gate_rules
from slackbot.errors import (
    AdapterError,
    AlreadyFinished,
    AlreadyLive,
    ConcurrentUpdate,
    EnvBlocked,
    HeadMoved,
    MergeConflict,
    NotAllowed,
    NotFound,
    NothingToPromote,
    NotMergeable,
    OrderViolation,
    SourceNotReady,
    StaleApproval,
    StaleFence,
    UnknownApp,
    UnknownEnv,
)
from slackbot.models import (
    Approval,
    Block,
    Event,
    GateResult,
    Kind,
    Promotion,
    Rejection,
    State,
)
from slackbot.pipeline import App, Environment, Pipeline
from slackbot.ports import (
    Clock,
    Cluster,
    CommitInfo,
    Directory,
    Forge,
    KustomizationStatus,
    Notifier,
    Workspace,
)
from slackbot.status import AppStatus, read_status
from slackbot.store import Fence, RedisStore

log = logging.getLogger(__name__)

DIRECT = "direct"  # a rollback mode: revert commits pushed to the branch itself
PULL = "pull"  # a rollback mode: a revert pull request through the env's gates

BEFORE_MERGE = frozenset({State.REQUESTED, State.PR_OPEN, State.AWAITING_GATES})
FLUX_FAILURES = frozenset(
    {"BuildFailed", "HealthCheckFailed", "ReconciliationFailed", "ArtifactFailed", "PruneFailed"}
)


class RecordChanges(TypedDict, total=False):
    """Record fields a step sets only when they differ, gathered before one transition."""

    pr_number: int
    pr_url: str
    head_sha: str
    merge_not_before: datetime


@dataclass(frozen=True)
class EngineOptions:
    owner: str = "promotebot"  # names this process in locks
    lock_ttl: timedelta = timedelta(seconds=60)
    gate_ttl: timedelta = timedelta(hours=24)  # a promotion waiting longer than this expires


def closest(word: str, choices: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return found[0] if found else None


class Engine:
    def __init__(
        self,
        pipeline: Pipeline,
        store: RedisStore,
        forge: Forge,
        cluster: Cluster,
        directory: Directory,
        notifier: Notifier,
        clock: Clock,
        options: EngineOptions | None = None,
        workspace: Workspace | None = None,
    ):
        self.pipeline = pipeline
        self.store = store
        self.forge = forge
        self.cluster = cluster
        self.directory = directory
        self.notifier = notifier
        self.clock = clock
        self.options = options or EngineOptions()
        self.workspace = workspace
        self._notify_lock = threading.Lock()

    # -- lookups -----------------------------------------------------------------------------

    def app(self, name: str | None, channel: str | None = None) -> App:
        """The app named, or the one the channel (or a one-app pipeline) implies."""
        apps = self.pipeline.apps
        if name is None:
            if len(apps) == 1:
                return next(iter(apps.values()))
            for app in apps.values():
                if channel in (app.channels.deploys, app.channels.incidents):
                    return app
            raise UnknownApp(
                f"this channel belongs to no app: name one of {', '.join(apps)} "
                f"(for example `{next(iter(apps))}`)"
            )
        if name not in apps:
            hint = closest(name, tuple(apps))
            suggestion = f"did you mean `{hint}`?" if hint else f"apps: {', '.join(apps)}"
            raise UnknownApp(f"there is no app `{name}`: {suggestion}")
        return apps[name]

    def env(self, app: App, name: str) -> Environment:
        if not app.has_env(name):
            hint = closest(name, app.env_names)
            suggestion = f"did you mean `{hint}`?" if hint else ""
            raise UnknownEnv(
                f"{app.name} has no environment `{name}` (it has {', '.join(app.env_names)})"
                + (f": {suggestion}" if suggestion else "")
            )
        return app.env(name)

    def get(self, promotion_id: int) -> Promotion:
        record = self.store.get(promotion_id)
        if record is None:
            raise NotFound(f"there is no promotion #{promotion_id}")
        return record

    def status(self, app_name: str | None, channel: str | None = None) -> AppStatus:
        return read_status(self.app(app_name, channel), self.forge, self.cluster, self.store)

    # -- commands ----------------------------------------------------------------------------

    def request(
        self,
        app_name: str | None,
        env_name: str,
        user: str,
        *,
        source: str | None = None,
        channel: str | None = None,
        rollback_plan: str | None = None,
    ) -> Promotion:
        """Validate a promotion into `env_name` and record it; `advance` does the rest."""
        app = self.app(app_name, channel)
        env = self.env(app, env_name)
        src = app.source_of(env.name)
        if src is None:
            raise OrderViolation(
                f"{env.name} is the first environment of {app.name}: nothing is promoted into it. "
                f"Push to the {env.branch} branch and Flux deploys it"
            )
        if source is not None and source != src.name:
            self.env(app, source)
            raise OrderViolation(
                f"{env.name} is promoted from {src.name}, never from {source}: environments go "
                f"{' -> '.join(app.env_names)}. Promote to {src.name} first"
            )
        self._check_not_blocked(app, env)
        self._check_no_live(app, env)
        head = self.forge.branch_head(app.repository, src.branch)
        status = self.cluster.kustomization(src.kustomization)
        self._check_source_ready(src, status, head, env)
        comparison = self.forge.compare(app.repository, env.branch, src.branch)
        if comparison.ahead_by == 0:
            raise NothingToPromote(
                f"{env.branch} already has everything in {src.branch}: nothing to promote to "
                f"{env.name}"
            )
        now = self.clock.now()
        record = Promotion(
            id=self.store.next_id(),
            kind=Kind.PROMOTION,
            app=app.name,
            env=env.name,
            source_env=src.name,
            source_branch=src.branch,
            target_branch=env.branch,
            requested_by=user,
            requested_at=now,
            head_sha=head,
            rollback_plan=rollback_plan,
            updated_at=now,
        )
        event = self._event("requested", record, user, f"{src.branch}@{head[:7]} -> {env.branch}")
        try:
            record = self.store.create(record, event)
        except ConcurrentUpdate:
            self._check_no_live(app, env)  # raises AlreadyLive with the winner's details
            raise
        self._notify(record, event)
        return record

    def approve(self, promotion_id: int, user: str, sha: str | None = None) -> Promotion:
        """A stakeholder's approval of the pinned head (`sha`: the head the approver saw)."""
        record = self._live(promotion_id, "approve")
        app = self.app(record.app)
        env = self.env(app, record.env)
        if env.gates.stakeholder_approvals == 0:
            raise NotAllowed(
                f"{env.name} needs no stakeholder approval: its gates are on the pull request"
            )
        self._check_stakeholder(app, record, user, "approve")
        if record.state not in (State.PR_OPEN, State.AWAITING_GATES):
            raise NotAllowed(self._not_now(record, "approved"))
        if sha is not None and sha != record.head_sha:
            raise StaleApproval(
                f"you approved {sha[:7]}, but the pull request head is now {record.short_sha}: "
                f"review the new commits, then approve again"
            )
        if user in record.approvers():
            return record
        approval = Approval(user, record.head_sha or "", self.clock.now())
        event = self._event("approved", record, user, f"approved {record.short_sha}")
        record = self._transition(record, event, approvals=(*record.approvals, approval))
        return self.advance(record.id)

    def reject(self, promotion_id: int, user: str, reason: str) -> Promotion:
        record = self._live(promotion_id, "reject")
        app = self.app(record.app)
        self._check_stakeholder(app, record, user, "reject")
        if not reason.strip():
            raise NotAllowed("a rejection needs a reason: say what must change")
        if record.state not in BEFORE_MERGE:
            raise NotAllowed(self._not_now(record, "rejected"))
        event = self._event("rejected", record, user, reason.strip())
        rejection = Rejection(user, reason.strip(), self.clock.now())
        record = self._finish(record, State.REJECTED, event, rejection=rejection)
        self._comment(record, f"Rejected by @{user}: {reason.strip()}")
        return record

    def cancel(self, promotion_id: int, user: str) -> Promotion:
        record = self._live(promotion_id, "cancel")
        app = self.app(record.app)
        if user != record.requested_by and not self.directory.is_member(
            app.groups.stakeholders, user
        ):
            raise NotAllowed(
                f"only @{record.requested_by}, who asked for #{record.id}, or a stakeholder can "
                f"cancel it"
            )
        if record.state not in BEFORE_MERGE:
            raise NotAllowed(self._not_now(record, "cancelled"))
        event = self._event("cancelled", record, user)
        record = self._finish(record, State.CANCELLED, event)
        self._comment(record, f"Cancelled by @{user}.")
        return record

    def set_rollback_plan(self, promotion_id: int, user: str, plan: str) -> Promotion:
        record = self._live(promotion_id, "add a rollback plan to")
        if not plan.strip():
            raise NotAllowed("the rollback plan is empty: say how to undo this change")
        if record.state not in BEFORE_MERGE:
            raise NotAllowed(self._not_now(record, "given a rollback plan"))
        event = self._event("rollback_plan", record, user, plan.strip())
        record = self._transition(record, event, rollback_plan=plan.strip())
        if record.pr_number is not None:
            app = self.app(record.app)
            pull = self.forge.get_pull(app.repository, record.pr_number)
            self.forge.update_pull_body(
                app.repository, record.pr_number, _with_plan(pull.body, plan.strip(), user)
            )
        return self.advance(record.id)

    def freeze(self, app_name: str | None, env_name: str, user: str, reason: str,
               channel: str | None = None) -> Block:
        app = self.app(app_name, channel)
        env = self.env(app, env_name)
        block = Block("freeze", app.name, env.name, user, reason.strip() or "no reason given",
                      self.clock.now())
        self.store.set_block(block, Event("frozen", None, app.name, env.name, user,
                                          block.at, block.reason))
        self._comment_live(app, env, f"{env.name} is frozen by @{user} ({block.reason}): no "
                                     f"promotion into it starts until /promote unfreeze "
                                     f"{env.name}.")
        return block

    def unfreeze(self, app_name: str | None, env_name: str, user: str,
                 channel: str | None = None) -> bool:
        app = self.app(app_name, channel)
        env = self.env(app, env_name)
        self.check_may_lift(app, env, "freeze", user)
        lifted = self.store.clear_block(
            "freeze", app.name, env.name,
            Event("unfrozen", None, app.name, env.name, user, self.clock.now()),
        )
        if lifted:
            self._comment_live(app, env, f"{env.name} is no longer frozen (@{user}).")
        return lifted

    def check_may_lift(self, app: App, env: Environment, kind: str, user: str) -> None:
        """A freeze or a hold is lifted by whoever placed it, a stakeholder or on-call."""
        block = next((b for b in self.store.blocks(app.name, env.name) if b.kind == kind), None)
        if block is None or user == block.by:
            return
        groups = (app.groups.stakeholders, app.groups.oncall)
        if any(group and self.directory.is_member(group, user) for group in groups):
            return
        what = "frozen" if kind == "freeze" else "put on hold"
        raise NotAllowed(
            f"{env.name} was {what} by @{block.by}: only they, {app.name}'s stakeholders or its "
            f"on-call responders can lift it; ask one of them"
        )

    def _comment_live(self, app: App, env: Environment, text: str) -> None:
        """Tell the pull request of the env's live record, if it has one."""
        live = self.store.live(app.name, env.name)
        if live is not None:
            self._comment(live, text)

    # -- driving a record forward ------------------------------------------------------------

    def advance(self, promotion_id: int, status: KustomizationStatus | None = None) -> Promotion:
        """Take every step the world allows now; return the record as it stands after them.

        Safe to call from anywhere at any time (a button, a webhook, the scheduler, the shared
        watch, a restart): a step another caller already took is simply not taken again."""
        for _ in range(8):  # each step moves the state forward; a handful is always enough
            record = self.get(promotion_id)
            before = (record.state, record.version)
            try:
                record = self._step(record, status)
            except ConcurrentUpdate:
                continue  # someone else moved it: look again
            if (record.state, record.version) == before or not record.live:
                return record
        return self.get(promotion_id)

    def resume(self) -> list[Promotion]:
        """After a restart: take up every live record where it was left, and finish the branch
        sync or backport of a deploy that a crash interrupted."""
        for promotion_id in self.store.aftercare_due():
            record = self.store.get(promotion_id)
            if record is not None and record.state is State.DEPLOYED:
                self._aftercare(record)
            elif record is None or not record.live:
                self.store.clear_aftercare(promotion_id)
        return [self._safe_advance(p.id) for p in self.store.live_all()]

    def _aftercare(self, record: Promotion) -> None:
        """Sync or backport after a deploy (slackbot/aftercare.py); safe to run again."""
        aftercare.after_deploy(self, record)
        self.store.clear_aftercare(record.id)

    def tick(self) -> list[Promotion]:
        """The scheduled job: expire records waiting too long, re-read gates, check timeouts."""
        results = []
        now = self.clock.now()
        for record in self.store.live_all():
            # A merge scheduled for a change window waits for it without expiring.
            waiting_since = max(record.requested_at, record.merge_not_before or record.requested_at)
            if record.state in BEFORE_MERGE and now - waiting_since > self.options.gate_ttl:
                event = self._event("expired", record, self.options.owner,
                                    f"waited more than {self.options.gate_ttl} for its gates")
                with contextlib.suppress(ConcurrentUpdate):
                    results.append(self._finish(record, State.EXPIRED, event,
                                                failure="expired waiting for its gates"))
                continue
            results.append(self._safe_advance(record.id))
        return results

    def _safe_advance(self, promotion_id: int) -> Promotion:
        try:
            return self.advance(promotion_id)
        except AdapterError:
            log.exception("promotion %s: an outside service failed; will retry", promotion_id)
            return self.get(promotion_id)

    def _step(self, record: Promotion, status: KustomizationStatus | None) -> Promotion:
        if record.state is State.REQUESTED:
            if record.kind is Kind.ROLLBACK and record.extra.get("mode") == DIRECT:
                return self._begin_direct_revert(record)
            if record.kind is Kind.ROLLBACK:
                self._prepare_revert_branch(record)
            return self._open_pull(record)
        if record.state in (State.PR_OPEN, State.AWAITING_GATES):
            return self._evaluate(record)
        if record.state is State.MERGING:
            return self._merge(record)
        if record.state is State.RECONCILING:
            return self._observe(record, status)
        return record

    def _open_pull(self, record: Promotion) -> Promotion:
        app = self.app(record.app)
        pull = self.forge.find_open_pull(app.repository, record.target_branch, record.source_branch)
        adopted = pull is not None
        if pull is None:
            comparison = self.forge.compare(
                app.repository, record.target_branch, record.source_branch
            )
            body = _pull_body(record, comparison.commits, comparison.files)
            title = _pull_title(record, app.name, comparison.ahead_by)
            pull = self.forge.open_pull(
                app.repository, record.target_branch, record.source_branch, title, body
            )
        if record.rollback_plan:
            self.forge.update_pull_body(
                app.repository, pull.number,
                _with_plan(pull.body, record.rollback_plan, record.requested_by),
            )
        detail = f"{'adopted' if adopted else 'opened'} #{pull.number} {pull.url}"
        event = self._event("pr_opened", record, self.options.owner, detail)
        changes: RecordChanges = {"pr_number": pull.number, "pr_url": pull.url}
        if pull.head_sha != record.head_sha:
            changes["head_sha"] = pull.head_sha
        return self._transition(record, event, State.PR_OPEN, **changes)

    def _evaluate(self, record: Promotion) -> Promotion:
        app = self.app(record.app)
        env = self.env(app, record.env)
        assert record.pr_number is not None
        pull = self.forge.get_pull(app.repository, record.pr_number)
        if pull.merged or pull.state != "open":
            how = "merged outside promotebot" if pull.merged else "closed"
            event = self._event("failed", record, self.options.owner, f"the pull request was {how}")
            return self._finish(
                record, State.FAILED, event,
                failure=f"the pull request #{pull.number} was {how}: /promote {record.env} again",
            )
        if pull.head_sha != record.head_sha:
            voided = record.approvers()
            detail = f"the pull request head moved from {record.short_sha} to {pull.head_sha[:7]}"
            if voided:
                detail += ": approvals given for the old head no longer count"
            event = self._event("head_moved", record, self.options.owner, detail)
            extra = {**record.extra, "voided": ",".join(voided)} if voided else record.extra
            return self._transition(record, event, head_sha=pull.head_sha, extra=extra)
        src = app.env(record.source_env) if record.source_env else None
        facts = gate_rules.Facts(
            sha=pull.head_sha,
            now=self.clock.now(),
            source_env=src.name if src else None,
            source_branch=src.branch if src else None,
            source_status=self.cluster.kustomization(src.kustomization) if src else None,
            checks=self.forge.check_states(app.repository, pull.head_sha)
            if env.gates.required_checks else {},
            reviews=tuple(self.forge.reviews(app.repository, pull.number))
            if env.gates.required_reviews else (),
            approvers=record.approvers(),
            rollback_plan=record.rollback_plan,
        )
        gates = env.gates
        if record.kind is Kind.ROLLBACK:  # a rollback's own rollback plan is the original change
            gates = dataclasses.replace(gates, rollback_plan=False)
        results = gate_rules.evaluate(gates, facts)
        failed = gate_rules.terminal_failure(results)
        if failed is not None:
            event = self._event("failed", record, self.options.owner, failed.detail)
            reason = f"{failed.detail} on {record.short_sha}: {_next_step(record)}"
            return self._finish(record, State.FAILED, event, gates=results, failure=reason)
        if gate_rules.all_passed(results):
            event = self._event("gates_passed", record, self.options.owner, "every gate is green")
            if record.state is State.PR_OPEN:
                record = self._transition(record, event, State.AWAITING_GATES, gates=results)
                event = self._event("merging", record, self.options.owner)
            return self._begin_merge(record, event, results)
        changes: RecordChanges = {}
        window_only = gate_rules.all_passed(results, ignore=(gate_rules.WINDOW,))
        if window_only:
            opens = gates.next_window(facts.now)
            if record.merge_not_before != opens:
                changes["merge_not_before"] = opens
        if record.state is State.PR_OPEN:
            event = self._event("awaiting_gates", record, self.options.owner, _summary(results))
            return self._transition(record, event, State.AWAITING_GATES, gates=results, **changes)
        if results != record.gates or changes:
            kind = "merge_scheduled" if "merge_not_before" in changes else "gates"
            detail = (
                f"merge scheduled for {changes['merge_not_before']:%a %Y-%m-%d %H:%M} UTC"
                if kind == "merge_scheduled" else _summary(results)
            )
            event = self._event(kind, record, self.options.owner, detail)
            return self._transition(record, event, gates=results, **changes)
        return record

    def _begin_merge(
        self, record: Promotion, event: Event, results: tuple[GateResult, ...]
    ) -> Promotion:
        fence = self._lock(record)
        if fence is None:
            return record  # another worker holds the env: it will merge
        try:
            record = self._transition(record, event, State.MERGING, fence=fence, gates=results)
            return self._merge(record, fence)
        finally:
            self.store.release(fence)

    def _merge(self, record: Promotion, fence: Fence | None = None) -> Promotion:
        """Merge exactly the pinned head, then ask Flux to reconcile at once."""
        own_lock = fence is None
        if fence is None:
            fence = self._lock(record)
            if fence is None:
                return record
        try:
            record = self.get(record.id)
            if record.state is not State.MERGING:
                return record
            app = self.app(record.app)
            if record.extra.get("mode") == DIRECT:
                return self._push_revert(record, fence)
            assert record.pr_number is not None and record.head_sha is not None
            pull = self.forge.get_pull(app.repository, record.pr_number)
            if pull.merged and pull.merge_sha:
                merge_sha = pull.merge_sha  # merged before a crash: take up from there
            else:
                try:
                    merge_sha = self.forge.merge_pull(
                        app.repository, record.pr_number, record.head_sha,
                        _merge_title(record, app.name),
                    )
                except HeadMoved:
                    reason = (
                        f"the pull request head moved after approval (it was {record.short_sha}): "
                        f"nothing was merged; {_again(record)} to review the new head"
                    )
                    return self._fail(record, reason, fence)
                except (MergeConflict, NotMergeable) as exc:
                    reason = (
                        f"the pull request #{record.pr_number} cannot be merged ({exc}): resolve "
                        f"the conflict between {record.source_branch} and {record.target_branch}, "
                        f"then {_again(record)}"
                    )
                    return self._fail(record, reason, fence)
            record = self._merged(record, merge_sha, fence, "merged")
            self._comment(record, f"Merged {merge_sha[:7]} for @{record.requested_by} "
                                  f"({record.kind.value} #{record.id}); waiting for Flux.")
            return record
        except StaleFence:
            return self.get(record.id)
        finally:
            if own_lock:
                self.store.release(fence)

    def _merged(self, record: Promotion, merge_sha: str, fence: Fence, kind: str) -> Promotion:
        """Record the commit now on the target branch and ask Flux to reconcile at once."""
        env = self.env(self.app(record.app), record.env)
        now = self.clock.now()
        token = f"promotebot-{record.id}-{now.isoformat()}"
        event = self._event(kind, record, self.options.owner, merge_sha)
        record = self._transition(
            record, event, State.RECONCILING, fence=fence,
            merge_sha=merge_sha, merged_at=now, reconcile_token=token,
        )
        try:
            self.cluster.request_reconcile(env.kustomization, env.git_repository, token)
        except AdapterError:
            log.exception("promotion %s: reconcile request failed; Flux will poll", record.id)
        return record

    # -- rollbacks that revert the branch itself (dev, and emergencies on prod) ----------------

    def _begin_direct_revert(self, record: Promotion) -> Promotion:
        fence = self._lock(record)
        if fence is None:
            return record
        try:
            event = self._event("reverting", record, self.options.owner,
                                f"reverting {record.target_branch} to "
                                f"{record.extra.get('target_revision', '')[:7]}")
            record = self._transition(record, event, State.MERGING, fence=fence)
            return self._push_revert(record, fence)
        finally:
            self.store.release(fence)

    def _push_revert(self, record: Promotion, fence: Fence) -> Promotion:
        app = self.app(record.app)
        target = record.extra["target_revision"]
        head = self.forge.branch_head(app.repository, record.target_branch)
        if head != record.extra.get("from_head"):
            # A crash after the push: the revert is the branch head now (its parent is the old
            # head); anything else means someone pushed meanwhile.
            return self._merged(record, head, fence, "reverted")
        if self.workspace is None:
            return self._fail(record, "this promotebot has no git workspace: it cannot revert",
                              fence)
        try:
            sha = self.workspace.revert_to(
                app.repository, record.target_branch, target,
                revert_message(record, target), None,
            )
        except HeadMoved:
            return self._fail(record, f"{record.target_branch} moved while the revert was pushed: "
                                      f"nothing was reverted; /rollback {record.env} again", fence)
        return self._merged(record, sha, fence, "reverted")

    def _prepare_revert_branch(self, record: Promotion) -> None:
        """A rollback through a pull request: its branch holds one revert commit."""
        app = self.app(record.app)
        if self.forge.branch_exists(app.repository, record.source_branch):
            return
        if self.workspace is None:
            raise AdapterError("this promotebot has no git workspace: it cannot revert")
        target = record.extra["target_revision"]
        self.workspace.revert_to(app.repository, record.target_branch, target,
                                 revert_message(record, target), record.source_branch)

    def _observe(self, record: Promotion, status: KustomizationStatus | None) -> Promotion:
        """Judge Flux's progress on the merged revision, and the Deployments' rollout."""
        app = self.app(record.app)
        env = self.env(app, record.env)
        if status is None or status.ref != env.kustomization:
            status = self.cluster.kustomization(env.kustomization)
        expected = record.expected_revision
        now = self.clock.now()
        if status.last_applied_revision == expected and status.is_ready:
            rollouts = [self.cluster.rollout(env.namespace, d) for d in app.deployment_names]
            failed = next((r for r in rollouts if r.failed), None)
            if failed is not None:
                return self._fail(record, f"rollout of {failed.name} failed: {failed.message}")
            if all(r.complete for r in rollouts):
                pods = ", ".join(f"{r.name} {r.ready}/{r.desired}" for r in rollouts)
                event = self._event("deployed", record, self.options.owner,
                                    f"{expected} applied; {pods} ready")
                self.store.mark_aftercare(record.id)  # due until done, even across a crash
                record = self._finish(record, State.DEPLOYED, event,
                                      extra={**record.extra, "progress": f"{pods} ready"})
                self._aftercare(record)
                return record
            progress = "rollout: " + ", ".join(f"{r.name} {r.ready}/{r.desired} ready"
                                               for r in rollouts)
        elif (
            status.ready == "False"
            and status.reason in FLUX_FAILURES
            and status.last_attempted_revision == expected
        ):
            return self._fail(record, f"Flux could not apply {_short_rev(expected)} to "
                                      f"{env.name}: {status.reason}: {status.message}")
        elif status.suspended:
            progress = f"{env.kustomization.name} is suspended: resume it to deploy"
        elif status.reason == "DependencyNotReady":
            progress = f"waiting for a dependency: {status.message}"
        elif self.cluster.source_revision(env.git_repository) == expected:
            progress = f"source fetched {_short_rev(expected)}; applying"
        else:
            progress = "waiting for Flux to fetch the merge"
        deadline = (record.merged_at or now) + env.timeout
        if now > deadline:
            return self._fail(record, f"{env.name} did not apply {_short_rev(expected)} within "
                                      f"{_duration(env.timeout)} ({progress}; Flux says: "
                                      f"{status.reason or 'no status'} {status.message})".strip())
        if record.extra.get("progress") == progress:
            return record
        event = self._event("progress", record, self.options.owner, progress)
        return self._transition(record, event, extra={**record.extra, "progress": progress})

    # -- rules ---------------------------------------------------------------------------------

    def _check_not_blocked(self, app: App, env: Environment) -> None:
        for block in self.store.blocks(app.name, env.name):
            since = block.at.strftime("%Y-%m-%d %H:%M UTC")
            if block.kind == "freeze":
                raise EnvBlocked(
                    f"{env.name} is frozen by @{block.by} since {since} ({block.reason}): "
                    f"ask them, or /promote unfreeze {env.name} when it is over"
                )
            raise EnvBlocked(
                f"{env.name} is on hold by @{block.by} since {since} ({block.reason}): "
                f"fix the cause, then /promote unlock {env.name}"
            )

    def _check_no_live(self, app: App, env: Environment) -> None:
        live = self.store.live(app.name, env.name)
        if live is not None:
            raise AlreadyLive(
                f"{env.name} already has a live {live.kind.value} (#{live.id} by "
                f"@{live.requested_by}, {live.state.label}): cancel it or wait for it to finish"
            )

    def _check_source_ready(
        self, src: Environment, status: KustomizationStatus, head: str, env: Environment
    ) -> None:
        want = f"{src.branch}@sha1:{head}"
        if not status.settled:
            raise SourceNotReady(
                f"{src.name} is not Ready in Flux ({status.reason or 'no status'}: "
                f"{status.message}): fix {src.name} first, then /promote {env.name}"
            )
        if status.last_applied_revision != want:
            runs = _short_rev(status.last_applied_revision) if status.last_applied_revision else (
                "nothing yet")
            raise SourceNotReady(
                f"{src.name} has not applied the head of {src.branch} ({head[:7]}) yet; it runs "
                f"{runs}: wait for Flux to deploy it to {src.name}, then /promote {env.name} again"
            )

    def _check_stakeholder(self, app: App, record: Promotion, user: str, verb: str) -> None:
        if user == record.requested_by:
            raise NotAllowed(
                f"you asked for #{record.id}, so you cannot {verb} it: ask another member of "
                f"the stakeholder group"
            )
        if not self.directory.is_member(app.groups.stakeholders, user):
            raise NotAllowed(
                f"only members of {app.name}'s stakeholder group can {verb} promotions to "
                f"{record.env}: ask one of them"
            )

    def _live(self, promotion_id: int, verb: str) -> Promotion:
        record = self.get(promotion_id)
        if not record.live:
            raise AlreadyFinished(
                f"#{record.id} is already {record.state.label}: there is nothing to {verb}"
            )
        return record

    @staticmethod
    def _not_now(record: Promotion, done: str) -> str:
        if record.state is State.REQUESTED:
            return f"#{record.id} has no pull request yet: wait a moment"
        return (
            f"#{record.id} is already {record.state.label}: it can no longer be {done}; "
            f"use /rollback {record.env} to undo it"
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _lock(self, record: Promotion) -> Fence | None:
        ttl = int(self.options.lock_ttl.total_seconds() * 1000)
        return self.store.acquire(record.app, record.env, self.options.owner, ttl)

    def _event(self, kind: str, record: Promotion, actor: str, detail: str = "") -> Event:
        return Event(kind, record.id, record.app, record.env, actor, self.clock.now(), detail)

    def _transition(
        self,
        record: Promotion,
        event: Event,
        state: State | None = None,
        fence: Fence | None = None,
        **changes: object,
    ) -> Promotion:
        record = self.store.transition(
            record, event, state, fence=fence, updated_at=self.clock.now(), **changes
        )
        self._notify(record, event)
        return record

    def _finish(
        self, record: Promotion, state: State, event: Event, **changes: object
    ) -> Promotion:
        return self._transition(
            record, event, state, fence=None, finished_at=self.clock.now(), **changes
        )

    def _fail(self, record: Promotion, reason: str, fence: Fence | None = None) -> Promotion:
        event = self._event("failed", record, self.options.owner, reason)
        return self._transition(
            record, event, State.FAILED, fence=fence, failure=reason,
            finished_at=self.clock.now(),
        )

    def comment_on(self, record: Promotion, text: str) -> None:
        self._comment(record, text)

    def notify(self, record: Promotion, event: Event) -> None:
        self._notify(record, event)

    def _comment(self, record: Promotion, text: str) -> None:
        if record.pr_number is None:
            return
        try:
            self.forge.comment(self.app(record.app).repository, record.pr_number, text)
        except AdapterError:
            log.exception("promotion %s: could not comment on the pull request", record.id)

    def _notify(self, record: Promotion, event: Event) -> None:
        """Tell the notifier, one record at a time, always from the newest stored version."""
        with self._notify_lock:
            latest = self.store.get(record.id) or record
            try:
                ref = self.notifier.promotion_changed(latest, event, self.store.notice(record.id))
            except Exception:  # a notice that failed must not undo a recorded step
                log.exception("promotion %s: the notifier failed", record.id)
                return
            if ref is not None:
                self.store.set_notice(record.id, ref)


def _short_rev(revision: str | None) -> str:
    if not revision:
        return "nothing"
    branch, _, sha = revision.partition("@sha1:")
    return f"{branch}@{sha[:7]}" if sha else revision


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def _summary(results: tuple[GateResult, ...]) -> str:
    return "; ".join(f"{r.name}: {r.detail}" for r in results) or "no gates"


def _pull_body(
    record: Promotion, commits: tuple[CommitInfo, ...], files: tuple[str, ...]
) -> str:
    lines = [
        f"Promotion #{record.id} of `{record.app}` from `{record.source_branch}` to "
        f"`{record.target_branch}`, requested by @{record.requested_by} through promotebot.",
        "",
        f"### Commits ({len(commits)})",
        *(f"- {c.sha[:7]} {c.message.splitlines()[0] if c.message else ''} ({c.author})"
          for c in commits),
        "",
        f"### Changed files ({len(files)})",
        *(f"- `{f}`" for f in files),
    ]
    return "\n".join(lines)


def _merge_title(record: Promotion, app: str) -> str:
    """The merge commit's title: what the change is, in the branch's history."""
    if record.kind is Kind.HOTFIX:
        return f"Hotfix {record.source_branch} into {record.env} ({record.short_sha}) #{record.id}"
    if record.kind is Kind.ROLLBACK:
        target = record.extra.get("target_revision", "")[:7]
        return f"Roll back {app} {record.env} to {target} #{record.id}"
    return f"Promote {app} to {record.env} ({record.short_sha}) #{record.id}"


def _again(record: Promotion) -> str:
    """The command that starts this kind of record over."""
    if record.kind is Kind.ROLLBACK:
        return f"/rollback {record.env} again"
    if record.kind is Kind.HOTFIX:
        return f"/hotfix promote {record.extra.get('hotfix', record.source_branch)} again"
    return f"/promote {record.env} again"


def _next_step(record: Promotion) -> str:
    """What to do after a required check failed on the record's head."""
    if record.kind is Kind.ROLLBACK:
        return f"re-run it on the revert, or {_again(record)}"
    return f"fix it on {record.source_branch}, then {_again(record)}"


def _pull_title(record: Promotion, app: str, commits: int) -> str:
    if record.kind is Kind.ROLLBACK:
        target = record.extra.get("target_revision", "")[:7]
        return f"Roll back {app} {record.env} to {target} (#{record.id})"
    if record.kind is Kind.HOTFIX:
        return f"Hotfix {record.source_branch} into {record.env} ({commits} commits)"
    return f"Promote {app} to {record.env} ({commits} commits)"


def revert_message(record: Promotion, target: str) -> str:
    head = record.extra.get("from_head", "")
    return (
        f"Roll back {record.target_branch} to {target[:7]} (rollback #{record.id})\n\n"
        f"This reverts {record.target_branch} from {head} back to {target}: the tree of\n"
        f"{target} on top of {head}, as `git revert -m 1` of each merge since would give.\n"
        f"Requested by @{record.requested_by} through promotebot."
    )


PLAN_MARKER = "### Rollback plan"


def _with_plan(body: str, plan: str, user: str) -> str:
    kept = body.split(PLAN_MARKER)[0].rstrip()
    return f"{kept}\n\n{PLAN_MARKER}\n\n{plan}\n\n_(written by @{user})_\n"
