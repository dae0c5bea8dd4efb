"""The built-in pipeline is the seed workflow's pipeline, value by value."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta
from pathlib import Path

from slackbot.config import check_pipeline, load_pipeline
from slackbot.pipeline import ChangeWindow, Environment, FluxRef, Gates, Waiting
from slackbot.policy import DEFAULT_POLICY

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline.yaml"


def test_default_pipeline_matches_the_workflow_document() -> None:
    pipeline = load_pipeline(None)
    assert pipeline.app_names == ("myapp",)
    app = pipeline.app("myapp")
    assert app.repository == "acme/myapp"
    assert (app.channels.deploys, app.channels.incidents) == ("C0DEPLOYS", "C0INCIDENT")
    assert {name: (r.group, r.users) for name, r in app.roles.items()} == {
        "developer": (None, ("U0DEV",)),
        "reviewer": (None, ("U0REVIEW",)),
        "stakeholder": ("S0STAKEHOLDERS", ()),
        "oncall": ("S0ONCALL", ()),
    }
    assert all(env.access == DEFAULT_POLICY for env in app.environments)
    assert app.deployment_names == ("myapp",)
    assert app.env_names == ("dev", "staging", "prod")
    intervals = {"dev": 1, "staging": 2, "prod": 5}
    for env in app.environments:
        assert env.branch == env.name
        assert env.namespace == env.name
        assert env.kustomization == FluxRef(f"myapp-{env.name}", "flux-system")
        assert env.git_repository == FluxRef(f"myapp-{env.name}", "flux-system")
        assert env.interval == timedelta(minutes=intervals[env.name])
        assert env.timeout == timedelta(minutes=3)
    assert app.env("dev").gates == Gates()
    assert app.env("staging").gates == Gates(required_checks=("ci",), required_reviews=1)
    assert app.env("prod").gates == Gates(
        required_checks=("ci",),
        required_reviews=1,
        stakeholder_approvals=1,
        rollback_plan=True,
        change_windows=(
            ChangeWindow(("mon", "tue", "wed", "thu", "fri"), time(9, 0), time(17, 0), "UTC"),
        ),
    )
    assert app.source_of("prod") == app.env("staging")
    assert app.source_of("dev") is None


def _without_optional_keys(env: Environment) -> Environment:
    """An env without the optional keys the example shows off (waiting, freezes, approvers)."""
    return dataclasses.replace(env, waiting=Waiting(), freezes=(),
                               gates=dataclasses.replace(env.gates, approvers=None))


def test_example_file_is_valid_and_matches_the_default_but_its_time_zone() -> None:
    assert check_pipeline(EXAMPLE.read_text()) == []
    example, default = load_pipeline(EXAMPLE), load_pipeline(None)
    assert [_without_optional_keys(e) for e in example.app("myapp").environments[:2]] == list(
        default.app("myapp").environments[:2])
    prod = example.app("myapp").env("prod")  # the optional keys are documented, with values
    assert prod.waiting.escalate_to and prod.freezes and prod.gates.approvers is not None
    window = example.app("myapp").env("prod").gates.change_windows[0]
    assert window.timezone == "Europe/London"
    assert window.describe() == "mon,tue,wed,thu,fri 09:00-17:00 Europe/London"


def test_the_example_writes_out_the_default_access_policy() -> None:
    # examples/pipeline.yaml documents the defaults by writing them: they must be the defaults
    from slackbot.policy import DEFAULT_POLICY

    app = load_pipeline(EXAMPLE).app("myapp")
    assert all(env.access == DEFAULT_POLICY for env in app.environments)
    assert app.roles == load_pipeline(None).app("myapp").roles
