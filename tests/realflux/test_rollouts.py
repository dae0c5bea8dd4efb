"""The rollout stand-in's statuses, judged by the rules kstatus applies to a Deployment
(fluxcd/cli-utils pkg/kstatus/status/core.go, deploymentConditions, and the generic
observedGeneration check), so a health check passes or fails as on a real cluster.
No API server here: `desired_status` is a pure function of the object and the time.
"""

from __future__ import annotations

from typing import Any

from tests.realflux.recorder import message_prefix
from tests.realflux.rollouts import Track, desired_status, image_start


def kstatus(obj: dict[str, Any]) -> str:
    """kstatus's verdict on a Deployment, rule by rule as core.go orders them."""
    spec, status = obj["spec"], obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"]["generation"]:
        return "InProgress: generation not observed"
    progressing = "progressDeadlineSeconds" not in spec
    available = False
    for cond in status.get("conditions") or []:
        if cond["type"] == "Progressing":
            if cond["reason"] == "ProgressDeadlineExceeded":
                return "Failed: Progress deadline exceeded"
            progressing |= cond["status"] == "True" and cond["reason"] == "NewReplicaSetAvailable"
        if cond["type"] == "Available":
            available |= cond["status"] == "True"
    want = int(spec.get("replicas", 1))
    count = {k: int(status.get(k, 0)) for k in
             ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")}
    if want > count["replicas"]:
        return "InProgress: Replicas"
    if want > count["updatedReplicas"]:
        return "InProgress: Updated"
    if count["replicas"] > want:
        return "InProgress: Pending termination"
    if count["updatedReplicas"] > count["availableReplicas"]:
        return "InProgress: Available"
    if want > count["readyReplicas"]:
        return "InProgress: Ready"
    if not progressing:
        return "InProgress: ReplicaSet not Available"
    if not available:
        return "InProgress: Deployment not Available"
    return "Current"


def deployment(image: str, replicas: int = 1, generation: int = 1,
               deadline: int | None = 600) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": replicas, "template": {"spec": {"containers": [
        {"name": "myapp", "image": image}]}}}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {"metadata": {"name": "myapp", "generation": generation}, "spec": spec}


def at(obj: dict[str, Any], track: Track, now: float) -> tuple[dict[str, Any], float | None]:
    status, wake = desired_status(obj, track, now, delay=1.0)
    return {**obj, "status": status}, wake


def test_a_new_deployment_is_current_after_the_start_delay() -> None:
    track, obj = Track(), deployment("ghcr.io/acme/myapp:1.0.0", replicas=3)
    early, wake = at(obj, track, 100.0)
    assert kstatus(early).startswith("InProgress")
    assert wake == 101.0
    later, wake = at(obj, track, 101.0)
    assert kstatus(later) == "Current"
    assert later["status"]["availableReplicas"] == 3
    assert wake is None


def test_an_update_to_a_broken_image_never_becomes_current() -> None:
    track = Track()
    at(deployment("ghcr.io/acme/myapp:1.0.0"), track, 0.0)
    at(deployment("ghcr.io/acme/myapp:1.0.0"), track, 1.0)
    broken = deployment("ghcr.io/acme/myapp:broken-2.0", generation=2)
    for now in (2.0, 100.0, 601.0):
        state, _ = at(broken, track, now)
        assert kstatus(state) == "InProgress: Pending termination"  # old pod still serving
        assert state["status"]["availableReplicas"] == 1
    state, _ = at(broken, track, 602.0)
    assert kstatus(state) == "Failed: Progress deadline exceeded"


def test_a_broken_first_rollout_has_nothing_available() -> None:
    state, wake = at(deployment("ghcr.io/acme/does-not-exist:1.0", replicas=2), Track(), 0.0)
    assert kstatus(state) == "InProgress: Available"
    assert {c["type"]: c["status"] for c in state["status"]["conditions"]}["Available"] == (
        "False")
    assert wake == 600.0


def test_without_a_progress_deadline_a_broken_rollout_hangs_for_ever() -> None:
    state, wake = at(deployment("ghcr.io/acme/myapp:broken-1", deadline=None), Track(), 0.0)
    assert kstatus(state).startswith("InProgress")
    assert wake is None


def test_a_scale_of_the_same_template_is_current_at_once() -> None:
    track = Track()
    at(deployment("ghcr.io/acme/myapp:1.0.0"), track, 0.0)
    at(deployment("ghcr.io/acme/myapp:1.0.0"), track, 1.0)
    scaled, _ = at(deployment("ghcr.io/acme/myapp:1.0.0", replicas=4, generation=2), track, 1.5)
    assert kstatus(scaled) == "Current"
    assert scaled["status"]["observedGeneration"] == 2


def test_images_decide_readiness_as_the_sandbox_kubelet_does() -> None:
    assert image_start("ghcr.io/acme/myapp:1.0.0", 1.0) == 1.0
    assert image_start("ghcr.io/acme/myapp:slow-1", 1.0) == 20.0
    assert image_start("ghcr.io/acme/myapp:broken-1", 1.0) is None
    assert image_start("localhost:5000/does-not-exist", 1.0) is None
    assert image_start("localhost:5000/myapp", 1.0) == 1.0


def test_message_prefixes_mask_durations_and_name_commits() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert message_prefix("health check failed after 30.012345s: timeout waiting for: [x]",
                          {}) == "health check failed after <duration>"
    assert message_prefix(f"Applied revision: dev@sha1:{sha}", {sha: "fix"}) == (
        "Applied revision: dev@sha1:<fix>")
    assert message_prefix("kustomize build failed: accumulating resources: x", {}) == (
        "kustomize build failed")
    assert message_prefix(f"Fetching manifests for revision dev@sha1:{sha} with a timeout of "
                          "3m0s", {sha: "fix"}) == (
        "Fetching manifests for revision dev@sha1:<fix> with a timeout of <duration>")
