"""/promote's other forms through the real Bolt app: help, status, typos answered with the
closest choice, freeze and unfreeze, and usage mistakes."""

from __future__ import annotations

from tests.handlers.conftest import DEPLOYS, DEV, Edge, wait_for
from tests.handlers.test_promotion_card import _text_of


def test_help_is_answered_in_the_ack(edge: Edge) -> None:
    result = edge.command("/promote help")
    ack = result["ack"]
    assert ack["blocks"][0]["type"] == "header"
    assert "/promote status [app]" in _text_of(ack)
    assert edge.order.outside_calls() == []


STATUS = "Status of myapp per environment"


def test_a_status_while_github_and_the_cluster_were_just_read_is_answered_in_the_ack(
        edge: Edge) -> None:
    edge.command("/promote status")  # the first one reads them, on the workers
    edge.wait_ephemeral(DEV, STATUS)
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    asked = edge.order.outside_calls()

    ack = edge.command("/promote status")["ack"]
    assert ack["text"] == STATUS and ack["response_type"] == "ephemeral"
    # the record started after that read comes from the store, which every status reads
    assert "P-1 promotion by <@U0DEV>: awaiting gates" in _text_of(ack)
    edge.settle()
    assert edge.order.outside_calls() == asked  # nor GitHub nor the cluster, then or after
    assert edge.working_notes(DEV) == []


def test_a_changed_status_is_read_ahead_after_an_ack_half_min_interval_on(edge: Edge) -> None:
    edge.command("/promote status")
    edge.wait_ephemeral(DEV, STATUS)
    edge.command("/promote staging")  # a change
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    edge.clock.advance(seconds=3)
    asked = len(edge.order.outside_calls())

    assert edge.command("/promote status")["ack"]["text"] == STATUS
    edge.settle()
    assert "forge branch_head" in edge.order.outside_calls()[asked:]  # on the workers


def test_a_changed_status_past_min_interval_is_read_again_after_an_empty_ack(
        edge: Edge) -> None:
    edge.command("/promote status")
    edge.wait_ephemeral(DEV, STATUS)
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    edge.clock.advance(seconds=6)
    asked = len(edge.order.outside_calls())
    shown = len([t for t in edge.ephemeral_texts(DEV) if t == STATUS])

    assert edge.command("/promote status")["ack"] is None
    wait_for(lambda: len([t for t in edge.ephemeral_texts(DEV) if t == STATUS]) > shown,
             what="the answer through response_url")
    assert "forge branch_head" in edge.order.outside_calls()[asked:]


def test_unknown_subcommand_names_the_closest_command(edge: Edge) -> None:
    result = edge.command("/promote staus")
    assert "did you mean `/promote status`?" in result["ack"]["text"]
    assert edge.order.outside_calls() == []


def test_unknown_env_names_the_closest_env(edge: Edge) -> None:
    edge.command("/promote stagin")
    text = edge.wait_ephemeral(DEV, "has no environment")
    assert "did you mean `staging`?" in text
    assert edge.cards() == []


def test_unknown_app_names_the_closest_app(edge: Edge) -> None:
    edge.command("/promote staging myap")
    assert "did you mean `myapp`?" in edge.wait_ephemeral(DEV, "there is no app")


def test_prod_straight_from_dev_is_refused_with_the_order(edge: Edge) -> None:
    edge.command("/promote dev")
    edge.wait_ephemeral(DEV, "first environment of myapp")
    assert edge.cards() == []


def test_status_shows_every_env_with_head_revision_pods_and_waiting(edge: Edge) -> None:
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    result = edge.command("/promote status")
    assert result["ack"] is None  # no note in the ack: it could show after the answer
    status = wait_for(
        lambda: next(
            (
                m
                for m in edge.emulator.ephemerals(DEV)
                if m.get("text") == "Status of myapp per environment"
            ),
            None,
        ),
        what="the status answer",
    )
    text = _text_of(status)
    assert status["blocks"][0]["text"]["text"] == "Status of myapp"
    for env in ("dev", "staging", "prod"):
        head = edge.forge.heads[env][:7]
        assert f"*{env}* · :large_green_circle: Ready" in text
        assert f"`{env}@{head}`" in text
    assert "P-1 promotion by <@U0DEV>: awaiting gates" in text
    assert "1 of 1" in text  # pods ready of desired
    assert "Waiting to be promoted here*\n1 commit" in text
    assert edge.working_notes(DEV) == []  # one answer: a slow one replaced its "On it…"


def test_freeze_refuses_promotions_until_unfreeze(edge: Edge) -> None:
    edge.command("/promote freeze staging release party")
    announced = wait_for(
        lambda: [m for m in edge.emulator.history(DEPLOYS) if "froze staging" in m["text"]],
        what="freeze announced",
    )
    assert "release party" in announced[0]["text"]
    edge.command("/promote staging")
    refusal = edge.wait_ephemeral(DEV, "staging is frozen by")
    assert f"<@{DEV}>" in refusal and "release party" in refusal
    assert edge.cards() == []

    edge.command("/promote unfreeze staging")
    wait_for(
        lambda: [m for m in edge.emulator.history(DEPLOYS) if "unfroze staging" in m["text"]],
        what="unfreeze announced",
    )
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")


def test_freezing_a_frozen_env_again_says_who_froze_it_and_since_when(edge: Edge) -> None:
    edge.command("/promote freeze staging release party")
    wait_for(lambda: edge.store.blocks("myapp", "staging"), what="staging frozen")
    first = edge.store.blocks("myapp", "staging")[0]
    frozen_events = len(edge.store.events())
    edge.clock.advance(hours=1)

    edge.command("/promote freeze staging")  # the same owner, no new reason
    said = edge.wait_ephemeral(DEV, "is already frozen by")
    assert said.startswith(f":information_source: staging of myapp is already frozen by "
                           f"<@{DEV}> since <!date^{int(first.at.timestamp())}^")
    assert "release party. Nothing changed" in said
    assert edge.store.blocks("myapp", "staging") == [first]  # the original freeze, kept
    assert len(edge.store.events()) == frozen_events

    edge.command("/promote freeze staging release party, day two")
    changed = wait_for(lambda: [m for m in edge.emulator.history(DEPLOYS)
                                if "changed the reason" in m["text"]], what="the new reason")
    assert "release party, day two" in changed[0]["text"]
    kept = edge.store.blocks("myapp", "staging")[0]
    assert (kept.reason, kept.at, kept.by) == ("release party, day two", first.at, DEV)


def test_a_slash_command_whose_text_says_payload_is_read_as_a_command(edge: Edge) -> None:
    # Bolt alone reads any form body with "payload" in it as an interactive payload ({}): the
    # command would get no listener and a 404
    result = edge.command("/promote freeze staging payload migration")
    assert result["status"] == 200
    announced = wait_for(
        lambda: [m for m in edge.emulator.history(DEPLOYS) if "froze staging" in m["text"]],
        what="freeze announced",
    )
    assert "payload migration" in announced[0]["text"]


def test_unfreeze_of_an_open_env_says_so(edge: Edge) -> None:
    edge.command("/promote unfreeze prod")
    edge.wait_ephemeral(DEV, "prod of myapp was not frozen")


def test_usage_mistakes_are_answered_at_once(edge: Edge) -> None:
    assert "`/promote cancel &lt;name&gt;`" in edge.command("/promote cancel abc")["ack"][
        "text"]
    assert "is how GitHub names a pull request" in edge.command("/promote cancel #1")["ack"][
        "text"]
    assert "`/promote freeze &lt;env&gt;`" in edge.command("/promote freeze")["ack"]["text"]
    assert edge.order.outside_calls() == []
