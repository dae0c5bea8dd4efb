"""views.open / push / update / publish through the real WebClient: trigger ids issued by the
emulator, used once within 3 seconds; views tracked per user with Slack's shapes and errors."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackEmulator
from sandbox.slack.workspace import TRIGGER_TTL_VARIABLE, trigger_ttl
from tests.slack.helpers import DEV, REVIEWER, TOKEN, FakeClock, make_emulator

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "reject_reason",
    "external_id": "reject-p1",
    "title": {"type": "plain_text", "text": "Reject"},
    "submit": {"type": "plain_text", "text": "Reject"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "text", "initial_value": "x"},
        }
    ],
}
HOME: dict[str, Any] = {
    "type": "home",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "dashboard"}}],
}


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    assert info.value.response.status_code == 200
    return str(info.value.response["error"])


def test_views_open_returns_view_with_slack_fields(
    client: WebClient, emulator: SlackEmulator
) -> None:
    view = client.views_open(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    assert view["id"].startswith("V") and view["type"] == "modal"
    assert view["team_id"] == "T0SANDBOX" and view["root_view_id"] == view["id"]
    assert view["hash"] and view["previous_view_id"] is None
    assert view["state"]["values"]["reason"]["text"] == {"type": "plain_text_input", "value": "x"}
    assert emulator.open_views(DEV)[0]["id"] == view["id"]
    assert emulator.open_views(REVIEWER) == []


def test_views_open_trigger_expires_after_three_seconds(
    client: WebClient, emulator: SlackEmulator, clock: FakeClock
) -> None:
    trigger = emulator.workspace.issue_trigger(DEV)
    clock.advance(3.5)
    assert (
        error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == "expired_trigger_id"
    )
    assert emulator.open_views(DEV) == []


def test_views_open_trigger_works_once_and_must_be_issued(
    client: WebClient, emulator: SlackEmulator, clock: FakeClock
) -> None:
    trigger = emulator.workspace.issue_trigger(DEV)
    clock.advance(2.5)
    client.views_open(trigger_id=trigger, view=MODAL)
    assert (
        error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL))
        == "exchanged_trigger_id"
    )
    assert (
        error_of(lambda: client.views_open(trigger_id="1.2.bogus", view=MODAL))
        == "invalid_trigger_id"
    )


def test_views_open_rejects_invalid_views(client: WebClient, emulator: SlackEmulator) -> None:
    trigger = emulator.workspace.issue_trigger(DEV)
    no_title = {k: v for k, v in MODAL.items() if k != "title"}
    assert (
        error_of(lambda: client.views_open(trigger_id=trigger, view=no_title))
        == "invalid_arguments"
    )
    bad_blocks = dict(MODAL, blocks=[{"no": "type"}])
    assert (
        error_of(lambda: client.views_open(trigger_id=trigger, view=bad_blocks)) == "invalid_blocks"
    )
    # the trigger was not spent by the invalid calls
    assert client.views_open(trigger_id=trigger, view=MODAL)["ok"] is True


def test_views_update_by_id_or_external_id_with_hash_guard(
    client: WebClient, emulator: SlackEmulator
) -> None:
    view = client.views_open(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    changed = dict(MODAL, title={"type": "plain_text", "text": "Reject (2)"})
    updated = client.views_update(view_id=view["id"], view=changed, hash=view["hash"])["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert emulator.open_views(DEV)[0]["title"]["text"] == "Reject (2)"
    stale = lambda: client.views_update(view_id=view["id"], view=MODAL, hash=view["hash"])  # noqa: E731
    assert error_of(stale) == "hash_conflict"
    by_external = client.views_update(external_id="reject-p1", view=MODAL)["view"]
    assert by_external["id"] == view["id"]
    assert error_of(lambda: client.views_update(view_id="V0NOPE", view=MODAL)) == "not_found"


def test_views_push_stacks_on_the_open_modal(client: WebClient, emulator: SlackEmulator) -> None:
    root = client.views_open(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    pushed = client.views_push(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    assert pushed["previous_view_id"] == root["id"] and pushed["root_view_id"] == root["id"]
    assert [v["id"] for v in emulator.open_views(DEV)] == [root["id"], pushed["id"]]
    nothing_open = lambda: client.views_push(  # noqa: E731
        trigger_id=emulator.workspace.issue_trigger(REVIEWER), view=MODAL
    )
    assert error_of(nothing_open) == "not_found"


def test_views_publish_sets_and_replaces_the_home_tab(
    client: WebClient, emulator: SlackEmulator
) -> None:
    first = client.views_publish(user_id=DEV, view=HOME)["view"]
    second = client.views_publish(user_id=DEV, view=HOME)["view"]
    assert first["type"] == "home" and second["id"] == first["id"]
    home = client.api_call("sandbox.views", json={"user": DEV})["home"]
    assert home["id"] == first["id"] and home["blocks"][0]["type"] == "section"
    assert error_of(lambda: client.views_publish(user_id="U0NOBODY", view=HOME)) == "user_not_found"
    assert error_of(lambda: client.views_publish(user_id=DEV, view=MODAL)) == "invalid_arguments"


def test_a_longer_trigger_life_is_the_workspaces_own_and_the_variable_sets_it(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite gives triggers longer than Slack's 3 s (its machine may be starved); a
    workspace built without it keeps Slack's 3 s."""
    monkeypatch.setenv(TRIGGER_TTL_VARIABLE, "600")
    assert trigger_ttl() == 600.0
    monkeypatch.delenv(TRIGGER_TTL_VARIABLE)
    assert trigger_ttl() == 3.0
    with make_emulator(clock, trigger_seconds=600.0) as lenient:
        trigger = lenient.workspace.issue_trigger(DEV)
        clock.advance(3.5)
        api = WebClient(token=TOKEN, base_url=lenient.api_url)
        assert api.views_open(trigger_id=trigger, view=MODAL)["ok"] is True
