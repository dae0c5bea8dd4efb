"""/promote through the real Bolt app: one card per record, updated in place, details in its
thread, and the ack reaching Slack before any GitHub or cluster call."""

from __future__ import annotations

from handlers import ids
from tests.handlers.conftest import DEPLOYS, DEV, REVIEWER, Edge, wait_for


def _states(versions: list[dict]) -> list[str]:
    seen: list[str] = []
    for version in versions:
        state = version["text"].rpartition(", ")[2]
        if not seen or seen[-1] != state:
            seen.append(state)
    return seen


def _text_of(message: dict) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields") or [])
        parts.extend(
            e.get("text", "")
            for e in block.get("elements") or []
            if "text" in e and isinstance(e["text"], str)
        )
    return "\n".join(parts)


def _action_ids(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_promote_staging_posts_one_card_updated_in_place_until_deployed(edge: Edge) -> None:
    result = edge.command("/promote staging")
    assert result["ack"] is None  # no note in the ack: it could show after the answer
    record = edge.wait_state(1, "awaiting_gates")
    edge.settle()  # the listener's engine.advance is over: only the test moves the world now
    card = edge.card_of(1)
    assert _action_ids(card) == [ids.CANCEL]  # staging needs no stakeholder
    assert "waiting for ci" in _text_of(card) and "0 of 1 approving review" in _text_of(card)
    edge.wait_ephemeral(DEV, "Promotion P-1 of myapp to staging")

    edge.forge.set_check(record.head_sha or "", "ci", "success")
    edge.forge.review(record.pr_number or 0, REVIEWER)
    edge.core.runner.tick()  # the scheduled job re-reads the gates
    merged = edge.wait_state(1, "reconciling")
    edge.cluster.deploy("myapp-staging", "staging", merged.merge_sha or "")
    edge.core.runner.tick()
    edge.wait_state(1, "deployed")
    edge.settle()  # the card and its thread follow the record, at Slack's pace

    cards = edge.cards()
    assert len(cards) == 1, "one card per promotion, updated in place"
    versions = edge.emulator.message_versions(DEPLOYS, cards[0]["ts"])
    # Updates are coalesced (the newest state wins): the card may skip a state that lasted
    # less than one update (its first post too: under load the pull request can be open
    # before the card is first rendered), never go back, and always ends on the final one.
    order = ["requested", "pr open", "awaiting gates", "merging", "reconciling", "deployed"]
    shown = _states(versions)
    assert shown[-1] == "deployed" and set(shown) <= set(order)
    assert shown == sorted(set(shown), key=order.index)
    final = versions[-1]
    text = _text_of(final)
    assert final["blocks"][0]["type"] == "header"
    assert "Promotion P-1: myapp → staging" in final["blocks"][0]["text"]["text"]
    assert f"<@{DEV}>" in text
    assert "`dev` → `staging`" in text
    assert f"`{(merged.merge_sha or '')[:7]}`" in text
    assert "<https://github.test/acme/myapp/pull/1|#1>" in text
    merge = merged.merge_sha or ""
    assert f"*Merged as*\n<https://github.test/acme/myapp/commit/{merge}|{merge[:7]}>" in text
    for step in (
        "Requested by",
        "Pull request",
        "Every gate is green",
        "Merged",
        "Reconciling",
        "Deployed",
    ):
        assert step in text, step
    assert _action_ids(final) == []
    replies = edge.emulator.replies(DEPLOYS, cards[0]["ts"])[1:]
    assert any("Gates on" in r["text"] for r in replies)
    assert not any("check:ci" in r["text"] for r in replies)  # the gate in words, not its key
    assert any("Merged as" in r["text"] for r in replies)
    assert any(":rocket:" in r["text"] for r in replies)


def test_slash_command_ack_reaches_slack_before_any_forge_or_cluster_call(edge: Edge) -> None:
    edge.order.hold()
    result = edge.command("/promote staging")
    edge.order.note("ack received by Slack")
    edge.order.release()
    assert result["status"] == 200 and result["error"] is None
    edge.wait_state(1, "awaiting_gates")
    assert edge.order.log[0] == "ack received by Slack"
    assert edge.order.outside_calls()[0] == "forge compare"


def test_failed_deploy_offers_the_rollback_of_the_env_it_changed(edge: Edge) -> None:
    edge.command("/promote staging")
    record = edge.wait_state(1, "awaiting_gates")
    edge.settle()
    edge.forge.set_check(record.head_sha or "", "ci", "success")
    edge.forge.review(record.pr_number or 0, REVIEWER)
    edge.core.runner.tick()
    merged = edge.wait_state(1, "reconciling")
    edge.cluster.set_status("myapp-staging", ready="False", reason="HealthCheckFailed",
                            message="timeout waiting for: [Deployment/staging/myapp]",
                            attempted=f"staging@sha1:{merged.merge_sha}")
    edge.core.runner.tick()
    edge.wait_state(1, "failed")
    card = edge.card_of(1)
    assert _action_ids(card) == [ids.RETRY, ids.ROLLBACK]  # it merged: staging changed
    rollback = next(e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
                    if e["action_id"] == ids.ROLLBACK)
    assert '"app":"myapp"' in rollback["value"] and '"env":"staging"' in rollback["value"]
    edge.click(DEV, ids.ROLLBACK, card["ts"])
    dialog = wait_for(lambda: edge.emulator.open_views(DEV), what="the rollback dialog")[-1]
    assert (dialog["callback_id"], dialog["title"]["text"]) == (ids.ROLLBACK_VIEW,
                                                                "Roll back staging")


def test_failed_check_shows_reason_and_retry_but_no_rollback(edge: Edge) -> None:
    edge.command("/promote staging")
    record = edge.wait_state(1, "awaiting_gates")
    edge.settle()
    edge.forge.set_check(record.head_sha or "", "ci", "failure")
    edge.core.runner.tick()
    edge.wait_state(1, "failed")
    card = edge.card_of(1)
    # failed before its merge: staging never changed, so there is nothing to roll back
    assert _action_ids(card) == [ids.RETRY]
    assert "*Failed:* ci failed on" in _text_of(card)
    edge.forge.set_check(record.head_sha or "", "ci", "success")  # fixed and re-run
    edge.click(DEV, ids.RETRY, card["ts"])
    edge.wait_ephemeral(DEV, "Retrying P-1 as P-2")
    edge.wait_state(2, "awaiting_gates")
    assert len(edge.cards()) == 2


def test_cancel_button_cancels_and_card_offers_retry(edge: Edge) -> None:
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.click(DEV, ids.CANCEL, edge.card_of(1)["ts"])
    edge.wait_state(1, "cancelled")
    edge.wait_ephemeral(DEV, "You cancelled P-1")
    card = edge.card_of(1)
    assert _action_ids(card) == [ids.RETRY]
    assert f"Cancelled by <@{DEV}>" in _text_of(card)


def test_cancel_command_by_id(edge: Edge) -> None:
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.command("/promote cancel R-1")  # the wrong letter: refused, never obeyed
    edge.wait_ephemeral(DEV, "there is no R-1: record 1 is P-1, a promotion")
    assert edge.store.get(1).state.value == "awaiting_gates"
    edge.command("/promote cancel P-1")
    edge.wait_state(1, "cancelled")
    edge.wait_ephemeral(DEV, "You cancelled P-1")
    assert edge.working_notes(DEV) == []


def test_engine_outage_gives_generic_answer_with_reference_and_no_detail(edge: Edge) -> None:
    def broken(*_: object) -> str:
        raise RuntimeError("token=ghp_secret leaked in an exception")

    edge.forge.branch_head = broken  # type: ignore[method-assign]
    edge.command("/promote staging")
    text = edge.wait_ephemeral(DEV, "reference")
    assert "ghp_secret" not in text and "RuntimeError" not in text
    assert edge.cards() == []


def test_a_slow_answer_replaces_its_on_it_note_and_a_fast_one_has_none(edge: Edge) -> None:
    """Slack applies an ack's message asynchronously, so the ack carries none: "On it…" is
    posted only when the answer is slow, then replaced by it, so it never shows after it."""
    edge.order.hold()  # GitHub and Flux do not answer yet: the answer is slow
    edge.command("/promote staging")
    edge.wait_ephemeral(DEV, "On it: checking that staging can be promoted")
    edge.order.release()
    edge.wait_ephemeral(DEV, "Promotion P-1 of myapp to staging")
    assert edge.working_notes(DEV) == []
    assert len(edge.ephemeral_texts(DEV)) == 1  # the note became the answer
    edge.command("/promote cancel P-1")  # whatever its speed: one answer, no note left
    edge.wait_ephemeral(DEV, "You cancelled P-1")
    assert edge.working_notes(DEV) == [] and len(edge.ephemeral_texts(DEV)) == 2
