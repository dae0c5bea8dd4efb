"""Freezes at every scale through the real Bolt app: `/promote freeze all` and `/promote freeze
<app>`, lifted by the same people as any freeze; the calendar's dated freezes on the status and
App Home; and approvals counted per group on the card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from handlers import ids
from slackbot.config import default_pipeline_text, parse_pipeline
from slackbot.pipeline import Pipeline
from tests.core.test_timers import pipeline_with
from tests.handlers.conftest import (
    DEPLOYS,
    DEV,
    OUTSIDER,
    PRODUCT,
    REVIEWER,
    SRE,
    STAKE,
    STAKE2,
    Edge,
    wait_for,
)
from tests.handlers.test_promotion_card import _text_of


def _announced(edge: Edge, needle: str) -> str:
    found = wait_for(lambda: [m["text"] for m in edge.emulator.history(DEPLOYS)
                              if needle in m["text"]], what=f"{needle!r} in the channel")
    return str(found[0])


def _status(edge: Edge, user: str = DEV) -> str:
    edge.command("/promote status", user=user)
    status = wait_for(lambda: next((m for m in edge.emulator.ephemerals(user)
                                    if m.get("text") == "Status of myapp per environment"),
                                   None), what="the status answer")
    return _text_of(status)


def test_freeze_all_refuses_every_env_shows_on_status_and_is_lifted(edge: Edge) -> None:
    edge.command("/promote freeze all end of year")
    text = _announced(edge, "froze every app")
    assert text.startswith(f":ice_cube: <@{DEV}> froze every app: end of year.")
    edge.command("/promote staging", user=REVIEWER)
    refusal = edge.wait_ephemeral(REVIEWER, "staging is frozen with every app")
    assert "/promote unfreeze all" in refusal and "end of year" in refusal
    assert ":ice_cube: freeze of every app by" in _status(edge)
    edge.command("/promote unfreeze all", user=REVIEWER)  # not theirs, not a stakeholder
    edge.wait_ephemeral(
        REVIEWER, f"needs whoever froze it, or the stakeholder or on-call role: ask <@{DEV}>")
    edge.command("/promote unfreeze staging")
    edge.wait_ephemeral(DEV, "a wider one covers it: `/promote unfreeze all` lifts that")
    edge.command("/promote unfreeze all", user=STAKE)  # a stakeholder of the one app
    _announced(edge, "lifted the freeze of every app")
    edge.command("/promote staging", user=REVIEWER)
    edge.wait_state(1, "awaiting_gates")


def test_freeze_of_the_app_by_name(edge: Edge) -> None:
    edge.command("/promote freeze myapp db migration")
    assert "froze every environment of myapp: db migration" in _announced(edge, "froze every")
    edge.command("/promote prod")
    edge.wait_ephemeral(DEV, "prod is frozen with every environment of myapp")
    edge.command("/promote unfreeze myapp")
    _announced(edge, "lifted the freeze of every environment of myapp")
    edge.command("/promote unfreeze myapp")
    edge.wait_ephemeral(DEV, "There is no freeze of every environment of myapp")


def _calendar() -> Pipeline:
    data = yaml.safe_load(default_pipeline_text())
    data["apps"]["myapp"]["environments"][2]["freezes"] = [
        {"from": "2026-12-20", "until": "2027-01-04", "reason": "holiday freeze"}]
    data["apps"]["myapp"]["freezes"] = [
        {"from": "2026-11-25 11:00", "until": "2026-11-25 14:00", "reason": "db migration"}]
    return parse_pipeline(yaml.safe_dump(data, sort_keys=False), "calendar")


def test_calendar_freezes_refuse_in_force_and_show_on_status_and_home(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(_calendar())  # the bot's clock: Wednesday 2026-11-25 12:00 UTC
    edge.command("/promote staging")
    refusal = edge.wait_ephemeral(DEV, "staging is in a calendar freeze (db migration) until")
    assert "2026-11-25 14:00 UTC" in refusal
    text = _status(edge)
    assert ":calendar: calendar freeze (in force) from" in text and "db migration" in text
    assert ":calendar: calendar freeze (planned) from" in text and "holiday freeze" in text
    edge.emulator.open_home(STAKE)
    home = wait_for(lambda: edge.emulator.state()["home"].get(STAKE), what="App Home published")
    assert "holiday freeze" in str(home)
    edge.clock.advance(hours=2)
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")


def test_the_card_counts_approvals_per_group(edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(pipeline_with(gates={
        "stakeholderApprovals": 2, "approvers": {"atLeast": {SRE: 1, PRODUCT: 1}}}))
    sha = edge.forge.push("staging")
    edge.cluster.deploy("myapp-staging", "staging", sha)
    edge.command("/promote prod")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    card = edge.card_of(1)
    assert (f"0 of 2 approvals: 0 of 1 from <!subteam^{SRE}>, 0 of 1 from "
            f"<!subteam^{PRODUCT}>") in _text_of(card)
    edge.click(STAKE, ids.APPROVE, card["ts"])
    edge.wait_ephemeral(STAKE, "You approved P-1")
    edge.bot.runner.tick()
    edge.wait_card(1, lambda c: f"1 of 1 from <!subteam^{SRE}>, 0 of 1 from" in _text_of(c),
                   "sam counted for SRE")
    edge.click(OUTSIDER, ids.APPROVE, card["ts"])
    edge.wait_ephemeral(OUTSIDER, "is for prod's approvers")
    edge.click(STAKE2, ids.APPROVE, card["ts"])
    edge.wait_ephemeral(STAKE2, "You approved P-1")
    edge.bot.runner.tick()
    done: Any = edge.wait_card(
        1, lambda c: f"2 of 2 approvals: 1 of 1 from <!subteam^{SRE}>, 1 of 1 from "
                     f"<!subteam^{PRODUCT}>" in _text_of(c), "both shares filled")
    assert done is not None


def test_freezing_every_app_again_says_who_froze_it_and_since_when(edge: Edge) -> None:
    edge.command("/promote freeze all end of year")
    _announced(edge, "froze every app")
    posted = len(edge.emulator.history(DEPLOYS))
    edge.command("/promote freeze all")
    said = edge.wait_ephemeral(DEV, "every app is already frozen by")
    assert f"every app is already frozen by <@{DEV}> since" in said
    assert "end of year. Nothing changed" in said and "`/promote unfreeze all` lifts it" in said
    edge.command("/promote freeze all end of year and the migration")
    text = _announced(edge, "changed the reason of the freeze of every app")
    assert "end of year and the migration" in text
    edge.settle()
    assert len(edge.emulator.history(DEPLOYS)) == posted + 1  # the repeat posted nothing
