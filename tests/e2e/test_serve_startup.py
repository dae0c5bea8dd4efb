"""`promotebot serve`'s start-up problems, each as a real process against the emulated world
set up to fail: exactly one line on stderr naming the setting (or the permission) and what to
do, exit 2, no traceback. And the start-up wait itself, on a stepped clock."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from promotebot import preflight
from promotebot.cli import main as cli_main
from promotebot.preflight import Check, Refused, Unreachable, wait_for_services
from promotebot.variables import VARIABLES
from sandbox.world import World, manifest_scopes
from slackbot.config import load_pipeline
from slackbot.errors import SettingsError
from slackbot.settings import load_settings
from tests.observability.test_github_app import APP_ID, INSTALLATION, KEY, PUBLIC
from tests.redis_server import free_port, redis_server
from tests.waiting import STARTUP

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with World(time_scale=60, workdir=tmp_path_factory.mktemp("world")) as running:
        yield running


@pytest.fixture(scope="module")
def aof_redis() -> Iterator[str]:
    with redis_server(persistence=True) as url:
        yield url


def _serve(world: World, redis_url: str, **changes: str | None) -> tuple[int, str]:
    """serve with the world's environment, `changes` applied (None: unset); its exit code and
    stderr. The start-up wait is 0: one look at each service."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBE"))}
    env = {**base, **world.bot_environment, "REDIS_URL": redis_url,
           "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": str(free_port()),
           "PROMOTEBOT_STARTUP_WAIT_SECONDS": "0"}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    done = subprocess.run([sys.executable, "-m", "promotebot.cli", "serve"], env=env,
                          capture_output=True, text=True, timeout=STARTUP)
    return done.returncode, done.stderr


def _one_line(code: int, err: str) -> str:
    assert code == 2, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    lines = err.splitlines()
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith("promotebot serve: ")
    return lines[0].removeprefix("promotebot serve: ")


def closed_url(scheme: str = "http", path: str = "") -> str:
    """A URL on a port nothing listens on (free now; nothing of ours binds it)."""
    return f"{scheme}://127.0.0.1:{free_port()}{path}"


def test_an_unreachable_slack_names_slack_api_url(world: World, aof_redis: str) -> None:
    url = closed_url(path="/api/")
    line = _one_line(*_serve(world, aof_redis, SLACK_API_URL=url))
    assert line == (f"SLACK_API_URL: cannot reach Slack at {url} (Connection refused): check "
                    f"SLACK_API_URL and that this host may reach it (DNS, proxy, firewall)")


def test_an_invalid_bot_token_names_slack_bot_token(world: World, aof_redis: str) -> None:
    line = _one_line(*_serve(world, aof_redis, SLACK_BOT_TOKEN="xoxb-not-the-token"))
    assert line == ("SLACK_BOT_TOKEN: Slack refused the bot token (invalid_auth): copy the Bot "
                    "User OAuth Token (xoxb-...) from the Slack app's OAuth & Permissions page")


def test_a_missing_scope_is_named_with_the_manifest_to_reinstall_from(
        world: World, aof_redis: str) -> None:
    world.slack.webapi.scopes = manifest_scopes() - {"usergroups:read"}
    try:
        line = _one_line(*_serve(world, aof_redis))
    finally:
        world.slack.webapi.scopes = manifest_scopes()
    assert line == ("SLACK_BOT_TOKEN: the Slack app lacks the bot scope usergroups:read: add it "
                    "from slack-app-manifest.yaml and reinstall the app to the workspace")


def test_the_scopes_checked_are_the_manifests() -> None:
    manifest = yaml.safe_load((ROOT / "slack-app-manifest.yaml").read_text())
    assert set(preflight.SLACK_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


def test_an_unreachable_github_names_github_api_url(world: World, aof_redis: str) -> None:
    url = closed_url()
    line = _one_line(*_serve(world, aof_redis, GITHUB_API_URL=url))
    assert line == (f"GITHUB_API_URL: cannot reach GitHub at {url} (Connection refused): check "
                    f"GITHUB_API_URL and that this host may reach it")


def test_bad_github_credentials_name_github_token(world: World, aof_redis: str) -> None:
    line = _one_line(*_serve(world, aof_redis, GITHUB_TOKEN="ghp_not_a_token"))
    assert line == ("GITHUB_TOKEN: GitHub refused the credentials (Bad credentials): check them")


def test_an_app_without_write_back_permissions_is_named_in_one_line(
        world: World, aof_redis: str, tmp_path: Path) -> None:
    world.github.install_app(APP_ID, PUBLIC, INSTALLATION, permissions={
        "contents": "write", "pull_requests": "write", "checks": "read",
        "statuses": "read", "metadata": "read"})  # githubWriteBack needs deployments too
    key_file = tmp_path / "app.pem"
    key_file.write_text(KEY)
    code, err = _serve(world, aof_redis, GITHUB_TOKEN=None, GITHUB_APP_ID=str(APP_ID),
                       GITHUB_APP_PRIVATE_KEY_FILE=str(key_file),
                       GITHUB_APP_INSTALLATION_ID=str(INSTALLATION))
    assert code == 2 and "Traceback" not in err, err[-3000:]
    assert err.splitlines() == [
        "promotebot serve: GITHUB_APP_INSTALLATION_ID: the GitHub App's installation lacks the "
        "permission statuses: write (promotebot needs it to set each deployed commit's status "
        "(githubWriteBack)); grant it in the App's settings and accept it on the installation",
        "promotebot serve: GITHUB_APP_INSTALLATION_ID: the GitHub App's installation lacks the "
        "permission deployments: write (promotebot needs it to record each deploy as a GitHub "
        "Deployment (githubWriteBack)); grant it in the App's settings and accept it on the "
        "installation",
    ], err[-3000:]
    assert KEY.splitlines()[1] not in err


def test_an_unreachable_cluster_names_kube_api_url(world: World, aof_redis: str) -> None:
    url = closed_url()
    line = _one_line(*_serve(world, aof_redis, KUBE_API_URL=url))
    assert line == (f"KUBE_API_URL: cannot reach the Kubernetes API at {url} (Connection "
                    f"refused): check KUBE_API_URL and that this host may reach it")


def test_an_unreachable_redis_names_redis_url_and_not_its_value(world: World) -> None:
    url = closed_url("redis", "/0")
    line = _one_line(*_serve(world, url))
    assert line.startswith("REDIS_URL: cannot reach Redis (")
    assert line.endswith("): check REDIS_URL and that this host may reach it")
    assert url not in line  # a Redis URL may carry a password


def test_no_pipeline_file_is_refused_saying_how_to_write_one(world: World,
                                                              aof_redis: str) -> None:
    line = _one_line(*_serve(world, aof_redis, PROMOTEBOT_PIPELINE=None))
    assert line.startswith("PROMOTEBOT_PIPELINE: missing; ")
    assert "promotebot config init --repo OWNER/NAME" in line
    assert "promotebot config check pipeline.yaml" in line


# -- the start-up wait, on a stepped clock ------------------------------------------------


class SteppedClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _failing(times: int, line: str) -> Check:
    calls = {"n": 0}

    def run() -> None:
        calls["n"] += 1
        if calls["n"] <= times:
            raise Unreachable(line)

    return Check("github", run)


def test_a_service_that_answers_within_the_wait_lets_start_up_go_on_with_backoff(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = SteppedClock()
    said = wait_for_services([_failing(4, "GITHUB_API_URL: cannot reach GitHub")], 60,
                             sleep=clock.sleep, monotonic=clock.monotonic)
    assert said == []
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]  # doubling
    waits = [r for r in caplog.records if "start-up waits for github" in r.getMessage()]
    assert len(waits) == 1  # one warning for the whole wait


def test_a_service_still_unreachable_when_the_wait_is_over_gives_its_line() -> None:
    clock = SteppedClock()
    said = wait_for_services([_failing(1000, "KUBE_API_URL: cannot reach it")], 60,
                             sleep=clock.sleep, monotonic=clock.monotonic)
    assert said == ["KUBE_API_URL: cannot reach it"]
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]  # capped at 15 s
    assert sum(clock.slept) <= 60


def test_a_refusal_stops_the_wait_at_once() -> None:
    clock = SteppedClock()

    def refused() -> None:
        raise Refused("SLACK_BOT_TOKEN: refused")

    said = wait_for_services([_failing(1000, "x"), Check("slack", refused)], 60,
                             sleep=clock.sleep, monotonic=clock.monotonic)
    assert said == ["SLACK_BOT_TOKEN: refused"] and clock.slept == []


# -- serve --help and config init ------------------------------------------------------------


class Recording(dict[str, str]):
    """An environment that remembers every variable asked of it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_serve_help_lists_every_variable_the_settings_read(
        capsys: pytest.CaptureFixture[str]) -> None:
    asked: set[str] = set()
    for environ in ({}, {"GITHUB_APP_ID": "1"}):  # the App's variables are read only then
        recording = Recording(environ)
        with pytest.raises(SettingsError):
            load_settings(recording)
        asked |= recording.asked
    assert cli_main(["serve", "--help"]) == 0
    shown = capsys.readouterr().out
    listed = set(re.findall(r"^  ([A-Z][A-Z0-9_]+)  ", shown, flags=re.MULTILINE))
    assert listed == asked == {v.name for v in VARIABLES}
    for variable in VARIABLES:  # each with its meaning and default
        assert f"{variable.meaning} (default: {variable.default})" in shown


def test_config_init_writes_a_file_config_check_accepts(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    given = tmp_path / "given.yaml"
    assert cli_main(["config", "init", "--repo", "acme/shop", "--deploys-channel", "C0SHOP",
                     "--incidents-channel", "C0FIRE", "--stakeholders", "S0BOSSES",
                     "--oncall", "U0AMY,U0BEN", "--output", str(given)]) == 0
    placeholders = tmp_path / "placeholders.yaml"
    assert cli_main(["config", "init", "-o", str(placeholders)]) == 0
    capsys.readouterr()
    for path in (given, placeholders):
        assert cli_main(["config", "check", str(path)]) == 0
        assert capsys.readouterr().out == f"{path}: ok (1 app, 3 environments)\n"
    pipeline = load_pipeline(given)
    app = pipeline.app("shop")
    assert app.repository == "acme/shop"
    assert (app.channels.deploys, app.channels.incidents) == ("C0SHOP", "C0FIRE")
    assert "# REPLACE" not in given.read_text().split("roles:")[0]  # given: no placeholder
    assert placeholders.read_text().count("# REPLACE") == 7  # repo, 2 channels, 4 roles
    # never overwritten
    assert cli_main(["config", "init", "-o", str(given)]) == 2
    assert "exists; not overwritten" in capsys.readouterr().err
    assert load_pipeline(given).app("shop").repository == "acme/shop"


def test_config_init_refuses_an_at_name_saying_to_use_the_id(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["config", "init", "--stakeholders", "@release-managers"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("promotebot config init: --stakeholders: expected a Slack user group "
                          "id like S0123ABCD")


def test_a_call_refused_for_a_missing_scope_names_it_once(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    from slack_sdk.errors import SlackApiError

    from handlers.app import make_client
    from promotebot.wiring import _count_slack
    from slackbot.metrics import Metrics

    client = make_client(world.bot_environment["SLACK_BOT_TOKEN"], world.slack.api_url)
    _count_slack(client, Metrics())
    world.slack.webapi.scopes = manifest_scopes() - {"users:read"}
    try:
        for _ in range(3):
            with pytest.raises(SlackApiError) as refused:
                client.users_info(user="U0DEV")
            assert refused.value.response["needed"] == "users:read"
    finally:
        world.slack.webapi.scopes = manifest_scopes()
    said = [r.getMessage() for r in caplog.records if "lacks the bot scope" in r.getMessage()]
    assert said == ["SLACK_BOT_TOKEN: the Slack app lacks the bot scope users:read (users.info "
                    "needs it): add it from slack-app-manifest.yaml and reinstall the app to "
                    "the workspace"]


def test_a_refused_app_level_token_names_slack_app_token(world: World, aof_redis: str) -> None:
    world.slack.app_token = "xapp-1-the-right-one"
    try:
        line = _one_line(*_serve(world, aof_redis, SLACK_APP_TOKEN="xapp-1-a-wrong-one"))
    finally:
        world.slack.app_token = None
    assert line == ("SLACK_APP_TOKEN: Slack refused the app-level token (invalid_auth): "
                    "generate one with the connections:write scope on the Slack app's Basic "
                    "Information page")
