"""Freezes at every scale: of every app, of one app, of one env, and the pipeline file's
calendar of dated freezes; lifted by the same people as any freeze."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from handlers.messages.refusals import sentence
from slackbot.config import default_pipeline_text, parse_pipeline
from slackbot.errors import EnvBlocked, NotAllowed
from slackbot.models import Promotion
from slackbot.pipeline import ALL
from slackbot.reasons import Code
from tests.core.conftest import (
    DEVELOPER,
    OUTSIDER,
    STAKEHOLDER,
    World,
    new_world,
)


def two_apps(extra: dict[str, Any] | None = None) -> Any:
    data = yaml.safe_load(default_pipeline_text())
    shop = yaml.safe_load(yaml.safe_dump(data["apps"]["myapp"]))
    shop["repository"] = "acme/shop"
    shop["roles"]["stakeholder"] = {"group": "S0SHOP"}
    shop["roles"]["oncall"] = {"group": "S0SHOPONCALL"}
    for env in shop["environments"]:
        env["kustomization"]["name"] = env["gitRepository"]["name"] = f"shop-{env['name']}"
    data["apps"]["shop"] = shop
    data.update(extra or {})
    return parse_pipeline(yaml.safe_dump(data, sort_keys=False), "two apps")


ONCALL = "U0ONCALL"  # on-call of both apps: may freeze and lift every app's envs
SHOPPER = "U0SHOP"  # a stakeholder of shop only


@pytest.fixture
def apps(store: Any) -> World:
    world = new_world(store, two_apps())
    world.directory.groups["S0SHOPONCALL"] = {ONCALL}
    world.directory.groups["S0SHOP"] = {SHOPPER}
    return world


def test_freeze_all_refuses_every_app_and_env_and_says_how_to_lift_it(apps: World) -> None:
    block = apps.core.freezes.freeze(None, ONCALL, "incident INC-7")
    assert (block.app, block.env) == (ALL, ALL)
    for app, env in (("myapp", "staging"), ("myapp", "prod"), ("shop", "prod")):
        with pytest.raises(EnvBlocked) as caught:
            apps.core.commands.admissible(app, env, DEVELOPER)
        text = sentence(caught.value.reason)
        assert text.startswith(f"{env} is frozen with every app by <@{ONCALL}> since")
        assert text.endswith("(incident INC-7): ask them, or /promote unfreeze all when it is over")


def test_freezing_every_app_takes_the_freeze_rule_of_each(apps: World) -> None:
    for user, app in ((OUTSIDER, "myapp"), (STAKEHOLDER, "shop"), (SHOPPER, "myapp")):
        with pytest.raises(NotAllowed) as caught:
            apps.core.freezes.freeze(None, user, "mine")
        assert (caught.value.reason.code, caught.value.reason.app) == (Code.NOT_PERMITTED, app)
    with pytest.raises(NotAllowed):
        apps.core.freezes.freeze("myapp", SHOPPER, "not my app")
    assert apps.store.blocks("shop", "prod") == apps.store.blocks("myapp", "prod") == []


def test_freeze_of_one_app_leaves_the_others_alone(apps: World) -> None:
    apps.core.freezes.freeze("myapp", STAKEHOLDER, "migration")
    with pytest.raises(EnvBlocked) as caught:
        apps.core.commands.admissible("myapp", "staging", DEVELOPER)
    assert "staging is frozen with every environment of myapp" in sentence(caught.value.reason)
    assert "/promote unfreeze myapp" in sentence(caught.value.reason)
    apps.core.commands.admissible("shop", "staging", DEVELOPER)  # no refusal
    assert apps.core.freezes.wider("myapp", "prod")[0].reason == "migration"
    assert apps.store.blocks("shop", "prod") == []


def test_the_env_freeze_is_still_its_own(apps: World) -> None:
    apps.core.holds.freeze("myapp", "prod", STAKEHOLDER, "audit")
    apps.core.freezes.freeze(None, ONCALL, "holidays")
    assert [b.env for b in apps.store.blocks("myapp", "prod")] == ["prod", ALL]
    assert apps.core.holds.unfreeze("myapp", "prod", STAKEHOLDER)  # lifts only prod's own
    assert apps.core.holds.unfreeze("myapp", "prod", STAKEHOLDER) is False  # the wide one stays
    assert [b.reason for b in apps.core.freezes.wider("myapp", "prod")] == ["holidays"]


def test_a_wide_freeze_is_lifted_by_its_author_or_by_who_may_lift_on_every_app(
        apps: World) -> None:
    apps.core.freezes.freeze(None, ONCALL, "holidays")
    # a stakeholder of myapp only: not enough for every app
    with pytest.raises(NotAllowed) as caught:
        apps.core.freezes.unfreeze(None, STAKEHOLDER)
    assert (caught.value.reason.code, caught.value.reason.app) == (Code.NOT_PERMITTED, "shop")
    assert "whoever froze it" in sentence(caught.value.reason)
    apps.directory.groups["S0SHOPONCALL"] = {ONCALL, STAKEHOLDER}
    assert apps.core.freezes.unfreeze(None, STAKEHOLDER)
    assert apps.store.blocks("shop", "prod") == []
    assert apps.core.freezes.unfreeze(None, STAKEHOLDER) is False  # nothing left to lift


def test_an_app_freeze_is_lifted_by_that_apps_people(apps: World) -> None:
    apps.core.freezes.freeze("shop", SHOPPER, "migration")
    with pytest.raises(NotAllowed) as caught:
        apps.core.freezes.unfreeze("shop", STAKEHOLDER)  # myapp's stakeholder, not shop's
    assert caught.value.reason.app == "shop"
    assert caught.value.reason.who == SHOPPER  # the owner is whom to ask
    assert apps.core.freezes.unfreeze("shop", SHOPPER)


def test_freezing_everything_says_so_on_every_live_pull_request(world: World) -> None:
    live = world.requested("staging")
    world.core.freezes.freeze(None, STAKEHOLDER, "holidays")
    said = [text for number, text in world.forge.comments if number == live.pr_number]
    assert said[-1] == ("every app is frozen by @U0STAKE (holidays): no promotion starts until "
                        "/promote unfreeze all.")


XMAS = {"from": "2026-12-20", "until": "2027-01-04", "reason": "holiday freeze",
        "timezone": "Europe/Berlin"}


def calendar_world(store: Any, where: str) -> World:
    data = yaml.safe_load(default_pipeline_text())
    app = data["apps"]["myapp"]
    if where == "top":
        data["freezes"] = [XMAS]
    elif where == "app":
        app["freezes"] = [XMAS]
    else:
        app["environments"][2]["freezes"] = [XMAS]
        app["environments"][2]["gates"]["changeWindows"] = []
    world = new_world(store, parse_pipeline(yaml.safe_dump(data, sort_keys=False), "calendar"))
    return world


@pytest.mark.parametrize("where", ["top", "app", "env"])
def test_a_calendar_freeze_refuses_from_its_first_minute_to_its_last(store: Any,
                                                                     where: str) -> None:
    world = calendar_world(store, where)
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    start = datetime(2026, 12, 19, 23, 0, tzinfo=UTC)  # midnight in Berlin
    world.clock.moment = start - timedelta(minutes=1)
    world.core.commands.admissible("myapp", "prod", DEVELOPER)
    world.clock.moment = start
    with pytest.raises(EnvBlocked) as caught:
        world.core.commands.request("myapp", "prod", DEVELOPER)
    text = sentence(caught.value.reason)
    assert text.startswith("prod is in a calendar freeze (holiday freeze) until <!date^")
    assert "2027-01-03 23:00 UTC" in text and "a hotfix still goes" in text
    world.clock.moment = datetime(2027, 1, 3, 23, 0, tzinfo=UTC)
    record = world.core.commands.request("myapp", "prod", DEVELOPER)
    assert isinstance(record, Promotion)


def test_calendar_freezes_show_on_the_status_while_they_are_to_come(store: Any) -> None:
    world = calendar_world(store, "env")
    [prod] = [e for e in world.core.status.read("myapp").envs if e.env == "prod"]
    assert [f.reason for f in prod.calendar] == ["holiday freeze"]
    assert prod.calendar[0].start == datetime(2026, 12, 19, 23, 0, tzinfo=UTC)
    [staging] = [e for e in world.core.status.read("myapp").envs if e.env == "staging"]
    assert staging.calendar == ()
    world.clock.moment = datetime(2027, 1, 5, tzinfo=UTC)  # over: no longer shown
    [prod] = [e for e in world.core.status.read("myapp").envs if e.env == "prod"]
    assert prod.calendar == ()


def test_a_hotfix_goes_through_a_calendar_freeze(store: Any) -> None:
    world = calendar_world(store, "env")
    world.clock.moment = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    world.core.incidents.hotfix_start("myapp", "fix-login", DEVELOPER)
    world.forge.push("hotfix/fix-login")
    world.forge.ahead[("prod", "hotfix/fix-login")] = 1
    record = world.hotfix_promoted("fix-login")
    assert record.live


def test_a_wide_freeze_keeps_its_owner_and_its_time_when_repeated(apps: World) -> None:
    first = apps.core.freezes.freezing(None, ONCALL, "incident INC-7")
    assert first.repeated is None
    apps.clock.advance(minutes=5)
    again = apps.core.freezes.freezing(None, ONCALL, "")  # the same owner, no new reason
    assert again.unchanged and again.block == first.block
    changed = apps.core.freezes.freezing(None, ONCALL, "incident INC-7 and INC-8")
    assert changed.repeated == first.block and not changed.unchanged
    assert changed.block.reason == "incident INC-7 and INC-8"
    assert changed.block.at == first.block.at  # frozen since the first time
    assert apps.core.freezes.wider("myapp", "prod")[0].reason == "incident INC-7 and INC-8"


def test_an_app_freeze_is_not_taken_over_by_another_person(apps: World) -> None:
    apps.core.freezes.freezing("myapp", ONCALL, "release party")
    with pytest.raises(NotAllowed) as caught:
        apps.core.freezes.freezing("myapp", STAKEHOLDER, "my reason")
    assert caught.value.reason.code is Code.ALREADY_FROZEN
    assert sentence(caught.value.reason).startswith(
        f"every environment of myapp is already frozen by <@{ONCALL}> since")
    assert apps.core.freezes.wider("myapp", "prod")[0].by == ONCALL
