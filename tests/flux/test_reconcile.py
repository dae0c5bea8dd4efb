"""The Flux simulator end to end: git pushes and API calls in, Flux status and rollouts out,
observed through the real kubernetes client over HTTP."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.flux.helpers import (
    EXPECTED,
    FLUX,
    GITREPO,
    KS,
    Env,
    break_build,
    condition,
    is_ready_at,
    set_image,
    wait_for,
)


def rolled_out(env: Env, namespace: str, replicas: int, image: str | None = None) -> bool:
    """kubectl's rollout rule, plus ready pods of the expected image."""
    deployment = env.apps.read_namespaced_deployment("myapp", namespace)
    status = deployment.status
    done = (
        deployment.metadata.generation <= (status.observed_generation or 0)
        and deployment.spec.replicas == replicas
        and (status.updated_replicas or 0) >= replicas
        and (status.replicas or 0) == (status.updated_replicas or 0)
        and (status.available_replicas or 0) >= (status.updated_replicas or 0)
    )
    pods = env.core.list_namespaced_pod(namespace, label_selector="app=myapp").items
    ready = [
        p
        for p in pods
        if all(c.ready for c in p.status.container_statuses or [])
        and (image is None or p.spec.containers[0].image == image)
    ]
    return done and len(pods) == replicas and len(ready) == replicas


def test_environments_start_deployed_with_workflow_replicas_and_resources(env: Env) -> None:
    for namespace, (replicas, _memory, _cpu) in EXPECTED.items():
        assert wait_for(
            lambda ns=namespace, r=replicas: rolled_out(env, ns, r), f"{namespace} rollout"
        )
    # Stop simulated time, so that no periodic reconcile starts while the test looks; one
    # already under way finishes (its targets are healthy: it needs no time to pass).
    env.cluster.simulator.clock.hold()
    wait_for(lambda: condition(env.ks("dev"), "Reconciling") is None, "dev settled")
    for namespace, (_replicas, memory, cpu) in EXPECTED.items():
        container = env.apps.read_namespaced_deployment(
            "myapp", namespace
        ).spec.template.spec.containers[0]
        assert container.resources.requests == {"memory": memory, "cpu": cpu}
        assert container.resources.limits == {"memory": memory, "cpu": cpu}
        pod = env.core.list_namespaced_pod(namespace, label_selector="app=myapp").items[0]
        assert pod.status.phase == "Running"
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"
        assert pod.status.container_statuses[0].image_id
    ks = env.ks("dev")
    assert ks["status"]["inventory"]["entries"] == [  # in Flux's order of applying
        {"id": "dev_compute-resources__ResourceQuota", "v": "v1"},
        {"id": "dev_myapp_apps_Deployment", "v": "v1"},
        {"id": "dev_allow-from-ingress_networking.k8s.io_NetworkPolicy", "v": "v1"},
        {"id": "dev_allow-same-namespace_networking.k8s.io_NetworkPolicy", "v": "v1"},
        {"id": "dev_default-deny-ingress_networking.k8s.io_NetworkPolicy", "v": "v1"},
    ]
    assert condition(ks, "Healthy")["status"] == "True"  # type: ignore[index]
    assert condition(ks, "Reconciling") is None
    source = env.gitrepo("dev")
    assert source["status"]["artifact"]["revision"] == f"dev@sha1:{env.repo.sha}"
    assert source["status"]["artifact"]["digest"].startswith("sha256:")
    ready = condition(source, "Ready")
    assert ready is not None and ready["reason"] == "Succeeded"
    assert ready["message"] == f"stored artifact for revision 'dev@sha1:{env.repo.sha}'"


def test_push_to_dev_is_applied_without_any_other_action(env: Env) -> None:
    image = "ghcr.io/acme/myapp:1.1.0"
    sha = env.push("dev", set_image(image), "Bump myapp to 1.1.0")
    revision = f"dev@sha1:{sha}"

    ks = wait_for(lambda: (k := env.ks("dev")) and is_ready_at(k, revision) and k, "dev applied")
    ready = condition(ks, "Ready")
    assert ready is not None and ready["reason"] == "ReconciliationSucceeded"
    assert ready["message"] == f"Applied revision: {revision}"
    assert ks["status"]["lastAttemptedRevision"] == revision
    assert ks["status"]["history"][0]["metadata"]["revision"] == revision
    assert ks["status"]["history"][0]["lastReconciledStatus"] == "ReconciliationSucceeded"
    assert wait_for(lambda: rolled_out(env, "dev", 1, image), "dev rollout of 1.1.0")
    # the other branches did not move, so neither did their environments
    for other in ("staging", "prod"):
        assert env.ks(other)["status"]["lastAppliedRevision"] == f"{other}@sha1:{env.repo.sha}"
        image_now = (
            env.apps.read_namespaced_deployment("myapp", other)
            .spec.template.spec.containers[0]
            .image
        )
        assert image_now == "ghcr.io/acme/myapp:1.0.0"


def test_requested_at_reconciles_before_the_interval(start_env: Any) -> None:
    def slow_dev(obj: dict[str, Any]) -> None:
        if obj["metadata"]["name"] == "myapp-dev" and obj["kind"] != "Namespace":
            obj["spec"]["interval"] = "10h"  # only an explicit request can explain what follows

    env: Env = start_env(customize=slow_dev)
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{env.repo.sha}"), "dev Ready")
    sha = env.push("dev", set_image("ghcr.io/acme/myapp:1.2.0"), "Bump myapp to 1.2.0")

    # flux reconcile source git myapp-dev
    env.annotate(GITREPO, "myapp-dev", "token-source-1")
    source = wait_for(
        lambda: (
            (g := env.gitrepo("dev"))["status"].get("lastHandledReconcileAt") == "token-source-1"
            and g
        ),
        "the GitRepository to handle the request",
    )
    assert source["status"]["artifact"]["revision"] == f"dev@sha1:{sha}"
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{sha}"), "dev applied after the fetch")

    # flux reconcile ks myapp-dev: drift is corrected on request, not before
    env.apps.delete_namespaced_deployment("myapp", "dev")
    env.annotate(KS, "myapp-dev", "token-ks-1")
    ks = wait_for(
        lambda: (
            (k := env.ks("dev"))["status"].get("lastHandledReconcileAt") == "token-ks-1"
            and is_ready_at(k, f"dev@sha1:{sha}")
            and k
        ),
        "the Kustomization to handle the request",
    )
    assert ks["status"]["lastHandledReconcileAt"] == "token-ks-1"
    assert wait_for(lambda: rolled_out(env, "dev", 1, "ghcr.io/acme/myapp:1.2.0"), "dev re-applied")


def test_manifest_that_does_not_build_reports_build_failed(env: Env) -> None:
    sha = env.push("dev", break_build, "Reference a file that does not exist")
    revision = f"dev@sha1:{sha}"
    ks = wait_for(
        lambda: (
            (k := env.ks("dev"))
            and (c := condition(k, "Ready"))
            and c["reason"] == "BuildFailed"
            and k
        ),
        "BuildFailed",
    )
    ready = condition(ks, "Ready")
    assert ready is not None and ready["status"] == "False"
    assert ready["message"].startswith("kustomize build failed: accumulating resources")
    assert "missing.yaml" in ready["message"]
    assert ks["status"]["lastAttemptedRevision"] == revision
    assert ks["status"]["lastAppliedRevision"] == f"dev@sha1:{env.repo.sha}"
    reconciling = condition(ks, "Reconciling")
    assert reconciling is not None and reconciling["reason"] == "ProgressingWithRetry"


def test_invalid_yaml_reports_build_failed_with_the_parse_error(env: Env) -> None:
    def bad_yaml(work: Path) -> None:
        (work / "apps/myapp/base/deployment.yaml").write_text(
            "apiVersion: apps/v1\nkind: [Deployment\n"
        )

    env.push("dev", bad_yaml, "Break the YAML")
    ks = wait_for(
        lambda: (
            (k := env.ks("dev"))
            and (c := condition(k, "Ready"))
            and c["reason"] == "BuildFailed"
            and k
        ),
        "BuildFailed",
    )
    message = condition(ks, "Ready")["message"]  # type: ignore[index]
    assert "deployment.yaml" in message and "yaml: line" in message


def test_image_that_never_becomes_ready_reports_health_check_failed(env: Env) -> None:
    image = "ghcr.io/acme/myapp:broken-2.0.0"
    sha = env.push("dev", set_image(image), "Ship a build that crashes")
    ks = wait_for(
        lambda: (
            (k := env.ks("dev"))
            and (c := condition(k, "Ready"))
            and c["reason"] == "HealthCheckFailed"
            and k
        ),
        "HealthCheckFailed",
    )
    # As kustomize-controller words it: Ready says after how long (the card shows this text),
    # Healthy keeps the bare error.
    message = condition(ks, "Ready")["message"]  # type: ignore[index]
    assert re.fullmatch(
        r"health check failed after 3m0(\.\d+)?s: "
        r"timeout waiting for: \[Deployment/dev/myapp status: 'InProgress'\]",
        message,
    ), message
    healthy = condition(ks, "Healthy")
    assert healthy is not None and healthy["status"] == "False"
    assert healthy["reason"] == "HealthCheckFailed"
    assert healthy["message"] == "timeout waiting for: [Deployment/dev/myapp status: 'InProgress']"
    assert ks["status"]["lastAttemptedRevision"] == f"dev@sha1:{sha}"
    assert ks["status"]["lastAppliedRevision"] == f"dev@sha1:{env.repo.sha}"

    pods = env.core.list_namespaced_pod("dev", label_selector="app=myapp").items
    crashing = [p for p in pods if p.spec.containers[0].image == image]
    assert crashing and not crashing[0].status.container_statuses[0].ready
    assert crashing[0].status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    # the rollout is stuck: the old pod still serves, and kubectl would keep waiting
    assert any(p.spec.containers[0].image == "ghcr.io/acme/myapp:1.0.0" for p in pods)
    assert not rolled_out(env, "dev", 1)


def test_image_that_cannot_be_pulled_stays_pending(env: Env) -> None:
    image = "ghcr.io/acme/does-not-exist:1.0.0"
    env.push("dev", set_image(image), "Point at a missing image")

    def pulling_failed() -> bool:
        pods = env.core.list_namespaced_pod("dev", label_selector="app=myapp").items
        return any(
            p.spec.containers[0].image == image
            and p.status.phase == "Pending"
            and p.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
            for p in pods
        )

    assert wait_for(pulling_failed, "an ImagePullBackOff pod")
    wait_for(
        lambda: (c := condition(env.ks("dev"), "Ready")) and c["reason"] == "HealthCheckFailed",
        "HealthCheckFailed",
    )


def test_staging_waits_for_failing_dev_and_recovers_with_it(env: Env) -> None:
    env.push("dev", break_build, "Break dev")
    wait_for(
        lambda: (c := condition(env.ks("dev"), "Ready")) and c["reason"] == "BuildFailed",
        "dev BuildFailed",
    )
    env.annotate(KS, "myapp-staging", "while-dev-fails")
    staging = wait_for(
        lambda: (
            (k := env.ks("staging"))
            and (c := condition(k, "Ready"))
            and c["reason"] == "DependencyNotReady"
            and k
        ),
        "staging DependencyNotReady",
    )
    ready = condition(staging, "Ready")
    assert ready is not None and ready["status"] == "False"
    assert ready["message"] == "dependency 'flux-system/myapp-dev' is not ready"

    def fix(work: Path) -> None:
        path = work / "apps/myapp/overlays/dev/kustomization.yaml"
        path.write_text(path.read_text().replace("  - missing.yaml\n", ""))

    sha = env.push("dev", fix, "Fix dev")
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{sha}"), "dev recovered")
    wait_for(
        lambda: is_ready_at(env.ks("staging"), f"staging@sha1:{env.repo.sha}"), "staging recovered"
    )


def test_suspended_kustomization_applies_nothing(start_env: Any) -> None:
    def suspend_dev(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Kustomization" and obj["metadata"]["name"] == "myapp-dev":
            obj["spec"]["suspend"] = True

    env: Env = start_env(customize=suspend_dev)
    env.annotate(KS, "myapp-dev", "while-suspended")
    ks = wait_for(
        lambda: (
            (k := env.ks("dev")).get("status", {}).get("lastHandledReconcileAt")
            == "while-suspended"
            and k
        ),
        "the suspended Kustomization to echo the request",
    )
    assert condition(ks, "Ready") is None
    assert "lastAppliedRevision" not in ks["status"]
    assert env.apps.list_namespaced_deployment("dev").items == []
    # its dependents see a dependency that never became ready
    wait_for(
        lambda: (
            (c := condition(env.ks("staging"), "Ready")) and c["reason"] == "DependencyNotReady"
        ),
        "staging DependencyNotReady",
    )

    # flux resume ks myapp-dev
    env.custom.patch_namespaced_custom_object(
        *KS[:2], FLUX, KS[2], "myapp-dev", {"spec": {"suspend": False}}
    )
    wait_for(
        lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{env.repo.sha}"), "dev applied after resume"
    )
    assert wait_for(lambda: rolled_out(env, "dev", 1), "dev rollout after resume")


def test_missing_branch_reports_git_operation_failed(start_env: Any) -> None:
    def wrong_branch(obj: dict[str, Any]) -> None:
        if obj["kind"] == "GitRepository" and obj["metadata"]["name"] == "myapp-dev":
            obj["spec"]["ref"] = {"branch": "no-such-branch"}

    env: Env = start_env(customize=wrong_branch)
    # Ready=Unknown "building artifact" comes first, as on source-controller; then the failure
    source = wait_for(
        lambda: (g := env.gitrepo("dev"))
        and (c := condition(g, "Ready"))
        and c["status"] != "Unknown"
        and g,
        "dev source status",
    )
    ready = condition(source, "Ready")
    assert (
        ready is not None and ready["status"] == "False" and ready["reason"] == "GitOperationFailed"
    )
    assert 'couldn\'t find remote ref "refs/heads/no-such-branch"' in ready["message"]
    ks = wait_for(lambda: (k := env.ks("dev")) and condition(k, "Ready") and k, "dev ks status")
    ready = condition(ks, "Ready")
    assert ready is not None and ready["reason"] == "ArtifactFailed"
    assert ready["message"] == "Source artifact not found, retrying in 30s"


def crash_without_deadline(work: Path) -> None:
    """A crashing image, and no progress deadline to fail fast on: only the health check's
    timeout (or a cancellation) can end its wait."""
    set_image("ghcr.io/acme/myapp:broken-3.0.0")(work)
    path = work / "apps/myapp/base/deployment.yaml"
    path.write_text(
        path.read_text().replace("spec:\n", "spec:\n  progressDeadlineSeconds: 360000\n", 1)
    )


def health_check_running(env: Env, sha: str) -> bool:
    ks = env.ks("dev")
    healthy = condition(ks, "Healthy")
    return bool(
        ks["status"].get("lastAttemptedRevision") == f"dev@sha1:{sha}"
        and healthy
        and healthy["status"] == "Unknown"
    )


def test_a_new_revision_waits_out_the_running_health_check(start_env: Any) -> None:
    """kustomize-controller's default: a fix fetched during a failing health check is applied
    only once that check has timed out (there is no HealthCheckCanceled)."""

    def patient_dev(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Kustomization" and obj["metadata"]["name"] == "myapp-dev":
            obj["spec"]["timeout"] = "10m"

    env: Env = start_env(customize=patient_dev)
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{env.repo.sha}"), "dev Ready")
    broken = env.push("dev", crash_without_deadline, "Ship a crashing build")
    wait_for(lambda: health_check_running(env, broken), "the broken revision's health check")
    clock = env.cluster.simulator.clock
    clock.hold()
    fixed = env.push("dev", set_image("ghcr.io/acme/myapp:3.0.1"), "Fix the crash")
    env.annotate(GITREPO, "myapp-dev", "fetch-the-fix")
    wait_for(
        lambda: env.gitrepo("dev")["status"]["artifact"]["revision"] == f"dev@sha1:{fixed}",
        "the source to have the fix",
    )
    clock.advance(300)  # half the timeout: the broken revision's check still runs
    ks = env.ks("dev")
    assert health_check_running(env, broken)
    assert condition(ks, "Ready")["reason"] == "Progressing"  # type: ignore[index]
    assert condition(ks, "Reconciling")["message"] == (  # type: ignore[index]
        f"Running health checks for revision dev@sha1:{broken} with a timeout of 10m0s"
    )
    clock.advance(301)  # past the timeout: it fails, then the fix is reconciled
    clock.release()
    ks = wait_for(
        lambda: (k := env.ks("dev")) and is_ready_at(k, f"dev@sha1:{fixed}") and k,
        "the fix to be applied after the timeout",
    )
    outcomes = [
        (h["metadata"]["revision"], h["lastReconciledStatus"]) for h in ks["status"]["history"]
    ]
    assert outcomes[:2] == [
        (f"dev@sha1:{fixed}", "ReconciliationSucceeded"),
        (f"dev@sha1:{broken}", "HealthCheckFailed"),
    ]


def test_with_the_feature_gate_a_new_revision_cancels_the_health_check(start_env: Any) -> None:
    def patient_dev(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Kustomization" and obj["metadata"]["name"] == "myapp-dev":
            obj["spec"]["timeout"] = "10h"  # only a cancellation can end the broken health check

    env: Env = start_env(
        customize=patient_dev, feature_gates={"CancelHealthCheckOnNewRevision": True}
    )
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{env.repo.sha}"), "dev Ready")
    broken = env.push("dev", crash_without_deadline, "Ship a crashing build")
    wait_for(lambda: health_check_running(env, broken), "the broken revision's health check")
    fixed = env.push("dev", set_image("ghcr.io/acme/myapp:3.0.1"), "Fix the crash")
    ks = wait_for(
        lambda: (k := env.ks("dev")) and is_ready_at(k, f"dev@sha1:{fixed}") and k,
        "the fix to be applied",
    )
    assert condition(ks, "Healthy")["status"] == "True"  # type: ignore[index]
    assert wait_for(lambda: rolled_out(env, "dev", 1, "ghcr.io/acme/myapp:3.0.1"), "dev rollout")


def test_removed_manifests_and_deleted_kustomizations_are_pruned(env: Env) -> None:
    worker = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 1
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.0.0
"""

    def add_worker(work: Path) -> None:
        (work / "apps/myapp/overlays/dev/worker.yaml").write_text(worker)
        path = work / "apps/myapp/overlays/dev/kustomization.yaml"
        path.write_text(
            path.read_text().replace("  - ../../base\n", "  - ../../base\n  - worker.yaml\n")
        )

    def remove_worker(work: Path) -> None:
        (work / "apps/myapp/overlays/dev/worker.yaml").unlink()
        path = work / "apps/myapp/overlays/dev/kustomization.yaml"
        path.write_text(path.read_text().replace("  - worker.yaml\n", ""))

    def deployments(namespace: str) -> list[str]:
        return sorted(d.metadata.name for d in env.apps.list_namespaced_deployment(namespace).items)

    added = env.push("dev", add_worker, "Add a worker")
    ks = wait_for(
        lambda: (k := env.ks("dev")) and is_ready_at(k, f"dev@sha1:{added}") and k, "worker applied"
    )
    assert [e["id"] for e in ks["status"]["inventory"]["entries"]
            if e["id"].endswith("_Deployment")] == [
        "dev_myapp_apps_Deployment",
        "dev_worker_apps_Deployment",
    ]
    assert deployments("dev") == ["myapp", "worker"]
    labels = env.apps.read_namespaced_deployment("worker", "dev").metadata.labels
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "myapp-dev"

    removed = env.push("dev", remove_worker, "Remove the worker")
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{removed}"), "worker removal applied")
    assert deployments("dev") == ["myapp"]
    wait_for(
        lambda: not env.core.list_namespaced_pod("dev", label_selector="app=worker").items,
        "the worker's pods to go",
    )

    env.custom.delete_namespaced_custom_object(*KS[:2], FLUX, KS[2], "myapp-dev")
    wait_for(lambda: deployments("dev") == [], "the deleted Kustomization's objects to be pruned")
