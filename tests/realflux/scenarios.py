"""The conformance scenarios, each written once and played on any FluxWorld (worlds.py): what a
developer and the bot do to Flux, and what Flux's objects go through meanwhile, as the
recorder sees it (recorder.py).

Before a scenario, the Flux objects it touches get a 1h interval, so no periodic reconcile
interleaves with what the scenario does (in either world); after it, their example settings
come back. `play` returns the recorded sequences, normalised (see `normalised`). Scenarios
check the facts they wait on; comparing the two worlds is the test's business.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.realflux.content import overlay_as_seeded, overlay_not_building, with_image
from tests.realflux.fluxobjects import GITREPO, KS
from tests.realflux.recorder import Recorder
from tests.realflux.worlds import FLUX_NAMESPACE, FluxWorld, condition

QUIET = "1h"  # the interval while a scenario runs
Row = tuple[Any, ...]


class Stage:
    """The recorders of one scenario run, and the names given to commits."""

    def __init__(self, world: FluxWorld, branches: tuple[str, ...]) -> None:
        self.world = world
        self.labels = {world.seed: "seed"}
        for branch in branches:  # what each env runs when the scenario starts
            self.labels[world.head(branch)] = "start"
        self.recorders: dict[str, Recorder] = {}

    def record(self, key: str, kind: tuple[str, str, str], name: str,
               since: dict[str, Any] | None = None) -> Recorder:
        recorder = Recorder(self.world.api, FLUX_NAMESPACE, name, self.labels, kind=kind,
                            since=since).start()
        self.recorders[key] = recorder
        return recorder

    def label(self, sha: str, label: str) -> str:
        """Names a commit in every recording (call it before Flux can see the commit)."""
        self.labels[sha] = label
        for recorder in self.recorders.values():
            recorder.label(sha, label)
        return sha

    def stop(self, directory: Path, scenario: str) -> dict[str, list[Row]]:
        found: dict[str, list[Row]] = {}
        for key, recorder in self.recorders.items():
            recorder.stop()
            found[key] = normalised(recorder)
            recorder.write(directory / f"{scenario}.{self.world.name}.{key}.json")
        return found


def normalised(recorder: Recorder) -> list[Row]:
    """The sequence as rows, observedGeneration counted from the object's generation when the
    recording began (so earlier scenarios' spec patches do not matter; -1, none observed yet,
    stays -1). Message prefixes already mask durations and name commits (recorder.py)."""
    first = recorder.raw[0] if recorder.raw else {}
    base = int((first.get("metadata") or {}).get("generation") or 0)
    rows = []
    for observation in recorder.sequence():
        row = dataclasses.asdict(observation)
        seen = row["observed_generation"]
        row["observed_generation"] = seen - base if seen >= 0 else seen
        rows.append(tuple(row.values()))
    return rows


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    envs: tuple[str, ...]  # the envs whose Flux objects it quiets
    steps: Callable[[FluxWorld, Stage], None]

    def play(self, world: FluxWorld, directory: Path) -> dict[str, list[Row]]:
        with quieted(world, self.envs):
            stage = Stage(world, self.envs)
            try:
                self.steps(world, stage)
            finally:
                found = stage.stop(directory, self.name)
        return found


@contextmanager
def quieted(world: FluxWorld, envs: tuple[str, ...]) -> Iterator[None]:
    for env in envs:
        name = f"myapp-{env}"
        world.wait(lambda n=name: world.ready_at(n), f"{name} Ready before the scenario")
        world.patch_spec(GITREPO, name, {"interval": QUIET})
        world.patch_spec(KS, name, {"interval": QUIET})
        world.wait(lambda n=name: world.ready_at(n) and world.source_ready(n),
                   f"{name} to observe the quiet interval")
    try:
        yield
    finally:
        for env in envs:
            name = f"myapp-{env}"
            source, ks = world.example(GITREPO, name), world.example(KS, name)
            if world.find(GITREPO, name) is None:
                world.create(GITREPO, source)
            world.patch_spec(GITREPO, name, {"interval": source["spec"]["interval"]})
            world.patch_spec(KS, name, {"interval": ks["spec"]["interval"],
                                        "timeout": ks["spec"]["timeout"], "suspend": None})
            head = f"{env}@sha1:{world.head(env)}"
            world.wait(lambda n=name, h=head: world.ready_at(n, h),
                       f"{name} Ready at its head after the scenario")


def applied(env: str, label: str) -> str:
    return f"{env}@sha1:<{label}>"


def last_applied(label: str, env: str = "dev") -> Callable[[list[Any]], bool]:
    return lambda s: s[-1].last_applied == applied(env, label)


# -- the scenarios -------------------------------------------------------------------------


def push_is_applied(world: FluxWorld, stage: Stage) -> None:
    ks = stage.record("kustomization", KS, "myapp-dev")
    source = stage.record("source", GITREPO, "myapp-dev")
    sha = stage.label(world.push("dev", with_image("ghcr.io/acme/myapp:1.0.1"), "myapp 1.0.1"),
                      "push")
    world.annotate(GITREPO, "myapp-dev")  # the source first, as `flux reconcile --with-source`
    obj = world.wait(lambda: world.ready_at("myapp-dev", f"dev@sha1:{sha}"), "the push applied")
    assert condition(obj, "Ready")["message"] == f"Applied revision: dev@sha1:{sha}"
    ks.until(last_applied("push"), "the push applied")
    source.until(lambda s: s[-1].artifact == applied("dev", "push"), "the push's artifact")


def requested_at(world: FluxWorld, stage: Stage) -> None:
    ks = stage.record("kustomization", KS, "myapp-dev")
    token = world.annotate(KS, "myapp-dev")
    world.wait(lambda: (o := world.ready_at("myapp-dev"))
               and o["status"].get("lastHandledReconcileAt") == token, "the request handled")
    ks.until(lambda s: len(s) > 1 and s[-1].ready == "True", "the reconcile done")


def build_failure(world: FluxWorld, stage: Stage) -> None:
    ks = stage.record("kustomization", KS, "myapp-dev")
    bad = stage.label(world.push("dev", overlay_not_building("dev"), "dev overlay, missing file"),
                      "bad")
    world.annotate(GITREPO, "myapp-dev")
    obj = world.wait(lambda: world.reason(KS, "myapp-dev", "BuildFailed"), "BuildFailed")
    message = condition(obj, "Ready")["message"]
    assert message.startswith("kustomize build failed: ") and "missing.yaml" in message, message
    assert obj["status"]["lastAttemptedRevision"] == f"dev@sha1:{bad}"
    fix = stage.label(world.push("dev", overlay_as_seeded("dev"), "dev overlay fixed"), "fix")
    world.annotate(GITREPO, "myapp-dev")
    world.wait(lambda: world.ready_at("myapp-dev", f"dev@sha1:{fix}"), "the fix applied")
    ks.until(last_applied("fix"), "the fix applied")


def health_check_timeout(world: FluxWorld, stage: Stage) -> None:
    """spec.timeout 10s: kustomize-controller raises it to 30s, and says so."""
    generation = world.patch_spec(KS, "myapp-dev", {"timeout": "10s"})
    world.wait(lambda: (o := world.ready_at("myapp-dev"))
               and o["status"]["observedGeneration"] == generation, "timeout 10s observed")
    ks = stage.record("kustomization", KS, "myapp-dev")
    broken = stage.label(world.push("dev", with_image("ghcr.io/acme/myapp:broken-2.0"),
                                    "myapp broken-2.0"), "broken")
    world.annotate(GITREPO, "myapp-dev")
    running = world.wait(lambda: health_check_of(world, broken), "the health check running")
    assert condition(running, "Reconciling")["message"] == (
        f"Running health checks for revision dev@sha1:{broken} with a timeout of 30s")
    obj = world.wait(lambda: world.reason(KS, "myapp-dev", "HealthCheckFailed"), "the timeout")
    assert_health_check_failed(obj, broken)
    fix = stage.label(world.push("dev", with_image("ghcr.io/acme/myapp:1.0.2"), "myapp 1.0.2"),
                      "fix")
    world.annotate(GITREPO, "myapp-dev")
    world.wait(lambda: world.ready_at("myapp-dev", f"dev@sha1:{fix}"), "the fix applied")
    ks.until(last_applied("fix"), "the fix applied")


def fix_during_health_check(world: FluxWorld, stage: Stage) -> None:
    """The fix is fetched while the broken revision's health check runs: Flux waits it out
    (no HealthCheckCanceled: that needs the CancelHealthCheckOnNewRevision feature gate)."""
    generation = world.patch_spec(KS, "myapp-dev", {"timeout": "45s"})
    world.wait(lambda: (o := world.ready_at("myapp-dev"))
               and o["status"]["observedGeneration"] == generation, "timeout 45s observed")
    ks = stage.record("kustomization", KS, "myapp-dev")
    broken = stage.label(world.push("dev", with_image("ghcr.io/acme/myapp:broken-3.0"),
                                    "myapp broken-3.0"), "broken")
    world.annotate(GITREPO, "myapp-dev")
    world.wait(lambda: health_check_of(world, broken), "the health check running")
    if world.clock is not None:
        world.clock.hold()  # simulated time waits while the fix travels (real Flux has 45 s)
    try:
        fix = stage.label(world.push("dev", with_image("ghcr.io/acme/myapp:1.0.3"),
                                     "myapp 1.0.3"), "fix")
        world.annotate(GITREPO, "myapp-dev")
        world.wait(lambda: world.source_ready("myapp-dev", f"dev@sha1:{fix}"),
                   "the source to have the fix")
        assert health_check_of(world, broken), "the broken revision's health check was cut short"
    finally:
        if world.clock is not None:
            world.clock.release()
    # the fix's reconcile is queued already: the failure shows only until it starts, so it is
    # read from the recording, not waited for
    world.wait(lambda: world.ready_at("myapp-dev", f"dev@sha1:{fix}"), "the fix applied")
    ks.until(last_applied("fix"), "the fix applied")
    failed = [o for o in ks.raw if condition(o, "Ready").get("reason") == "HealthCheckFailed"]
    assert failed, "the broken revision's health check never failed"
    assert_health_check_failed(failed[0], broken)


def health_check_of(world: FluxWorld, sha: str) -> dict[str, Any] | None:
    obj = world.get(KS, "myapp-dev")
    running = (obj["status"].get("lastAttemptedRevision") == f"dev@sha1:{sha}"
               and condition(obj, "Healthy").get("status") == "Unknown"
               and condition(obj, "Ready").get("reason") == "Progressing")
    return obj if running else None


def assert_health_check_failed(obj: dict[str, Any], sha: str) -> None:
    message = condition(obj, "Ready")["message"]
    assert message.startswith("health check failed after "), message
    assert message.endswith(": timeout waiting for: [Deployment/dev/myapp status: 'InProgress']")
    assert condition(obj, "Healthy")["message"] == (
        "timeout waiting for: [Deployment/dev/myapp status: 'InProgress']")
    assert obj["status"]["lastAttemptedRevision"] == f"dev@sha1:{sha}"


def dependency_wait(world: FluxWorld, stage: Stage) -> None:
    """staging dependsOn dev: it waits while dev fails, and goes on once dev is Ready."""
    staging = stage.record("kustomization", KS, "myapp-staging")
    stage.label(world.push("dev", overlay_not_building("dev"), "break dev"), "dev-bad")
    world.annotate(GITREPO, "myapp-dev")
    world.wait(lambda: world.reason(KS, "myapp-dev", "BuildFailed"), "dev BuildFailed")
    change = stage.label(world.push("staging", with_image("ghcr.io/acme/myapp:1.1.0"),
                                    "staging 1.1.0"), "change")
    world.annotate(GITREPO, "myapp-staging")
    obj = world.wait(lambda: world.reason(KS, "myapp-staging", "DependencyNotReady"),
                     "staging DependencyNotReady")
    assert condition(obj, "Ready")["message"] == "dependency 'flux-system/myapp-dev' is not ready"
    fix = stage.label(world.push("dev", overlay_as_seeded("dev"), "fix dev"), "dev-fix")
    world.annotate(GITREPO, "myapp-dev")
    world.wait(lambda: world.ready_at("myapp-dev", f"dev@sha1:{fix}"), "dev fixed")
    world.wait(lambda: world.ready_at("myapp-staging", f"staging@sha1:{change}"),
               "staging to go on (its dependency requeue)")
    staging.until(last_applied("change", "staging"), "staging applied")


def suspend_and_resume(world: FluxWorld, stage: Stage) -> None:
    ks = stage.record("kustomization", KS, "myapp-dev")
    generation = world.patch_spec(KS, "myapp-dev", {"suspend": True})
    world.wait(lambda: world.get(KS, "myapp-dev")["status"].get("observedGeneration")
               == generation, "the suspension observed")
    before = world.get(KS, "myapp-dev")["status"]
    sha = stage.label(world.push("dev", with_image("ghcr.io/acme/myapp:1.2.0"), "myapp 1.2.0"),
                      "push")
    world.annotate(GITREPO, "myapp-dev")
    world.wait(lambda: world.source_ready("myapp-dev", f"dev@sha1:{sha}"), "the push fetched")
    assert world.get(KS, "myapp-dev")["status"].get("lastAttemptedRevision") == before.get(
        "lastAttemptedRevision"), "a suspended Kustomization attempted a new revision"
    world.patch_spec(KS, "myapp-dev", {"suspend": False})
    world.wait(lambda: world.ready_at("myapp-dev", f"dev@sha1:{sha}"), "applied after resume")
    ks.until(last_applied("push"), "applied after resume")


def source_deleted(world: FluxWorld, stage: Stage) -> None:
    """The GitRepository goes: nothing happens until the next reconcile (here requested),
    which says the source is not found; recreated, it is applied again."""
    ks = stage.record("kustomization", KS, "myapp-dev")
    world.delete(GITREPO, "myapp-dev")
    world.annotate(KS, "myapp-dev")
    obj = world.wait(lambda: world.reason(KS, "myapp-dev", "ArtifactFailed"), "ArtifactFailed")
    assert condition(obj, "Ready")["message"] == (
        'GitRepository.source.toolkit.fluxcd.io "myapp-dev" not found')
    source = world.example(GITREPO, "myapp-dev")
    source["spec"]["interval"] = QUIET
    world.create(GITREPO, source)
    start = f"dev@sha1:{world.head('dev')}"
    world.wait(lambda: world.ready_at("myapp-dev", start), "applied again")
    ks.until(lambda s: s[-1].ready == "True" and any(o.reason == "ArtifactFailed" for o in s),
             "the recovery")


def new_source(world: FluxWorld, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    doc = world.example(GITREPO, "myapp-dev")
    doc["metadata"] = {"name": name, "namespace": FLUX_NAMESPACE}
    doc["spec"].update({"interval": QUIET, **spec})
    return doc


def source_fetch_fails(world: FluxWorld, stage: Stage) -> None:
    """A branch that does not exist: GitOperationFailed, retried (with backoff)."""
    name = "conformance-no-branch"
    created = world.create(GITREPO, new_source(world, name, {"ref": {"branch": "no-such"}}))
    try:
        source = stage.record("source", GITREPO, name, since=created)
        source.until(lambda s: sum(o.ready == "False" for o in s) >= 2, "a retried failure")
    finally:
        world.delete(GITREPO, name)
    source.until_gone("the deletion")


def source_url_invalid(world: FluxWorld, stage: Stage) -> None:
    """A URL Go cannot parse: Stalled, not retried. Deleting it is one more reconcile (the
    deletion's), which drops Stalled and keeps Ready=False URLInvalid and FetchFailed in the
    conditions it writes before its finalizer goes: recorded until the object is gone, so
    that write is in the sequence on both worlds, however late the watch delivers it."""
    name = "conformance-bad-url"
    created = world.create(GITREPO, new_source(world, name, {"url": "https://bad host/x"}))
    try:
        source = stage.record("source", GITREPO, name, since=created)
        source.until(lambda s: s[-1].reason == "URLInvalid" and s[-1].observed_generation > 0,
                     "Stalled observed")
        obj = world.get(GITREPO, name)
        assert condition(obj, "Stalled")["status"] == "True"
    finally:
        world.delete(GITREPO, name)
    source.until_gone("the deletion")


SCENARIOS = (
    Scenario("push", "a push to dev and its applied revision", ("dev",), push_is_applied),
    Scenario("requested-at", "a requestedAt", ("dev",), requested_at),
    Scenario("build-failure", "a build failure, then its fix", ("dev",), build_failure),
    Scenario("health-check-timeout", "a health-check failure and its timeout (10s: 30s)",
             ("dev",), health_check_timeout),
    Scenario("fix-during-health-check", "a fix pushed during a failing health check",
             ("dev",), fix_during_health_check),
    Scenario("dependency", "a dependsOn wait and its recovery", ("dev", "staging"),
             dependency_wait),
    Scenario("suspend", "suspend and resume", ("dev",), suspend_and_resume),
    Scenario("source-deleted", "deleting a source, then recreating it", ("dev",),
             source_deleted),
    Scenario("source-fetch-fails", "a GitRepository whose branch does not exist", (),
             source_fetch_fails),
    Scenario("source-url-invalid", "a GitRepository whose URL does not parse", (),
             source_url_invalid),
)


def first_failures(rows: list[Row], count: int = 2) -> list[Row]:
    """A retried failure's sequence up to its `count`-th Ready=False: how many retries fit in
    a recording is timing, not behaviour."""
    seen = 0
    for index, row in enumerate(rows):
        seen += row[0] == "False"
        if seen == count:
            return rows[: index + 1]
    return rows


def dump(rows: dict[str, list[Row]]) -> str:
    return json.dumps(rows, indent=1)
