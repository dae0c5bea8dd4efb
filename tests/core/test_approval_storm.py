"""An approval storm: 50 stakeholders click Approve on one prod record (50 approvals required)
at the same moment. Each approval that loses the record's compare-and-set to another is
retried on the newer record, so all 50 are recorded, none is lost and none raises."""

from __future__ import annotations

import threading
from importlib import resources

from slackbot.adapters.redis_store import RedisStore
from slackbot.config import parse_pipeline
from slackbot.models import State
from tests.core.conftest import DEVELOPER, REVIEWER, build_core
from tests.core.fakes import (
    FakeClock,
    FakeCluster,
    FakeDirectory,
    FakeForge,
    FakeWorkspace,
    RecordingNotifier,
)

STAKEHOLDERS = [f"U0STAKE{i:02d}" for i in range(50)]


def test_fifty_concurrent_approvals_are_all_recorded(store: RedisStore) -> None:
    text = resources.files("slackbot").joinpath("default-pipeline.yaml").read_text()
    pipeline = parse_pipeline(text.replace("stakeholderApprovals: 1",
                                           f"stakeholderApprovals: {len(STAKEHOLDERS)}"))
    forge = FakeForge()
    for branch in ("dev", "staging", "prod"):
        forge.push(branch)
    cluster = FakeCluster()
    for env in ("dev", "staging", "prod"):
        cluster.deploy(f"myapp-{env}", env, forge.heads[env])
    directory = FakeDirectory({"S0STAKEHOLDERS": set(STAKEHOLDERS), "S0ONCALL": set()})
    core = build_core(pipeline, store, forge, cluster, directory, RecordingNotifier(),
                      FakeClock(), FakeWorkspace(forge))
    sha = forge.push("staging")
    cluster.deploy("myapp-staging", "staging", sha)
    record = core.steps.advance(core.commands.request("myapp", "prod", DEVELOPER).id)
    forge.set_check(sha, "ci", "success")
    forge.review(record.pr_number, REVIEWER)
    record = core.steps.advance(record.id)
    assert record.state is State.AWAITING_GATES

    barrier = threading.Barrier(len(STAKEHOLDERS))
    errors: list[BaseException] = []

    def approve(user: str) -> None:
        barrier.wait()
        try:
            core.commands.approve(record.id, user, sha)
        except BaseException as exc:  # every failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(u,)) for u in STAKEHOLDERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    stored = store.get(record.id)
    assert stored is not None
    assert sorted(stored.approvers()) == sorted(STAKEHOLDERS)
    assert len(stored.approvals) == len(STAKEHOLDERS)  # each once
    approved = [e for e in store.events(record.id) if e.kind == "approved"]
    assert len(approved) == len(STAKEHOLDERS)
