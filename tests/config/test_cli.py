"""`promotebot config check|show|schema`, in-process through main() and once as the real script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from slackbot.cli import main
from slackbot.config import load_pipeline, parse_pipeline

FIVE_MISTAKES = """\
apps:
  myapp:
    repository: acme/myapp
    channels: {deploys: C0DEPLOYS, incidents: C0INCIDENT}
    groups: {stakeholders: S0STAKEHOLDERS}
    environments:
      - name: dev
        intervl: 1m
      - name: staging
        gates: {requiredReviews: -1}
      - name: staging
        interval: five
        gates:
          changeWindows:
            - {days: [mon-fri], start: "09:00", end: "17:00", timezone: Europe/Londres}
"""

FIVE_PROBLEMS = [
    'apps.myapp.environments[0].intervl: unknown key; did you mean "interval"?',
    "apps.myapp.environments[1].gates.requiredReviews: expected a whole number >= 0, got -1",
    'apps.myapp.environments[2].name: name "staging" is already used by environments[1]; '
    "each environment needs its own",
    'apps.myapp.environments[2].interval: expected a duration like 5m, got "five"',
    "apps.myapp.environments[2].gates.changeWindows[0].timezone: expected an IANA time zone "
    'like Europe/London, got "Europe/Londres"; did you mean "Europe/London"?',
]


def test_config_check_reports_all_five_mistakes_with_key_paths(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(FIVE_MISTAKES)
    assert main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines == [*FIVE_PROBLEMS, f"{path}: 5 problems"]


def test_console_script_exits_2_on_a_file_with_mistakes(write: Callable[..., Path]) -> None:
    script = Path(sys.executable).with_name("promotebot")
    path = write(FIVE_MISTAKES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOTEBOT_")}
    done = subprocess.run(
        [str(script), "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout.splitlines()[:5] == FIVE_PROBLEMS


def test_config_check_says_ok_with_counts_for_a_valid_file(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        FIVE_MISTAKES.replace("intervl", "interval")
        .replace("-1", "1")
        .replace("name: staging\n        interval: five", "name: prod\n        interval: 5m")
        .replace("Londres", "London")
    )
    assert main(["config", "check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok (1 app, 3 environments)\n"


def test_config_check_names_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().out == f"{tmp_path / 'nope.yaml'}: no such file\n"


def test_config_check_reports_invalid_yaml_cleanly(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("apps:\n  myapp: {repository: [\n")
    assert main(["config", "check", str(path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("line 3, column 1: invalid YAML: ")
    assert "Traceback" not in out


def test_config_show_prints_the_default_pipeline_without_a_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, write: Callable[..., Path]
) -> None:
    monkeypatch.setenv("PROMOTEBOT_PIPELINE", str(write("not: read")))
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# effective pipeline from the built-in default pipeline")
    assert parse_pipeline(out) == load_pipeline(None)


def test_config_show_prints_a_file_with_defaults_filled_in(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        "apps:\n  shop:\n    repository: a/shop\n    channels: {deploys: C1, incidents: C2}\n"
        "    environments: [{name: dev}]\n"
    )
    assert main(["config", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "kustomization: {name: shop-dev, namespace: flux-system}" in out
    assert "timeout: 3m" in out
    assert parse_pipeline(out) == load_pipeline(path)


def test_config_show_lists_problems_and_exits_2_for_a_bad_file(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(FIVE_MISTAKES)
    assert main(["config", "show", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [f"{path}: {p}" for p in FIVE_PROBLEMS]


def test_config_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["required"] == ["apps"]


@pytest.mark.parametrize("argv", [[], ["config"], ["nonsense"], ["config", "check"]])
def test_usage_errors_return_2_without_exiting(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "usage: promotebot" in capsys.readouterr().err


def test_help_returns_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "config" in capsys.readouterr().out
