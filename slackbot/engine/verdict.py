"""Judging a merged record by what Flux and the rollout really show: deployed, failed, or still
on its way (and where: fetching, applying, waiting on a dependency, suspended, rolling out).

"Deployed" means the env's Kustomization applied exactly the merged revision, is Ready, and
every Deployment of the app rolled out. A failure Flux reports on that revision, or a rollout
past its deadline, fails the record with Flux's own words; so does the env's timeout.
"""

from __future__ import annotations

from slackbot.engine.aftercare import Aftercare
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.events import Deployed, Progressed
from slackbot.models import Promotion, State
from slackbot.ports import Cluster, KustomizationStatus, Store
from slackbot.progress import Pods, Progress, Stage
from slackbot.reasons import Code, Next, Reason

FLUX_FAILURES = frozenset(
    {"BuildFailed", "HealthCheckFailed", "ReconciliationFailed", "ArtifactFailed", "PruneFailed"}
)


class Verdict:
    def __init__(self, lookup: Lookup, records: Records, store: Store, cluster: Cluster,
                 aftercare: Aftercare):
        self._lookup = lookup
        self._records = records
        self._store = store
        self._cluster = cluster
        self._aftercare = aftercare

    def observe(self, record: Promotion, status: KustomizationStatus | None) -> Promotion:
        app, env = self._lookup.app_env(record.app, record.env)
        if status is None or status.ref != env.kustomization:
            status = self._cluster.kustomization(env.kustomization)
        expected = record.expected_revision
        now = self._records.clock.now()
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
        elif (status.ready == "False" and status.reason in FLUX_FAILURES
              and status.last_attempted_revision == expected):
            return self._records.fail(record, Reason(
                Code.FLUX_FAILED, Next.ROLLBACK, env=env.name, revision=expected,
                flux_reason=status.reason, message=status.message))
        elif status.suspended:
            progress = Progress(Stage.SUSPENDED, expected, kustomization=env.kustomization.name)
        elif status.reason == "DependencyNotReady":
            progress = Progress(Stage.DEPENDENCY, expected, message=status.message,
                                kustomization=env.kustomization.name)
        elif self._cluster.source_revision(env.git_repository) == expected:
            progress = Progress(Stage.APPLYING, expected)
        else:
            progress = Progress(Stage.FETCHING, expected)
        if now > (record.merged_at or now) + env.timeout:
            return self._records.fail(record, Reason(
                Code.TIMED_OUT, Next.ROLLBACK, env=env.name, revision=expected,
                timeout=env.timeout, progress=progress, flux_reason=status.reason or None,
                message=status.message))
        if record.progress == progress:
            return record
        return self._records.transition(record, Progressed(progress), progress=progress)
