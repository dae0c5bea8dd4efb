"""The scale benchmark's fleet (sandbox/fleet.py): its pipeline file is valid, and the person the
benchmark promotes as holds a role that may promote. When the access policy arrived, the fleet
kept only the older `groups` key: every `/promote` of the benchmark was refused and it waited
out its limit with no record to show."""

from __future__ import annotations

from sandbox.fleet import DEVELOPER, app_name, pipeline_yaml
from slackbot.config import check_pipeline, parse_pipeline
from slackbot.policy import DEFAULT_RULES
from slackbot.policy import DEVELOPER as DEVELOPER_ROLE
from slackbot.reasons import Action


def test_the_fleets_pipeline_is_valid_and_its_promoter_may_promote() -> None:
    apps = [app_name(i) for i in (1, 2, 3)]
    text = pipeline_yaml(apps, ["C0FLEET000", "C0FLEET001"])
    assert check_pipeline(text) == []
    pipeline = parse_pipeline(text)
    assert DEVELOPER_ROLE in DEFAULT_RULES[Action.REQUEST].roles
    for app in apps:
        role = pipeline.app(app).roles[DEVELOPER_ROLE]
        assert DEVELOPER in role.users, app
