"""The workflow document's path, driven from Slack through the real bot against the emulated
world: a push deploys dev; /promote staging with a passing check and a review merges and deploys
staging; /promote prod with a review, a stakeholder approval, a rollback plan and an open window
merges and deploys prod. Each card's final blocks and its sequence of updates are checked."""

from __future__ import annotations

from handlers import ids
from slackbot.models import State
from tests.e2e.conftest import DEV, STAKEHOLDER, Live, blocks_text, wait_for


def test_dev_to_staging_to_prod(live: Live) -> None:
    world = live.world
    sha = live.push("dev", "apps/myapp/CHANGELOG.md", "- faster checkout\n", "Faster checkout")
    live.wait_deployed("dev", sha)

    # -- staging ---------------------------------------------------------------------------
    reply = live.command(DEV, "/promote staging")
    # an empty ack: the one answer follows as an ephemeral (an "On it…" in the ack could show
    # after it, since Slack applies an ack's message asynchronously)
    assert reply["ack"] is None
    wait_for(lambda: live.ephemerals(DEV), "the answer to /promote staging")
    staging = live.live_record("staging")
    staging = live.wait_state(staging.id, State.AWAITING_GATES)
    assert staging.head_sha == sha
    pull = world.github.pull_request(staging.pr_number)
    assert (pull["base"]["ref"], pull["head"]["ref"]) == ("staging", "dev")
    assert "Faster checkout" in pull["body"] and "apps/myapp/CHANGELOG.md" in pull["body"]
    world.github.set_check(sha, "ci", "success")
    live.approve_pull(staging.pr_number)
    staging = live.wait_state(staging.id, State.DEPLOYED, State.FAILED)
    assert staging.state is State.DEPLOYED, staging.failure
    assert live.deployed("staging", staging.merge_sha)
    merge_commit = world.github.pull_request(staging.pr_number)
    assert merge_commit["merged"] and merge_commit["merge_commit_sha"] == staging.merge_sha

    card = wait_for(lambda: (t := live.card_text(staging.id)) and "deployed" in t.lower() and t,
                    "the card to say deployed")
    assert staging.merge_sha[:7] in card
    versions = [blocks_text(v.get("blocks", [])) for v in live.card_versions(staging.id)]
    assert len(versions) >= 2 and "deployed" not in versions[0].lower()
    # the card went through the steps in order (Slack's pace may fold neighbouring steps)
    order = [next((i for i, v in enumerate(versions) if needle in v.lower()), None)
             for needle in ("requested", "awaiting", "merged", "deployed")]
    found = [i for i in order if i is not None]
    assert found == sorted(found) and len(found) >= 3, (order, versions)

    # -- prod ------------------------------------------------------------------------------
    live.command(DEV, "/promote prod")
    prod = live.wait_state(live.live_record("prod").id, State.AWAITING_GATES)
    head = prod.head_sha
    world.github.set_check(head, "ci", "success")
    live.approve_pull(prod.pr_number)
    # the check's and the review's deliveries come in either order: wait for both verdicts
    wait_for(lambda: all((g := live.record(prod.id).gate(name)) and g.passed
                         for name in ("reviews", "check:ci")), "the review and check gates")
    pending = {g.name for g in live.record(prod.id).gates if not g.passed}
    assert pending == {"stakeholders", "rollback-plan"}
    buttons = _actions(live.card(prod.id))
    assert {ids.APPROVE, ids.REJECT, ids.ADD_PLAN, ids.CANCEL} <= buttons

    live.click(STAKEHOLDER, prod, ids.APPROVE)
    wait_for(lambda: live.record(prod.id).approvers() == (STAKEHOLDER,), "sam's approval")
    opened = live.click(DEV, prod, ids.ADD_PLAN)
    assert opened["status"] == 200
    view = wait_for(lambda: world.slack.open_views(DEV), "the rollback plan modal")[-1]
    submitted = world.slack.submit(DEV, view["id"], {
        ids.PLAN_BLOCK: {ids.PLAN_INPUT: "Revert the merge commit on prod; Flux rolls back."}})
    assert submitted["status"] == 200
    prod = live.wait_state(prod.id, State.DEPLOYED, State.FAILED)
    assert prod.state is State.DEPLOYED, prod.failure
    assert live.deployed("prod", prod.merge_sha)
    assert "Revert the merge commit on prod" in world.github.pull_request(prod.pr_number)["body"]
    assert world.cluster.store.get("deployments", "prod", "myapp")["status"]["readyReplicas"] == 3
    wait_for(lambda: "deployed" in live.card_text(prod.id).lower(), "the prod card deployed")


def _actions(message: dict) -> set[str]:
    return {e["action_id"] for b in message.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]}

