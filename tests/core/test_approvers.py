"""Approvers as teams expect: named users besides groups, a quorum per env, and a share from
each of several groups (one person fills one share), counted on the card as "1 of 2 from
@sre, 0 of 1 from @product"."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.messages.card import gate_detail
from handlers.messages.refusals import sentence
from slackbot import gates as gate_names
from slackbot.approvals import helps, tally
from slackbot.errors import NotAllowed
from slackbot.models import GroupCount, Promotion, State
from slackbot.pipeline import Approvers
from tests.core.conftest import DEVELOPER, OUTSIDER, REVIEWER, STAKEHOLDER, World, new_world
from tests.core.test_timers import pipeline_with, waiting_prod

RULE = Approvers(groups=("S0SRE", "S0PRODUCT"), quorum=3,
                 at_least=(("S0SRE", 2), ("S0PRODUCT", 1)))


def test_tally_counts_each_groups_share_and_the_quorum() -> None:
    counted = tally(RULE, ("U1",), {"U1": ("S0SRE",)})
    assert counted.groups == (GroupCount("S0SRE", 1, 2), GroupCount("S0PRODUCT", 0, 1))
    assert (counted.have, counted.need, counted.passed) == (1, 3, False)
    done = tally(RULE, ("U1", "U2", "U3"),
                 {"U1": ("S0SRE",), "U2": ("S0SRE",), "U3": ("S0PRODUCT",)})
    assert done.passed


def test_one_person_fills_one_share_even_when_in_two_groups() -> None:
    rule = Approvers(groups=("S0SRE", "S0PRODUCT"), quorum=1,
                     at_least=(("S0SRE", 1), ("S0PRODUCT", 1)))
    both = {"U1": ("S0SRE", "S0PRODUCT")}
    assert not tally(rule, ("U1",), both).passed  # "one from each" means two people
    # a later SRE-only approver takes the SRE share: U1 moves to product (matching)
    assert tally(rule, ("U1", "U2"), {**both, "U2": ("S0SRE",)}).passed


def test_only_an_approval_that_moves_things_on_helps() -> None:
    groups = {"U1": ("S0SRE",)}
    assert helps(RULE, ("U1",), groups, "U2", ("S0SRE",))  # SRE needs a second
    full_sre = {"U1": ("S0SRE",), "U2": ("S0SRE",)}
    assert not helps(Approvers(quorum=2, at_least=(("S0SRE", 2), ("S0PRODUCT", 1))),
                     ("U1", "U2"), full_sre, "U4", ("S0SRE",))
    assert helps(RULE, ("U1", "U2"), full_sre, "U3", ("S0PRODUCT",))
    # beyond the shares, any approver helps until the quorum is met
    assert helps(Approvers(quorum=2, at_least=(("S0SRE", 1),)), ("U1",), groups, "U9", ())
    assert not helps(RULE, ("U1",), groups, "U1", ("S0SRE",))  # already counted


@pytest.fixture
def teams(store: Any) -> World:
    world = new_world(store, pipeline_with(gates={
        "stakeholderApprovals": 3,
        "approvers": {"users": ["U0CTO"], "atLeast": {"S0SRE": 2, "S0PRODUCT": 1}},
    }))
    world.directory.groups.update({"S0SRE": {STAKEHOLDER, "U0SRE2", DEVELOPER},
                                   "S0PRODUCT": {"U0PM1"}})
    return world


def stakeholders_gate(world: World, record: Promotion) -> Any:
    world.core.steps.advance(record.id)
    found = world.store.get(record.id)
    assert found is not None
    gate = found.gate(gate_names.STAKEHOLDERS)
    assert gate is not None
    return gate


def test_the_card_counts_each_group_share(teams: World) -> None:
    record = waiting_prod(teams)
    teams.core.commands.approve(record.id, STAKEHOLDER)
    gate = stakeholders_gate(teams, record)
    assert gate_detail(gate) == (
        f"1 of 3 approvals: 1 of 2 from <!subteam^S0SRE>, 0 of 1 from <!subteam^S0PRODUCT> "
        f"(<@{STAKEHOLDER}>)")
    approved = teams.store.get(record.id)
    assert approved is not None and approved.approvals[0].groups == ("S0SRE",)


def test_a_named_user_approves_without_a_group_but_fills_no_share(teams: World) -> None:
    record = waiting_prod(teams)
    for user in ("U0CTO", STAKEHOLDER, "U0SRE2"):
        teams.core.commands.approve(record.id, user)
    gate = stakeholders_gate(teams, record)
    assert (gate.have, gate.passed) == (3, False)  # quorum met, product's share not
    assert gate.groups == (GroupCount("S0SRE", 2, 2), GroupCount("S0PRODUCT", 0, 1))
    teams.core.commands.approve(record.id, "U0PM1")
    assert stakeholders_gate(teams, record).passed


def test_outsiders_and_the_requester_may_not_approve(teams: World) -> None:
    record = waiting_prod(teams)
    with pytest.raises(NotAllowed) as outsider:
        teams.core.commands.approve(record.id, OUTSIDER)
    assert "is for prod's approvers" in sentence(outsider.value.reason)
    with pytest.raises(NotAllowed) as own:
        teams.core.commands.approve(record.id, DEVELOPER)  # an SRE, but the requester
    assert f"you asked for {record.name}," in sentence(own.value.reason)
    assert teams.store.get(record.id).approvals == ()  # type: ignore[union-attr]


def test_without_groups_the_apps_stakeholders_approve_too_filling_no_share(
        teams: World) -> None:
    record = waiting_prod(teams)
    teams.core.commands.approve(record.id, "U0STAKE2")  # in groups.stakeholders only
    gate = stakeholders_gate(teams, record)
    assert gate.have == 1 and all(g.have == 0 for g in gate.groups)


def test_listed_groups_replace_the_stakeholders(store: Any) -> None:
    world = new_world(store, pipeline_with(gates={"approvers": {"groups": ["S0SRE"]}}))
    world.directory.groups["S0SRE"] = {"U0SRE2"}
    record = waiting_prod(world)
    with pytest.raises(NotAllowed):
        world.core.commands.approve(record.id, STAKEHOLDER)
    world.core.commands.approve(record.id, "U0SRE2")
    assert stakeholders_gate(world, record).passed  # the quorum defaults to 1


def test_the_short_form_still_counts_the_app_stakeholders(world: World) -> None:
    record = waiting_prod(world)
    world.core.commands.approve(record.id, STAKEHOLDER)
    gate = stakeholders_gate(world, record)
    assert gate_detail(gate) == f"1 of 1 stakeholder approval (<@{STAKEHOLDER}>)"
    assert gate.passed and gate.groups == ()
    assert world.core.approving.waiting_on(world.store.get(record.id)) == ()  # type: ignore


def test_rejecting_needs_the_same_standing_as_approving(teams: World) -> None:
    record = waiting_prod(teams)
    with pytest.raises(NotAllowed):
        teams.core.commands.reject(record.id, REVIEWER, "no")
    rejected = teams.core.commands.reject(record.id, "U0CTO", "not this week")
    assert rejected.state is State.REJECTED
