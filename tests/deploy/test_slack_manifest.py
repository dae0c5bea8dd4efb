"""slack-app-manifest.yaml creates the Slack app in one step: the keys Slack's manifest schema
requires, the commands, events and interactivity the real Bolt app registers, every request URL
on the bot's one endpoint, and exactly the minimum bot scopes the code's Web API calls need."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import yaml
from slack_bolt import App
from slack_sdk import WebClient

from handlers.app import register_listeners
from handlers.home import HomePublisher
from handlers.services import Services
from slackbot.adapters.redis_store import RedisStore
from slackbot.config import load_pipeline
from slackbot.workers import InlineWorkers
from tests.core.conftest import build_core
from tests.core.fakes import (
    FakeClock,
    FakeCluster,
    FakeDirectory,
    FakeForge,
    FakeWorkspace,
    RecordingNotifier,
)

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack-app-manifest.yaml"
EVENTS_URL = "https://promotebot.example.com/slack/events"

# Declared in the manifest ahead of their listeners (they arrive with a
# later issue). Only their absence from the app is excused: once the app registers them the
# ordinary check covers them, and a command that is neither registered nor listed here fails.
ANNOUNCED_COMMANDS: set[str] = set()  # declared before their listeners existed; none now

# The documented minimum (the manifest's comments say what each is for).
MINIMUM_BOT_SCOPES = {"commands", "chat:write", "usergroups:read"}

# Bot scopes each Slack Web API method needs (api.slack.com/methods); [] means none.
SCOPES_OF: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.getPermalink": set(),
    "views.open": set(),
    "views.push": set(),
    "views.update": set(),
    "views.publish": set(),
    "usergroups.list": {"usergroups:read"},
    "usergroups.users.list": {"usergroups:read"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.members": {"channels:read", "groups:read"},
    "conversations.open": {"im:write"},
    "auth.test": set(),
    "reactions.add": {"reactions:write"},
}
SLACK_CALL = re.compile(
    r"\.(?P<method>(?:chat|views|usergroups|users|conversations|reactions|auth|team|pins|files"
    r"|bots|dnd|emoji|im|bookmarks|reminders)_[A-Za-z_]+)\("
    r"|api_call\(\s*[\"'](?P<raw>[a-z]+\.[A-Za-z.]+)[\"']"
)


class RecordingApp(App):
    """A real Bolt App that also remembers what each listener was registered for."""

    def __init__(self, **kwargs: Any) -> None:
        self.registered: dict[str, list[Any]] = {
            "command": [],
            "event": [],
            "action": [],
            "view": [],
            "shortcut": [],
            "options": [],
        }
        super().__init__(**kwargs)

    def _recorder(self, kind: str, parent: Callable[..., Any]) -> Callable[..., Any]:
        def register(constraint: Any, *args: Any, **kwargs: Any) -> Any:
            self.registered[kind].append(constraint)
            return parent(constraint, *args, **kwargs)

        return register

    def command(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder("command", super().command)(*args, **kwargs)

    def event(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder("event", super().event)(*args, **kwargs)

    def action(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder("action", super().action)(*args, **kwargs)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder("view", super().view)(*args, **kwargs)

    def shortcut(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder("shortcut", super().shortcut)(*args, **kwargs)

    def options(self, *args: Any, **kwargs: Any) -> Any:
        return self._recorder("options", super().options)(*args, **kwargs)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


@pytest.fixture(scope="module")
def registered() -> dict[str, list[Any]]:
    """What the bot's listeners register, through handlers.app.register_listeners as
    build_app calls it (no request is sent: the client points at a closed loopback port)."""
    redis = fakeredis.FakeRedis(decode_responses=True)
    store = RedisStore(redis, prefix="manifest-test:")
    pipeline = load_pipeline(None)
    client = WebClient(token="xoxb-manifest-test", base_url="http://127.0.0.1:9/api/")
    forge = FakeForge()
    core = build_core(pipeline, store, forge, FakeCluster(), FakeDirectory(),
                      RecordingNotifier(), FakeClock(), FakeWorkspace(forge))
    submit = InlineWorkers().submit
    home = HomePublisher(client, store, lambda: [], submit, FakeClock())
    app = RecordingApp(
        client=client,
        signing_secret="manifest-test-secret",
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    register_listeners(app, Services(core, store, pipeline, submit, home))
    return app.registered


def test_manifest_has_every_key_slack_requires(manifest: dict[str, Any]) -> None:
    display = manifest["display_information"]
    assert 1 <= len(display["name"]) <= 35
    assert len(display.get("description", "")) <= 140
    assert 174 <= len(display.get("long_description", "x" * 174)) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", display.get("background_color", "#000000"))
    bot_user = manifest["features"]["bot_user"]
    assert re.fullmatch(r"[a-z0-9._-]{1,80}", bot_user["display_name"])
    assert manifest["oauth_config"]["scopes"]["bot"]
    assert isinstance(manifest["settings"], dict)
    assert manifest["_metadata"]["major_version"] == 1


def test_commands_match_what_the_app_registers(
    manifest: dict[str, Any], registered: dict[str, list[Any]]
) -> None:
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    commands = set(registered["command"])
    assert all(isinstance(c, str) for c in commands)  # no pattern Slack could not declare
    assert "/promote" in commands
    assert commands <= declared, f"registered but not in the manifest: {commands - declared}"
    unexplained = declared - commands - ANNOUNCED_COMMANDS
    assert unexplained == set(), f"in the manifest, never registered: {unexplained}"
    assert declared == {"/promote", "/rollback", "/hotfix"}


def test_every_command_is_declared_as_slack_wants(manifest: dict[str, Any]) -> None:
    for command in manifest["features"]["slash_commands"]:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command["command"])
        assert 1 <= len(command["description"]) <= 2000
        assert 1 <= len(command["usage_hint"]) <= 1000
        assert command["url"] == EVENTS_URL
        assert command["should_escape"] is False  # the bot reads ids itself


def test_events_and_interactivity_cover_the_registered_listeners(
    manifest: dict[str, Any], registered: dict[str, list[Any]]
) -> None:
    settings = manifest["settings"]
    events = settings["event_subscriptions"]
    assert set(registered["event"]) == set(events["bot_events"]) == {"app_home_opened"}
    assert events["request_url"] == EVENTS_URL
    assert registered["action"] and registered["view"]  # buttons and modals need interactivity
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert registered["shortcut"] == [] and registered["options"] == []
    assert "shortcuts" not in manifest["features"]


def test_socket_mode_is_off_by_default(manifest: dict[str, Any]) -> None:
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert "socket_mode_enabled" in MANIFEST.read_text().split("_metadata:")[0]  # how to switch


def test_bot_scopes_are_exactly_the_documented_minimum(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}  # no user scopes: the bot never acts as a person
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(scopes["bot"]) == MINIMUM_BOT_SCOPES
    text = MANIFEST.read_text()
    for scope in MINIMUM_BOT_SCOPES:  # each scope carries its reason
        assert re.search(rf"^\s*- {re.escape(scope)}\s+# \S", text, re.M), scope


def slack_methods_called() -> dict[str, set[str]]:
    """Slack Web API method -> the source files that call it, in the bot's packages."""
    calls: dict[str, set[str]] = {}
    for package in ("handlers", "slackbot", "promotebot"):
        for path in (ROOT / package).rglob("*.py"):
            for match in SLACK_CALL.finditer(path.read_text()):
                method = match["raw"] or match["method"].replace("_", ".")
                calls.setdefault(method, set()).add(str(path.relative_to(ROOT)))
    return calls


def test_scopes_cover_every_web_api_call_and_nothing_more() -> None:
    calls = slack_methods_called()
    assert "chat.postMessage" in calls and "usergroups.users.list" in calls  # the scan works
    unknown = set(calls) - set(SCOPES_OF)
    assert unknown == set(), f"add the scopes of {unknown} to SCOPES_OF (and the manifest)"
    needed = {"commands"}.union(*(SCOPES_OF[m] for m in calls))
    assert needed == MINIMUM_BOT_SCOPES


def test_direct_messages_show_in_a_messages_tab_people_cannot_write_in(
    manifest: dict[str, Any],
) -> None:
    """Reminders and queue notices are chat.postMessage to a user id (the notifier's direct
    messages): Slack shows them in the App Home's Messages tab, which must therefore be on;
    the bot reads no direct messages, so people are not invited to write there."""
    notifier = (ROOT / "handlers" / "notifier.py").read_text()
    assert "chat_postMessage(channel=user" in notifier  # the scan of what this test is about
    app_home = manifest["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True
    assert app_home["messages_tab_read_only_enabled"] is False
    assert "message.im" not in manifest["settings"]["event_subscriptions"]["bot_events"]
