"""The access policy in the pipeline file: `config check` names every problem with its key
path; `config show` writes the effective policy out, and reads back to the same pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from slackbot.cli import main
from slackbot.config import check_pipeline, dump_pipeline, parse_pipeline
from slackbot.policy import DEFAULT_POLICY, DEFAULT_RULES, Role, Rule
from slackbot.reasons import Action
from tests.config.samples import as_yaml, valid

APP = "apps.myapp"
PROD = "apps.myapp.environments[2]"


def _after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    data = valid()
    change(data)
    return check_pipeline(as_yaml(data))


def _app(data: dict[str, Any]) -> dict[str, Any]:
    app: dict[str, Any] = data["apps"]["myapp"]
    return app


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        (
            lambda d: _app(d).update(access={"freeze": {"roles": ["stakeholder", "oncal"]}}),
            [f'{APP}.access.freeze.roles[1]: no role "oncal" is defined in {APP}.roles; did you '
             f'mean "oncall"?'],
        ),
        (
            lambda d: _app(d)["environments"][2].update(
                access={"freeze": {"roles": ["requester"]}}),
            [f'{PROD}.access.freeze.roles[0]: "requester" (whoever asked for the record) means '
             f'something only for cancel and rollbackPlan'],
        ),
        (
            lambda d: _app(d).update(access={"request": {"roles": ["owner"]}}),
            [f'{APP}.access.request.roles[0]: "owner" (whoever placed the freeze or the hold) '
             f'means something only for unfreeze and unlock'],
        ),
        (
            lambda d: _app(d).update(roles={"owner": {"users": ["U1"]}}),
            [f'{APP}.roles.owner: "owner" is built in (whoever placed the freeze or the hold): '
             f'pick another name'],
        ),
        (
            lambda d: _app(d).update(roles={"stakeholder": {"group": "S1"}}),
            [f"{APP}.groups.stakeholders: the stakeholder role is also defined in "
             f"{APP}.roles.stakeholder: keep one of them"],
        ),
        (
            lambda d: _app(d).update(access={"retry": {"roles": ["developer"]}}),
            [f"{APP}.access.retry: expected no rule of its own: a retry is authorized as the "
             f"action it repeats (request, or hotfixPromote for a hotfix), got a mapping"],
        ),
        (
            lambda d: _app(d).update(access={"frezee": {"roles": []}}),
            [f'{APP}.access.frezee: unknown key; did you mean "freeze"?'],
        ),
        (
            lambda d: _app(d).update(access={"freeze": {"channels": ["#random"]}}),
            [f"{APP}.access.freeze.channels[0]: expected deploys, incidents or a Slack channel "
             f'id like C0123ABCD, got "#random"'],
        ),
        (
            lambda d: _app(d).update(access={"approve": {"channels": ["incidents"]}}),
            [f"{APP}.access.approve.channels: approve is done with the buttons of a card, and "
             f"the cards are in the deploys channel: include deploys"],
        ),
        (
            lambda d: _app(d).update(roles={"developer": {"users": ["dana"]}}),
            [f'{APP}.roles.developer.users[0]: expected a Slack user id like U0123ABCD, got '
             f'"dana"'],
        ),
        (
            lambda d: _app(d).update(roles={"developer": {}}),
            [f"{APP}.roles.developer: expected a mapping like {{group: S0123ABCD}} or {{users: "
             f"[U0123ABCD, U0456EFGH]}}, got an empty one"],
        ),
        (
            lambda d: _app(d).update(roles={"Release Managers": {"group": "S1"}}),
            [f'{APP}.roles["Release Managers"]: expected a role name like stakeholder (a-z, '
             f'0-9, \'-\') as the name, got "Release Managers"'],
        ),
        (
            lambda d: _app(d).update(access={"approve": {"roles": ["developer"]}}),
            [f"{PROD}.gates.stakeholderApprovals: needs someone who may approve, but the approve "
             f"rule's roles (developer) name nobody: set {APP}.roles.stakeholder (a Slack user "
             f"group or a list of users), or name another role in access.approve"],
        ),
    ],
)
def test_check_names_each_problem_of_the_policy_with_its_key_path(
    change: Callable[[dict[str, Any]], None], problems: list[str]
) -> None:
    assert _after(change) == problems


POLICY_FILE = """
apps:
  shop:
    repository: acme/shop
    channels: {deploys: C1, incidents: C2}
    roles:
      developer: {users: [U1, U2]}
      stakeholder: {group: S1}
      release: {group: S2, users: [U3]}
    access:
      freeze: {roles: [release]}
      emergencyRollback: {roles: [oncall, release]}
    environments:
      - name: dev
      - name: live
        access:
          request: {roles: [release], channels: [deploys, C9]}
        gates: {stakeholderApprovals: 1}
"""


def test_config_show_writes_the_policy_out_and_reads_back_the_same(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = parse_pipeline(POLICY_FILE)
    app = pipeline.app("shop")
    assert app.roles["release"] == Role("release", "S2", ("U3",))
    assert app.roles["oncall"] == Role("oncall")  # the default policy's roles always exist
    live = app.env("live").access
    assert live.rule(Action.REQUEST) == Rule(("release",), ("deploys", "C9"))
    assert live.rule(Action.FREEZE) == Rule(("release",), DEFAULT_RULES[Action.FREEZE].channels)
    assert live.rule(Action.EMERGENCY_ROLLBACK) == Rule(("oncall", "release"), ("incidents",))
    assert live.rule(Action.UNLOCK) == DEFAULT_POLICY.rule(Action.UNLOCK)

    dumped = dump_pipeline(pipeline)
    assert parse_pipeline(dumped) == pipeline
    data = yaml.safe_load(dumped)["apps"]["shop"]
    assert data["roles"]["developer"] == {"users": ["U1", "U2"]}
    assert data["roles"]["reviewer"] == {"users": []}
    assert data["access"]["freeze"] == {"roles": ["release"], "channels": ["deploys", "incidents"]}
    assert "request" not in data["access"]  # it differs per env: written per env
    assert data["environments"][1]["access"]["request"] == {
        "roles": ["release"], "channels": ["deploys", "C9"]}
    assert data["environments"][0]["access"]["request"]["roles"] == [
        "developer", "reviewer", "stakeholder", "oncall"]

    assert main(["config", "show", str(write(POLICY_FILE))]) == 0
    shown = capsys.readouterr().out
    assert "unlock: {roles: [owner, stakeholder, oncall], channels: [deploys, incidents]}" in shown


def test_the_older_groups_key_defines_the_stakeholder_and_oncall_roles() -> None:
    app = parse_pipeline(as_yaml(valid())).app("myapp")
    assert app.roles["stakeholder"] == Role("stakeholder", "S0STAKEHOLDERS")
    assert app.roles["oncall"] == Role("oncall", "S0ONCALL")
    assert "groups" not in yaml.safe_load(dump_pipeline(parse_pipeline(as_yaml(valid()))))[
        "apps"]["myapp"]
