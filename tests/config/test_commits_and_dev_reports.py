"""The pipeline keys of the card's ticket references (`ticketPattern`) and of the dev deploy
reports (`reportDevDeploys`): a bad value named with its key path, the good ones built into
the app, and `config show` writing them back only when they differ from the default."""

from __future__ import annotations

from typing import Any

import pytest

from slackbot.changes import DEFAULT_TICKET_PATTERN
from slackbot.config import dump_pipeline, parse_pipeline
from tests.config.samples import as_yaml, valid
from tests.config.test_pipeline_file import _app, _problems_after


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("ticketPattern", "[A-Z+-(", "apps.myapp.ticketPattern: is not a regular expression"),
    ("ticketPattern", "", "apps.myapp.ticketPattern:"),
    ("reportDevDeploys", "no", "apps.myapp.reportDevDeploys: expected true or false"),
])
def test_a_bad_value_is_named_with_its_key_path(key: str, value: Any, problem: str) -> None:
    problems = _problems_after(lambda d: _app(d).update({key: value}))
    assert any(p.startswith(problem) for p in problems), problems


def test_the_defaults_and_an_apps_own_values_are_built_and_shown() -> None:
    app = parse_pipeline(as_yaml(valid())).app("myapp")
    assert (app.ticket_pattern, app.report_dev_deploys) == (DEFAULT_TICKET_PATTERN, True)
    assert "ticketPattern" not in dump_pipeline(parse_pipeline(as_yaml(valid())))
    data = valid()
    _app(data).update(ticketPattern="#[0-9]+", reportDevDeploys=False)
    pipeline = parse_pipeline(as_yaml(data))
    app = pipeline.app("myapp")
    assert (app.ticket_pattern, app.report_dev_deploys) == ("#[0-9]+", False)
    shown = dump_pipeline(pipeline)
    assert "ticketPattern: '#[0-9]+'" in shown and "reportDevDeploys: false" in shown
    assert parse_pipeline(shown).app("myapp") == app
