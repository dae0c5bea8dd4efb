"""The first scenarios of the conformance suite, through real source-controller and
kustomize-controller on a real API server: a push to dev and its applied revision, a
requestedAt, a build failure, a health-check failure. Each records the Kustomization's
sequence (tests/realflux/recorder.py) to artifacts/realflux/sequences/<scenario>.json, so the
same scenarios can be run against the simulator and compared; here they assert what real Flux
does that the bot relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realflux.content import overlay_as_seeded, overlay_not_building, with_image
from tests.realflux.fluxobjects import GITREPO, KS, ready
from tests.realflux.harness import Harness
from tests.realflux.recorder import Observation, Recorder
from tests.waiting import wait_for

# The first test to use the harness also waits for its start-up (about 40 s idle, minutes on a
# loaded machine): a wider bound than the suite's 300 s, never an assertion on time.
pytestmark = pytest.mark.timeout(900)

ENV = "dev"
HEALTH_TIMEOUT = "30s"  # the scenario's spec.timeout: the example's 3m, shortened


@pytest.fixture
def recorder(realflux: Harness, sequences: Path,
             request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Dev settled at its branch head, and a Recorder on its Kustomization from there on."""
    head = realflux.head(ENV)
    realflux.wait_applied(ENV, head)
    assert realflux.repo is not None
    labels = {realflux.repo.sha: "seed", head: "start"}
    rec = Recorder(realflux.admin(), "flux-system", f"myapp-{ENV}", labels).start()
    try:
        yield rec
    finally:
        rec.stop()
        rec.write(sequences / f"{request.node.name}.json")


def applied(env: str, label: str) -> str:
    return f"{env}@sha1:<{label}>"


def readiness(sequence: list[Observation]) -> list[tuple[str, str]]:
    return [(o.ready, o.reason) for o in sequence]


def test_push_is_applied_at_its_revision(realflux: Harness, recorder: Recorder) -> None:
    sha = realflux.push(ENV, with_image("ghcr.io/acme/myapp:1.0.1"), "myapp 1.0.1")
    recorder.label(sha, "push")
    realflux.annotate(GITREPO, ENV)  # the source first, as `flux reconcile --with-source`
    obj = realflux.wait_applied(ENV, sha)

    assert obj["status"]["lastAppliedRevision"] == f"dev@sha1:{sha}"
    assert obj["status"]["lastAttemptedRevision"] == f"dev@sha1:{sha}"
    assert ready(obj)["reason"] == "ReconciliationSucceeded"
    assert ready(obj)["message"] == f"Applied revision: dev@sha1:{sha}"
    sequence = recorder.until(lambda s: s[-1].last_applied == applied(ENV, "push"),
                              "the push applied")
    assert sequence[-1] == Observation("True", "ReconciliationSucceeded",
                                       f"Applied revision: {applied(ENV, 'push')}",
                                       applied(ENV, "push"), applied(ENV, "push"),
                                       obj["metadata"]["generation"])
    assert all(o.ready != "False" for o in sequence), readiness(sequence)
    deployment = realflux.deployment(ENV)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "ghcr.io/acme/myapp:1.0.1")


def test_requested_at_reconciles_without_a_new_revision(realflux: Harness,
                                                          recorder: Recorder) -> None:
    before = realflux.kustomization(ENV)["status"]
    token = realflux.annotate(KS, ENV)

    def handled() -> dict[str, object] | None:
        obj = realflux.kustomization(ENV)
        status = obj.get("status") or {}
        done = status.get("lastHandledReconcileAt") == token and ready(obj).get(
            "status") == "True"
        return obj if done else None

    obj = realflux.wait_until(handled, f"{ENV} to handle requestedAt {token}")
    assert obj["status"]["lastAppliedRevision"] == before["lastAppliedRevision"]
    wait_for(lambda: (recorder.latest().get("status") or {}).get(
        "lastHandledReconcileAt") == token, "the recorder to see the request handled")
    sequence = recorder.sequence()
    # Real kustomize-controller never shows Ready=False for a reconcile of a healthy env
    # (the simulator's transient HealthCheckCanceled is one of the divergences to correct).
    assert all(o.ready != "False" for o in sequence), readiness(sequence)
    assert sequence[-1].ready == "True"
    assert sequence[-1].reason == "ReconciliationSucceeded"


def test_a_build_failure_keeps_the_last_applied_revision(realflux: Harness,
                                                           recorder: Recorder) -> None:
    good = realflux.kustomization(ENV)["status"]["lastAppliedRevision"]
    sha = realflux.push(ENV, overlay_not_building(ENV), "dev overlay with a missing file")
    recorder.label(sha, "bad")
    realflux.annotate(GITREPO, ENV)

    def failed() -> dict[str, object] | None:
        obj = realflux.kustomization(ENV)
        return obj if ready(obj).get("reason") == "BuildFailed" else None

    obj = realflux.wait_until(failed, f"{ENV} BuildFailed")
    condition = ready(obj)
    assert condition["status"] == "False"
    assert condition["message"].startswith("kustomize build failed: ")
    assert "missing.yaml" in condition["message"]
    assert obj["status"]["lastAttemptedRevision"] == f"dev@sha1:{sha}"
    assert obj["status"]["lastAppliedRevision"] == good

    fix = realflux.push(ENV, overlay_as_seeded(ENV), "dev overlay fixed")
    recorder.label(fix, "fix")
    realflux.annotate(GITREPO, ENV)
    realflux.wait_applied(ENV, fix)
    sequence = recorder.until(lambda s: s[-1].last_applied == applied(ENV, "fix"),
                              "the fix applied")
    failures = [o for o in sequence if o.reason == "BuildFailed"]
    assert failures and failures[0].message == "kustomize build failed"
    assert failures[0].last_attempted == applied(ENV, "bad")


def test_a_health_check_failure_says_after_how_long(realflux: Harness,
                                                      recorder: Recorder) -> None:
    generation = realflux.patch_kustomization(ENV, {"timeout": HEALTH_TIMEOUT})
    realflux.wait_until(
        lambda: realflux.kustomization(ENV)["status"].get("observedGeneration") == generation
        and ready(realflux.kustomization(ENV)).get("status") == "True",
        f"{ENV} to observe timeout {HEALTH_TIMEOUT}")
    good = realflux.kustomization(ENV)["status"]["lastAppliedRevision"]
    sha = realflux.push(ENV, with_image("ghcr.io/acme/myapp:broken-2.0"), "myapp broken-2.0")
    recorder.label(sha, "broken")
    realflux.annotate(GITREPO, ENV)

    def failed() -> dict[str, object] | None:
        obj = realflux.kustomization(ENV)
        return obj if ready(obj).get("reason") == "HealthCheckFailed" else None

    obj = realflux.wait_until(failed, f"{ENV} HealthCheckFailed")
    condition = ready(obj)
    assert condition["status"] == "False"
    assert condition["message"].startswith("health check failed after "), condition["message"]
    assert "Deployment/dev/myapp" in condition["message"]
    assert obj["status"]["lastAttemptedRevision"] == f"dev@sha1:{sha}"
    sequence = recorder.until(lambda s: any(o.reason == "HealthCheckFailed" for o in s),
                              "HealthCheckFailed")
    failing = next(o for o in sequence if o.reason == "HealthCheckFailed")
    assert failing.message == "health check failed after <duration>"
    assert failing.last_attempted == applied(ENV, "broken")
    assert good  # what lastAppliedRevision says meanwhile is recorded in the sequence

    fix = realflux.push(ENV, with_image("ghcr.io/acme/myapp:1.0.2"), "myapp 1.0.2")
    recorder.label(fix, "fix")
    realflux.annotate(GITREPO, ENV)
    realflux.wait_applied(ENV, fix)
    generation = realflux.patch_kustomization(ENV, {"timeout": "3m"})
    realflux.wait_until(
        lambda: realflux.kustomization(ENV)["status"].get("observedGeneration") == generation,
        f"{ENV} to observe timeout 3m again")
