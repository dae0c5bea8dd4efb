"""Judging a merged record by what Flux and the rollout really show: deployed, failed, or still
on its way (and where: fetching, applying, waiting on a dependency, suspended, rolling out).

"Deployed" means the env's Kustomization applied exactly the merged revision, is Ready, and
every Deployment of the app rolled out. A failure Flux reports on that revision, or a rollout
past its deadline, fails the record with Flux's own words; so does the env's timeout (never
shorter than Flux may take: deploy_deadline). Flux
keeps retrying after either: a merged record that failed is still watched for a while
(Options.recovery_watch), and when Flux applies its revision Ready after all, it is deployed,
"recovered", and what follows a deploy runs. A record waiting on its dependsOn chain names the
chain's root.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from slackbot.engine import chain
from slackbot.engine.aftercare import Aftercare
from slackbot.engine.chain import FLUX_FAILURES
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import AdapterError
from slackbot.events import Deployed, Progressed, Recovered
from slackbot.models import Promotion, State
from slackbot.pipeline import Environment
from slackbot.ports import Cluster, Forge, KustomizationStatus, Store
from slackbot.progress import Pods, Progress, Stage
from slackbot.reasons import Code, Next, Reason

__all__ = ["FLUX_FAILURES", "RECOVERABLE", "Verdict"]

# Failures after the merge that Flux may still undo by applying the revision on a retry.
RECOVERABLE = frozenset({Code.FLUX_FAILED, Code.TIMED_OUT, Code.ROLLOUT_FAILED})
FETCH_GRACE = timedelta(minutes=1)  # the source's fetch and the apply, beyond health checks
log = logging.getLogger(__name__)


class Verdict:
    def __init__(self, lookup: Lookup, records: Records, store: Store, cluster: Cluster,
                 aftercare: Aftercare, forge: Forge):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._cluster = cluster
        self._aftercare = aftercare
        self._forge = forge

    def watched(self, record: Promotion) -> bool:
        """A merged record that failed recently enough to be watched for a recovery."""
        return (record.state is State.FAILED and record.merged
                and record.failure is not None and record.failure.code in RECOVERABLE
                and record.finished_at is not None
                and self._records.clock.now() - record.finished_at
                <= self._records.options.recovery_watch)

    def recover(self, record: Promotion, status: KustomizationStatus | None) -> Promotion:
        """Deployed after all: Flux applied the failed record's revision Ready, its rollout is
        complete, and nothing merged into the env since (the branch is still at the merge)."""
        if not self.watched(record):
            return record
        app, env = self._lookup.app_env(record.app, record.env)
        if status is None or status.ref != env.kustomization:
            status = self._cluster.kustomization(env.kustomization)
        expected = record.expected_revision
        if expected is None or status.last_applied_revision != expected or not status.is_ready:
            return record
        rollouts = [self._cluster.rollout(env.namespace, d, env.cluster)
                    for d in app.deployment_names]
        if not all(r.complete for r in rollouts):
            return record
        try:
            if self._forge.branch_head(app.repository, record.target_branch) != record.merge_sha:
                return record  # something landed on top: what Flux applies is no longer ours
        except AdapterError:
            return record  # ask again at the next status
        pods = tuple(Pods(r.name, r.ready, r.desired) for r in rollouts)
        failure = record.failure
        assert failure is not None
        self._store.mark_aftercare(record.id)
        record = self._records.finish(
            record, State.DEPLOYED,
            Recovered(expected, _failed_with(failure), record.finished_at),
            progress=Progress(Stage.DONE, expected, pods=pods),
            recovered_at=self._records.clock.now())
        self._aftercare.run(record)
        return record

    def observe(self, record: Promotion, status: KustomizationStatus | None) -> Promotion:
        app, env = self._lookup.app_env(record.app, record.env)
        if status is None or status.ref != env.kustomization:
            status = self._cluster.kustomization(env.kustomization)
        expected = record.expected_revision
        now = self._records.clock.now()
        self._ask_kustomization(record, env, status)
        if status.last_applied_revision == expected and status.is_ready:
            rollouts = [self._cluster.rollout(env.namespace, d, env.cluster)
                        for d in app.deployment_names]
            pods = tuple(Pods(r.name, r.ready, r.desired) for r in rollouts)
            failed = next((r for r in rollouts if r.failed), None)
            if failed is not None:
                return self._records.fail(record, Reason(
                    Code.ROLLOUT_FAILED, Next.ROLLBACK, env=env.name, deployment=failed.name,
                    message=failed.message))
            if all(r.complete for r in rollouts):
                assert expected is not None
                self._store.mark_aftercare(record.id)  # due until done, even across a crash
                record = self._records.finish(
                    record, State.DEPLOYED, Deployed(expected, pods),
                    progress=Progress(Stage.DONE, expected, pods=pods))
                self._aftercare.run(record)
                return record
            progress = Progress(Stage.ROLLOUT, expected, pods=pods)
        elif chain.flux_failed(status) and status.last_attempted_revision == expected:
            return self._records.fail(record, Reason(
                Code.FLUX_FAILED, Next.ROLLBACK, env=env.name, revision=expected,
                flux_reason=status.reason, message=status.message))
        elif status.suspended:
            progress = Progress(Stage.SUSPENDED, expected, kustomization=env.kustomization.name)
        elif status.reason == chain.DEPENDENCY_NOT_READY:
            root = chain.waiting_root(app, self._cluster, status)
            progress = Progress(Stage.DEPENDENCY, expected, message=status.message,
                                kustomization=env.kustomization.name,
                                root=root.env if root else None,
                                root_reason=root.reason if root else None,
                                root_message=root.message if root else "")
        elif self._cluster.source_revision(env.git_repository) == expected:
            progress = Progress(Stage.APPLYING, expected)
        else:
            progress = Progress(Stage.FETCHING, expected)
        deadline = deploy_deadline(env.timeout, status.timeout)
        if now > (record.merged_at or now) + deadline:
            return self._records.fail(record, Reason(
                Code.TIMED_OUT, Next.ROLLBACK, env=env.name, revision=expected,
                timeout=deadline, progress=progress, flux_reason=status.reason or None,
                message=status.message, root=progress.root))
        if record.progress == progress:
            return record
        return self._records.transition(record, Progressed(progress), progress=progress)

    def _ask_kustomization(self, record: Promotion, env: Environment,
                           status: KustomizationStatus) -> None:
        """The second half of `flux reconcile kustomization --with-source`: the merge asked the
        source to fetch; once its artifact has the merged revision, the Kustomization is asked
        to apply it, with the record's token, even if Flux already applied it on its own (as
        `flux` does). Once: the Kustomization's own annotation says whether it was asked,
        across retries and restarts. Each look is a step of the runner (a watch event, a
        tick), so no worker waits for the fetch. Should the request fail, Flux still applies
        the source's new artifact by itself (kustomize-controller watches it)."""
        token, expected = record.reconcile_token, record.expected_revision
        if (token is None or status.requested_at == token
                or status.last_handled_reconcile_at == token
                or self._cluster.source_revision(env.git_repository) != expected):
            return
        try:
            self._cluster.request_kustomization_reconcile(env.kustomization, token)
        except AdapterError:
            log.exception("%s: reconcile request failed; Flux will poll", record.name)


def deploy_deadline(pipeline: timedelta, flux: timedelta | None) -> timedelta:
    """How long a merged record may take to deploy: the env's timeout, but never less than
    Flux may take without failing. kustomize-controller does not cancel a running health check
    for a new revision (its CancelHealthCheckOnNewRevision gate is off by default), so a
    revision merged during a stuck rollout (a rollback) waits out that check (up to one Flux
    timeout), then gets its own (another), plus a minute to fetch and apply."""
    if flux is None:
        return pipeline
    return max(pipeline, 2 * flux + FETCH_GRACE)


def _failed_with(failure: Reason) -> str:
    """What a recovered record had failed with: Flux's reason, or the failure's code."""
    if failure.code is Code.FLUX_FAILED and failure.flux_reason:
        return failure.flux_reason
    return failure.code.value
