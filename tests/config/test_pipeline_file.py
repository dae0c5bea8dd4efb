"""Validation of the pipeline file: every problem found, each with its key path, in file order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest

from slackbot.config import (
    check_pipeline,
    dump_pipeline,
    format_duration,
    load_pipeline,
    parse_duration,
    parse_pipeline,
    pipeline_schema,
)
from slackbot.errors import ConfigError, PromotebotError
from slackbot.pipeline import Gates
from slackbot.policy import DEFAULT_POLICY
from tests.config.samples import as_yaml, valid

ENV0 = "apps.myapp.environments[0]"
PROD = "apps.myapp.environments[2]"


def _problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    data = valid()
    change(data)
    return check_pipeline(as_yaml(data))


def _app(data: dict[str, Any]) -> dict[str, Any]:
    app: dict[str, Any] = data["apps"]["myapp"]
    return app


def _env(data: dict[str, Any], index: int) -> dict[str, Any]:
    env: dict[str, Any] = _app(data)["environments"][index]
    return env


def _prod_window(data: dict[str, Any]) -> dict[str, Any]:
    window: dict[str, Any] = _env(data, 2)["gates"]["changeWindows"][0]
    return window


def test_valid_pipeline_has_no_problems() -> None:
    assert _problems_after(lambda data: None) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: _env(d, 2).update(interval="five"),
            f'{PROD}.interval: expected a duration like 5m, got "five"',
        ),
        (
            lambda d: _env(d, 0).update(timeout="0s"),
            f'{ENV0}.timeout: expected a positive duration like 5m, got "0s"',
        ),
        (
            lambda d: _env(d, 0).update(interval=5),
            f"{ENV0}.interval: expected a duration like 5m, got 5",
        ),
        (lambda d: _app(d).pop("repository"), "apps.myapp.repository: required key is missing"),
        (
            lambda d: _app(d).update(repository="myapp"),
            'apps.myapp.repository: expected a GitHub repository as owner/name, got "myapp"',
        ),
        (
            lambda d: _app(d).update(environments=[]),
            "apps.myapp.environments: expected a list of environments, in promotion order, "
            "got an empty one",
        ),
        (
            lambda d: _app(d).update(environments={"dev": {}}),
            "apps.myapp.environments: expected a list of environments, in promotion order, "
            "got a mapping",
        ),
        (
            lambda d: _env(d, 1).update(name="dev"),
            'apps.myapp.environments[1].name: name "dev" is already used by environments[0]; '
            "each environment needs its own",
        ),
        (
            lambda d: _env(d, 1).update(branch="dev"),
            'apps.myapp.environments[1].branch: branch "dev" is already used by environments[0]; '
            "each environment needs its own",
        ),
        (
            lambda d: _env(d, 2)["gates"].update(requiredReviews=-1),
            f"{PROD}.gates.requiredReviews: expected a whole number >= 0, got -1",
        ),
        (
            lambda d: _env(d, 2)["gates"].update(rollbackPlan="yes please"),
            f'{PROD}.gates.rollbackPlan: expected true or false, got "yes please"',
        ),
        (
            lambda d: _app(d).pop("groups"),
            f"{PROD}.gates.stakeholderApprovals: needs someone who may approve, but the approve "
            "rule's roles (stakeholder) name nobody: set apps.myapp.roles.stakeholder (a Slack "
            "user group or a list of users), or name another role in access.approve",
        ),
        (
            lambda d: _prod_window(d).update(days=["mon-fri", "funday"]),
            f"{PROD}.gates.changeWindows[0].days[1]: expected a day (mon..sun) or a range like "
            'mon-fri, got "funday"',
        ),
        (
            lambda d: _prod_window(d).update(start="9am"),
            f'{PROD}.gates.changeWindows[0].start: expected a time like "09:00", got "9am"',
        ),
        (
            lambda d: _prod_window(d).update(start="24:00"),
            f'{PROD}.gates.changeWindows[0].start: expected a time like "09:00", got "24:00"',
        ),
        (
            lambda d: _prod_window(d).update(start="17:00", end="09:00"),
            f"{PROD}.gates.changeWindows[0]: start 17:00 must be before end 09:00 (a window cannot "
            "cross midnight: use two windows, and 24:00 for the end of a day)",
        ),
        (
            lambda d: _prod_window(d).update(timezone="Europe/Londn"),
            f"{PROD}.gates.changeWindows[0].timezone: expected an IANA time zone like "
            'Europe/London, got "Europe/Londn"; did you mean "Europe/London"?',
        ),
        (
            lambda d: _prod_window(d).pop("end"),
            f"{PROD}.gates.changeWindows[0].end: required key is missing",
        ),
        (
            lambda d: d["apps"].update(MyApp=d["apps"]["myapp"]),
            "apps.MyApp: expected a lowercase name like my-app (a-z, 0-9, '-'; at most 63) as the "
            'name, got "MyApp"',
        ),
        (
            lambda d: d.update(apps={}),
            "apps: expected a mapping of app names to apps, got an empty one",
        ),
        (
            lambda d: _env(d, 1)["gates"].update(requiredChecks=["ci", "ci"]),
            "apps.myapp.environments[1].gates.requiredChecks: listed more than once: ci",
        ),
    ],
)
def test_check_names_the_key_path_when_a_value_is_wrong(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    assert _problems_after(change) == [problem]


@pytest.mark.parametrize(
    ("place", "where", "typo", "suggestion"),
    [
        (lambda d: d, "", "app", "apps"),
        (_app, "apps.myapp.", "chanels", "channels"),
        (lambda d: _env(d, 0), f"{ENV0}.", "intervl", "interval"),
        (lambda d: _env(d, 0), f"{ENV0}.", "gitrepository", "gitRepository"),
        (lambda d: _env(d, 2)["gates"], f"{PROD}.gates.", "requiredCheck", "requiredChecks"),
        (
            lambda d: _env(d, 2)["gates"],
            f"{PROD}.gates.",
            "stakeholderApproval",
            "stakeholderApprovals",
        ),
        (_prod_window, f"{PROD}.gates.changeWindows[0].", "timeZone", "timezone"),
    ],
)
def test_unknown_key_suggests_the_closest_valid_key(
    place: Callable[[dict[str, Any]], dict[str, Any]], where: str, typo: str, suggestion: str
) -> None:
    problems = _problems_after(lambda d: place(d).__setitem__(typo, "x"))
    assert problems == [f'{where}{typo}: unknown key; did you mean "{suggestion}"?']


def test_unknown_key_lists_the_valid_keys_when_none_is_close() -> None:
    problems = _problems_after(lambda d: _app(d)["channels"].update(zzz="C1"))
    assert problems == ["apps.myapp.channels.zzz: unknown key; expected one of: deploys, incidents"]


def test_problems_are_listed_in_file_order() -> None:
    def break_three(data: dict[str, Any]) -> None:
        _prod_window(data)["timezone"] = "Mars/Olympus"
        _env(data, 0)["interval"] = "soon"
        _app(data)["repository"] = "x"

    problems = _problems_after(break_three)
    assert [p.split(":")[0] for p in problems] == [
        "apps.myapp.repository",
        f"{ENV0}.interval",
        f"{PROD}.gates.changeWindows[0].timezone",
    ]


def test_check_reports_invalid_yaml_with_its_line() -> None:
    assert check_pipeline("apps:\n  myapp: [1\n") == [
        "line 3, column 1: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_check_reports_a_duplicate_yaml_key() -> None:
    text = "apps:\n  myapp:\n    repository: a/b\n    repository: c/d\n"
    assert (
        "apps.myapp.repository: duplicate key (again on line 4); YAML would silently keep "
        "only the last one" in check_pipeline(text)
    )


def test_check_reports_an_empty_file_and_a_wrong_top_level() -> None:
    assert check_pipeline("") == ["the file is empty: expected a mapping with an apps key"]
    assert check_pipeline("- a\n") == ["expected a mapping with an apps key, got a list"]


def test_unquoted_times_stay_times_not_base_60_numbers() -> None:
    text = as_yaml(valid()).replace("start: 09:00", "start: 9:00").replace("'17:00'", "17:00")
    assert "start: 9:00" in text and "end: 17:00" in text
    window = parse_pipeline(text).app("myapp").env("prod").gates.change_windows[0]
    assert (window.start, window.end) == (time(9, 0), time(17, 0))


def test_left_out_keys_take_their_documented_defaults() -> None:
    text = """
apps:
  shop:
    repository: acme/shop
    channels: {deploys: C1, incidents: C2}
    environments:
      - name: qa
        gates:
"""
    app = parse_pipeline(text).app("shop")
    env = app.env("qa")
    assert (env.branch, env.namespace) == ("qa", "qa")
    assert str(env.kustomization) == "flux-system/shop-qa"
    assert str(env.git_repository) == "flux-system/shop-qa"
    assert (env.interval, env.timeout) == (timedelta(minutes=1), timedelta(minutes=3))
    assert env.gates == Gates()
    assert {name: (r.group, r.users) for name, r in app.roles.items()} == {
        name: (None, ()) for name in ("developer", "reviewer", "stakeholder", "oncall")}
    assert env.access == DEFAULT_POLICY
    assert app.deployments == ("shop",)


def test_parse_raises_one_config_error_with_every_problem_prefixed_by_the_source() -> None:
    data = valid()
    _env(data, 0)["interval"] = "five"
    _app(data)["repository"] = "nope"
    with pytest.raises(ConfigError) as caught:
        parse_pipeline(as_yaml(data), "my.yaml")
    assert isinstance(caught.value, PromotebotError)
    assert caught.value.problems == [
        'my.yaml: apps.myapp.repository: expected a GitHub repository as owner/name, got "nope"',
        f'my.yaml: {ENV0}.interval: expected a duration like 5m, got "five"',
    ]


def test_load_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_pipeline(tmp_path / "absent.yaml")
    assert caught.value.problems == [f"{tmp_path / 'absent.yaml'}: no such file"]


def test_dump_then_load_gives_the_same_pipeline_for_the_default() -> None:
    pipeline = load_pipeline(None)
    assert parse_pipeline(dump_pipeline(pipeline)) == pipeline


def test_dump_then_load_gives_the_same_pipeline_with_every_feature(
    write: Callable[..., Path],
) -> None:
    text = """
apps:
  shop:
    repository: acme/shop
    channels: {deploys: "#shop-deploys", incidents: C2}
    groups: {oncall: S9}
    deployments: [shop-web, shop-worker]
    environments:
      - {name: dev, interval: 1h30m, timeout: 1.5s}
      - name: live
        branch: release/live
        namespace: shop-live
        kustomization: {name: shop, namespace: apps}
        gitRepository: {namespace: sources}
        interval: 250ms
        gates:
          changeWindows:
            - {days: [fri-mon, wed], start: "22:00", end: "24:00", timezone: America/New_York}
            - {start: "00:00", end: "06:30"}
"""
    pipeline = load_pipeline(write(text))
    dumped = dump_pipeline(pipeline)
    assert load_pipeline(write(dumped, "dumped.yaml")) == pipeline
    assert dump_pipeline(parse_pipeline(dumped)) == dumped
    live = pipeline.app("shop").env("live")
    assert live.gates.change_windows[0].days == ("mon", "wed", "fri", "sat", "sun")
    assert live.gates.change_windows[0].end == time(0, 0)
    assert live.gates.change_windows[1].days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert str(live.git_repository) == "sources/shop-live"
    assert 'end: "24:00"' in dumped and "days: [mon, wed, fri-sun]" in dumped


@pytest.mark.parametrize(
    ("text", "value", "shortest"),
    [
        ("5m", timedelta(minutes=5), "5m"),
        ("90s", timedelta(seconds=90), "1m30s"),
        ("1h30m", timedelta(minutes=90), "1h30m"),
        ("1.5s", timedelta(milliseconds=1500), "1s500ms"),
        ("250ms", timedelta(milliseconds=250), "250ms"),
        ("0.5ms", timedelta(microseconds=500), "0.5ms"),
        ("2h0m", timedelta(hours=2), "2h"),
    ],
)
def test_durations_parse_like_flux_and_format_shortest(
    text: str, value: timedelta, shortest: str
) -> None:
    assert parse_duration(text) == value
    assert format_duration(value) == shortest
    assert parse_duration(shortest) == value


@pytest.mark.parametrize("text", ["five", "5", "5 m", "-5m", "5d", "m5", ""])
def test_durations_refuse_what_flux_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_schema_is_a_valid_json_schema() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(pipeline_schema())
