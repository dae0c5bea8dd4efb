"""The point of no return: merging exactly the approved head, or pushing a rollback's revert,
under the env's lock, then asking Flux to reconcile at once.

The merge carries GitHub's sha guard, so only the pinned head can land. A merge interrupted
by a crash, or whose answer was lost, is taken up from GitHub's answer (the pull request
already merged at the pinned head), never done twice: every refusal is checked against a
fresh read of the pull request before it is recorded. A merge GitHub asks to try again (its
base-branch race) stays in `merging` for the next tick; one that GitHub's branch protection
refuses fails naming the rule. Every write is fenced: a worker whose lock was taken over
cannot record anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slackbot.engine import writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import (
    AdapterError,
    ForgeError,
    ForgeUnavailable,
    HeadMoved,
    MergeConflict,
    MergeLater,
    NotMergeable,
    Protected,
    StaleFence,
)
from slackbot.events import Facts, Merged, Reverted, Reverting
from slackbot.models import GateResult, Kind, Promotion, State
from slackbot.ports import Cluster, Fence, Forge, PullRequest, Workspace
from slackbot.reasons import Code, Next, Reason

log = logging.getLogger(__name__)


class Merger:
    def __init__(self, lookup: Lookup, records: Records, forge: Forge, cluster: Cluster,
                 workspace: Workspace,
                 deployment: Callable[[Promotion, str], int | None] | None = None):
        self._lookup = lookup
        self._deployment = deployment  # the GitHub Deployment of a merge (engine/writeback.py)
        self._records = records
        self._forge = forge
        self._cluster = cluster
        self._workspace = workspace

    def begin_merge(self, record: Promotion, facts: Facts,
                    results: tuple[GateResult, ...]) -> Promotion:
        fence = self._records.lock(record)
        if fence is None:
            return record  # another worker holds the env: it will merge
        try:
            record = self._records.transition(record, facts, State.MERGING, fence=fence,
                                              gates=results)
            return self._merge(record, fence)
        finally:
            self._records.unlock(fence)

    def merge(self, record: Promotion) -> Promotion:
        """Resume a record found in `merging` (a crash, or a lost race for the lock)."""
        fence = self._records.lock(record)
        if fence is None:
            return record
        try:
            return self._merge(record, fence)
        finally:
            self._records.unlock(fence)

    def _merge(self, record: Promotion, fence: Fence) -> Promotion:
        try:
            record = self._records.get(record.id)
            if record.state is not State.MERGING:
                return record
            if record.direct:
                return self._push_revert(record, fence)
            return self._merge_pull(record, fence)
        except StaleFence:
            return self._records.get(record.id)

    def _merge_pull(self, record: Promotion, fence: Fence) -> Promotion:
        repository = self._lookup.app(record.app).repository
        assert record.pr_number is not None and record.head_sha is not None
        pull = self._forge.get_pull(repository, record.pr_number)
        if pull.merged and pull.merge_sha:
            return self._taken_up(record, pull, fence)  # merged before a crash
        try:
            merge_sha = self._forge.merge_pull(repository, record.pr_number,
                                               record.head_sha, writing.merge_title(record))
        except MergeLater:
            return record  # GitHub asked to try again (its base-branch race): the next tick
        except (ForgeError, Protected) as exc:
            self._forge.refresh(repository)  # did it merge after all (a lost answer)?
            pull = self._forge.get_pull(repository, record.pr_number)
            if pull.merged and pull.merge_sha:
                return self._taken_up(record, pull, fence)
            if isinstance(exc, ForgeUnavailable):
                raise  # GitHub is down or limiting: the record waits in merging, saying so
            return self._records.fail(record, self._refusal(record, exc), fence)
        # No comment: GitHub's timeline shows the merge (and the Deployment, when written
        # back), and the status section says it with the deploy's outcome.
        return self._merged(record, merge_sha, fence, Merged(merge_sha))

    def _taken_up(self, record: Promotion, pull: PullRequest, fence: Fence) -> Promotion:
        """The pull request is merged already: by this merge (an answer lost, a crash) when
        at the pinned head, else by someone outside promotebot."""
        assert pull.merge_sha is not None
        if pull.head_sha != record.head_sha:
            return self._records.fail(record, Reason(
                Code.PULL_MERGED_OUTSIDE, Next.PROMOTE_AGAIN, env=record.env, kind=record.kind,
                pull=pull.number), fence)
        return self._merged(record, pull.merge_sha, fence, Merged(pull.merge_sha))

    @staticmethod
    def _refusal(record: Promotion, exc: Exception) -> Reason:
        name = record.hotfix.name if record.hotfix else None
        if isinstance(exc, HeadMoved):
            return Reason(Code.HEAD_MOVED, Next.REVIEW_NEW_HEAD, env=record.env,
                          kind=record.kind, sha=record.head_sha, name=name)
        if isinstance(exc, Protected):
            return Reason(Code.PROTECTED, Next.GRANT_BYPASS, env=record.env, kind=record.kind,
                          branch=exc.branch, pull=record.pr_number, message=exc.rule, name=name)
        if isinstance(exc, MergeConflict | NotMergeable):
            return Reason(Code.NOT_MERGEABLE, Next.RESOLVE_CONFLICT, env=record.env,
                          kind=record.kind, pull=record.pr_number, branch=record.source_branch,
                          target=record.target_branch, message=str(exc), name=name)
        return Reason(Code.MERGE_REFUSED, _again(record), env=record.env, kind=record.kind,
                      pull=record.pr_number, message=str(exc), name=name)

    # -- rollbacks that revert the branch itself (dev, and emergencies on prod) ----------------

    def begin_direct_revert(self, record: Promotion) -> Promotion:
        fence = self._records.lock(record)
        if fence is None:
            return record
        try:
            assert record.rollback is not None
            record = self._records.transition(record, Reverting(record.rollback.target),
                                              State.MERGING, fence=fence)
            return self._merge(record, fence)
        finally:
            self._records.unlock(fence)

    def _push_revert(self, record: Promotion, fence: Fence) -> Promotion:
        assert record.rollback is not None
        repository = self._lookup.app(record.app).repository
        head = self._forge.branch_head(repository, record.target_branch)
        if head != record.rollback.from_head:
            # A crash after the push: the revert is the branch head now (its parent is the old
            # head); anything else means someone pushed meanwhile.
            return self._merged(record, head, fence, Reverted(head))
        try:
            sha = self._make_revert(record, None)
        except HeadMoved:
            return self._records.fail(record, Reason(Code.REVERT_RACED, Next.ROLLBACK_AGAIN,
                                                     env=record.env,
                                                     branch=record.target_branch), fence)
        except MergeConflict:
            return self._records.fail(record, self._conflict(record), fence)
        except Protected as exc:
            return self._records.fail(record, _protected(record, exc), fence)
        if sha is None:
            return self._records.fail(record, Reason(Code.REVERT_EMPTY, env=record.env,
                                                     branch=record.target_branch), fence)
        return self._merged(record, sha, fence, Reverted(sha))

    def prepare_revert_branch(self, record: Promotion) -> Promotion | None:
        """A rollback through a pull request: its branch holds one revert commit. The record
        failed when there is no revert to make (it conflicts, or changes nothing), or when
        GitHub's protection refused the branch."""
        assert record.rollback is not None
        repository = self._lookup.app(record.app).repository
        if self._forge.branch_exists(repository, record.source_branch):
            return None
        try:
            sha = self._make_revert(record, record.source_branch)
        except MergeConflict:
            return self._records.fail(record, self._conflict(record))
        except Protected as exc:
            return self._records.fail(record, _protected(record, exc))
        if sha is None:
            return self._records.fail(record, Reason(Code.REVERT_EMPTY, env=record.env,
                                                     branch=record.target_branch))
        return None

    def _make_revert(self, record: Promotion, new_branch: str | None) -> str | None:
        """The revert commit, pushed to the target branch or to `new_branch`: the target's
        tree on top of the head, or (with a base) the change from base to target applied."""
        assert record.rollback is not None
        spec, repository = record.rollback, self._lookup.app(record.app).repository
        requester = self._records.person(record.requested_by)
        if spec.base is None:
            return self._workspace.revert_to(repository, record.target_branch, spec.target,
                                             writing.revert_message(record, requester),
                                             new_branch)
        if spec.undoes is not None:
            message = writing.undo_message(record, self._records.get(spec.undoes), requester)
        else:
            message = writing.revert_message(record, requester)
        applied = self._workspace.apply_change(repository, record.target_branch, spec.base,
                                               spec.target, message, new_branch)
        return applied.sha if applied else None

    @staticmethod
    def _conflict(record: Promotion) -> Reason:
        assert record.rollback is not None
        return Reason(Code.REVERT_CONFLICT, Next.REVERT_BY_HAND, env=record.env,
                      branch=record.target_branch, sha=record.rollback.base,
                      target=record.rollback.target, record=record.rollback.undoes,
                      kind=record.kind)

    def _merged(self, record: Promotion, merge_sha: str, fence: Fence,
                facts: Facts) -> Promotion:
        """Record the commit now on the target branch and ask Flux's source to fetch it at
        once; the verdict asks the Kustomization when the source has it (verdict.py)."""
        env = self._lookup.env(self._lookup.app(record.app), record.env)
        now = self._records.clock.now()
        token = f"promotebot-{record.id}-{now.isoformat()}"
        deployment = self._deployment(record, merge_sha) if self._deployment else None
        record = self._records.transition(record, facts, State.RECONCILING, fence=fence,
                                          merge_sha=merge_sha, merged_at=now,
                                          reconcile_token=token, deployment_id=deployment)
        try:
            self._cluster.request_source_reconcile(env.git_repository, token)
        except AdapterError:
            log.exception("promotion %s: reconcile request failed; Flux will poll", record.id)
        return record



def _again(record: Promotion) -> Next:
    if record.kind is Kind.ROLLBACK:
        return Next.ROLLBACK_AGAIN
    if record.kind is Kind.HOTFIX:
        return Next.HOTFIX_PROMOTE_AGAIN
    return Next.PROMOTE_AGAIN


def _protected(record: Promotion, exc: Protected) -> Reason:
    """GitHub's branch protection refused the bot's push: the rule it named."""
    return Reason(Code.PROTECTED, Next.GRANT_BYPASS, env=record.env, kind=record.kind,
                  branch=exc.branch, message=exc.rule)
