"""Contract tests of the emulated Web API, driven by the real slack_sdk WebClient over HTTP."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.slack import RateLimit, SlackEmulator
from tests.slack.helpers import (
    BOT,
    DEPLOYS,
    DEV,
    OUTSIDER,
    QUIET,
    REVIEWER,
    STAKEHOLDER,
    STAKEHOLDERS,
    TOKEN,
    FakeClock,
    make_emulator,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*promotion* to staging"}}


def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


def raw_post(url: str, body: bytes, content_type: str, token: str | None = TOKEN) -> dict[str, Any]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        return dict(json.loads(response.read()))


def test_auth_test_returns_bot_identity_with_valid_token(client: WebClient) -> None:
    response = client.auth_test()
    assert response["team_id"] == "T0SANDBOX"
    assert response["user_id"] == BOT
    assert response["bot_id"].startswith("B")


def test_auth_fails_not_authed_without_token(emulator: SlackEmulator) -> None:
    error = api_error(WebClient(base_url=emulator.api_url).auth_test)
    assert error.response.status_code == 200
    assert error.response["error"] == "not_authed"


def test_auth_fails_invalid_auth_with_wrong_token(emulator: SlackEmulator) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=emulator.api_url)
    error = api_error(lambda: wrong.chat_postMessage(channel=DEPLOYS, text="x"))
    assert error.response.status_code == 200
    assert error.response["error"] == "invalid_auth"


def test_post_message_returns_increasing_ts_and_message(client: WebClient) -> None:
    first = client.chat_postMessage(channel=DEPLOYS, text="one", blocks=[SECTION])
    second = client.chat_postMessage(channel="#deploys", text="two")
    assert first["channel"] == DEPLOYS and second["channel"] == DEPLOYS
    for response in (first, second):
        seconds, _, micros = response["ts"].partition(".")
        assert seconds.isdigit() and len(micros) == 6 and micros.isdigit()
    assert float(second["ts"]) > float(first["ts"])
    message = first["message"]
    assert message["text"] == "one" and message["bot_id"] and message["user"] == BOT
    assert message["blocks"][0]["type"] == "section" and message["blocks"][0]["block_id"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C0NOPE0000", "text": "x"}, "channel_not_found"),
        ({"channel": QUIET, "text": "x"}, "not_in_channel"),
        ({"channel": DEPLOYS}, "no_text"),
        ({"channel": DEPLOYS, "text": "x", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
        ({"channel": DEPLOYS, "text": "x", "blocks": ["not an object"]}, "invalid_blocks"),
        ({"channel": DEPLOYS, "text": "x", "blocks": [SECTION, SECTION]}, "invalid_blocks"),
    ],
)
def test_post_message_fails_with_slack_error_on_bad_arguments(
    client: WebClient, kwargs: dict[str, Any], error: str
) -> None:
    if "blocks" in kwargs and kwargs["blocks"] == [SECTION, SECTION]:
        kwargs["blocks"] = [dict(SECTION, block_id="same"), dict(SECTION, block_id="same")]
    # api_call sends what chat_postMessage sends, minus the SDK's own missing-text warning
    failure = api_error(lambda: client.api_call("chat.postMessage", json=kwargs))
    assert failure.response.status_code == 200
    assert failure.response["ok"] is False
    assert failure.response["error"] == error


def test_post_message_accepts_form_body_and_query_string(emulator: SlackEmulator) -> None:
    blocks = json.dumps([SECTION])
    form = f"channel={DEPLOYS}&text=form+text&blocks={urllib.parse.quote(blocks)}".encode()
    response = raw_post(
        emulator.api_url + "chat.postMessage", form, "application/x-www-form-urlencoded"
    )
    assert response["ok"] is True and response["message"]["blocks"][0]["type"] == "section"
    by_query = raw_post(
        emulator.api_url + f"chat.postMessage?channel={DEPLOYS}&text=query+text",
        b"",
        "application/x-www-form-urlencoded",
    )
    assert by_query["ok"] is True and by_query["message"]["text"] == "query text"


def test_malformed_bodies_answer_invalid_json_and_invalid_form_data(
    emulator: SlackEmulator,
) -> None:
    url = emulator.api_url + "chat.postMessage"
    assert raw_post(url, b"{not json", "application/json")["error"] == "invalid_json"
    assert raw_post(url, b"[1, 2]", "application/json")["error"] == "invalid_json"
    bad_form = raw_post(url, b"%ZZ=\xff\xfe", "application/x-www-form-urlencoded")
    assert bad_form["error"] == "invalid_form_data"
    assert raw_post(url, b"--x\r\n", "multipart/form-data")["error"] == "invalid_form_data"
    # the server is still up and answering
    assert raw_post(emulator.api_url + "auth.test", b"", "application/json")["ok"] is True


def test_unknown_method_answers_unknown_method(client: WebClient) -> None:
    failure = api_error(lambda: client.api_call("chat.doesNotExist", json={"channel": DEPLOYS}))
    assert failure.response.status_code == 200
    assert failure.response["error"] == "unknown_method"


def test_chat_update_replaces_content_marks_edited_and_keeps_versions(
    client: WebClient, emulator: SlackEmulator
) -> None:
    posted = client.chat_postMessage(channel=DEPLOYS, text="requested", blocks=[SECTION])
    ts = posted["ts"]
    card = [{"type": "section", "block_id": "card", "text": {"type": "mrkdwn", "text": "merged"}}]
    updated = client.chat_update(channel=DEPLOYS, ts=ts, text="merged", blocks=card)
    client.chat_update(channel=DEPLOYS, ts=ts, text="deployed")
    assert updated["ts"] == ts and updated["text"] == "merged"
    assert updated["message"]["edited"]["user"] == BOT
    history = client.conversations_history(channel=DEPLOYS)["messages"]
    assert [m["ts"] for m in history] == [ts]
    assert history[0]["text"] == "deployed"
    assert history[0]["blocks"] == card  # blocks kept when only text changes
    versions = emulator.message_versions(DEPLOYS, ts)
    assert [v["text"] for v in versions] == ["requested", "merged", "deployed"]
    assert "edited" not in versions[0] and "edited" in versions[2]


def test_chat_update_refuses_unknown_and_foreign_messages(
    client: WebClient, emulator: SlackEmulator
) -> None:
    missing = api_error(lambda: client.chat_update(channel=DEPLOYS, ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"
    human = emulator.post_as_user(DEV, DEPLOYS, "hello")
    foreign = api_error(lambda: client.chat_update(channel=DEPLOYS, ts=human["ts"], text="x"))
    assert foreign.response["error"] == "cant_update_message"
    mine = client.chat_postMessage(channel=DEPLOYS, text="mine")
    empty = api_error(
        lambda: client.api_call("chat.update", json={"channel": DEPLOYS, "ts": mine["ts"]})
    )
    assert empty.response["error"] == "no_text"


def test_chat_delete_removes_message_from_history(client: WebClient) -> None:
    posted = client.chat_postMessage(channel=DEPLOYS, text="oops")
    assert client.chat_delete(channel=DEPLOYS, ts=posted["ts"])["ok"] is True
    assert client.conversations_history(channel=DEPLOYS)["messages"] == []
    again = api_error(lambda: client.chat_delete(channel=DEPLOYS, ts=posted["ts"]))
    assert again.response["error"] == "message_not_found"


def test_post_ephemeral_is_seen_only_by_that_user(
    client: WebClient, emulator: SlackEmulator
) -> None:
    response = client.chat_postEphemeral(
        channel=DEPLOYS, user=DEV, text="only you", blocks=[SECTION]
    )
    assert response["message_ts"]
    ephemerals = emulator.ephemerals(DEV, DEPLOYS)
    assert [(m["text"], m["ts"]) for m in ephemerals] == [("only you", response["message_ts"])]
    assert emulator.ephemerals(REVIEWER) == []
    assert client.conversations_history(channel=DEPLOYS)["messages"] == []
    not_member = api_error(
        lambda: client.chat_postEphemeral(channel=DEPLOYS, user=OUTSIDER, text="x")
    )
    assert not_member.response["error"] == "user_not_in_channel"
    nobody = api_error(
        lambda: client.chat_postEphemeral(channel=DEPLOYS, user="U0NOBODY", text="x")
    )
    assert nobody.response["error"] == "user_not_found"
    cannot_update = api_error(
        lambda: client.chat_update(channel=DEPLOYS, ts=response["message_ts"], text="x")
    )
    assert cannot_update.response["error"] == "message_not_found"


def test_usergroups_users_list_returns_members_and_rejects_unknown_group(
    client: WebClient,
) -> None:
    assert client.usergroups_users_list(usergroup=STAKEHOLDERS)["users"] == [STAKEHOLDER]
    failure = api_error(lambda: client.usergroups_users_list(usergroup="S0UNKNOWN"))
    assert failure.response["error"] == "no_such_subteam"


def test_users_info_returns_profile_and_rejects_unknown_user(client: WebClient) -> None:
    user = client.users_info(user=DEV)["user"]
    assert (user["id"], user["name"], user["real_name"]) == (DEV, "dev", "Dana Developer")
    assert user["profile"]["real_name"] == "Dana Developer" and user["is_bot"] is False
    assert client.users_info(user=BOT)["user"]["is_bot"] is True
    failure = api_error(lambda: client.users_info(user="U0NOBODY"))
    assert failure.response["error"] == "user_not_found"


def test_conversations_info_describes_channel_and_rejects_unknown(client: WebClient) -> None:
    channel = client.conversations_info(channel=DEPLOYS, include_num_members=True)["channel"]
    assert (channel["id"], channel["name"], channel["is_member"]) == (DEPLOYS, "deploys", True)
    assert channel["num_members"] == 4
    assert client.conversations_info(channel=QUIET)["channel"]["is_member"] is False
    failure = api_error(lambda: client.conversations_info(channel="C0NOPE0000"))
    assert failure.response["error"] == "channel_not_found"


def test_conversations_history_is_newest_first_with_blocks_and_pages(
    client: WebClient, clock: FakeClock
) -> None:
    sent = []
    for i in range(5):
        clock.advance(1.0)  # one message a second: Slack's posting limit per channel
        sent.append(client.chat_postMessage(channel=DEPLOYS, text=f"m{i}", blocks=[SECTION])["ts"])
    page = client.conversations_history(channel=DEPLOYS, limit=2)
    assert [m["ts"] for m in page["messages"]] == [sent[4], sent[3]]
    assert page["has_more"] is True and page["messages"][0]["blocks"][0]["type"] == "section"
    rest = client.conversations_history(
        channel=DEPLOYS, limit=10, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in rest["messages"]] == [sent[2], sent[1], sent[0]]
    assert rest["has_more"] is False
    window = client.conversations_history(channel=DEPLOYS, oldest=sent[1], latest=sent[3])
    assert [m["ts"] for m in window["messages"]] == [sent[2]]
    not_member = api_error(lambda: client.conversations_history(channel=QUIET))
    assert not_member.response["error"] == "not_in_channel"
    bad_cursor = api_error(lambda: client.conversations_history(channel=DEPLOYS, cursor="!!"))
    assert bad_cursor.response["error"] == "invalid_cursor"


def test_threads_carry_reply_fields_and_replies_list_parent_first(
    client: WebClient, emulator: SlackEmulator, clock: FakeClock
) -> None:
    parent = client.chat_postMessage(channel=DEPLOYS, text="promotion card")["ts"]
    first = client.chat_postMessage(channel=DEPLOYS, text="PR opened", thread_ts=parent)["ts"]
    human = emulator.post_as_user(REVIEWER, DEPLOYS, "looks good", thread_ts=parent)["ts"]
    clock.advance(1.0)  # the posting limit: three at once, then about one a second
    broadcast = client.chat_postMessage(
        channel=DEPLOYS, text="deployed", thread_ts=first, reply_broadcast=True
    )
    history = client.conversations_history(channel=DEPLOYS)["messages"]
    assert [m["ts"] for m in history] == [broadcast["ts"], parent]
    shown_parent = history[1]
    assert shown_parent["thread_ts"] == parent
    assert shown_parent["reply_count"] == 3
    assert shown_parent["latest_reply"] == broadcast["ts"]
    assert set(shown_parent["reply_users"]) == {BOT, REVIEWER}
    replies = client.conversations_replies(channel=DEPLOYS, ts=parent)["messages"]
    assert [m["ts"] for m in replies] == [parent, first, human, broadcast["ts"]]
    assert all(m["thread_ts"] == parent for m in replies)
    assert client.conversations_replies(channel=DEPLOYS, ts=first)["messages"][0]["ts"] == parent
    missing = api_error(lambda: client.conversations_replies(channel=DEPLOYS, ts="1.000001"))
    assert missing.response["error"] == "thread_not_found"
    bad_thread = api_error(
        lambda: client.chat_postMessage(channel=DEPLOYS, text="x", thread_ts="1.000001")
    )
    assert bad_thread.response["error"] == "thread_not_found"


def test_rate_limit_answers_429_with_retry_after(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.set_rate_limit(RateLimit("chat.postMessage", burst=2, window=60))
    client.chat_postMessage(channel=DEPLOYS, text="1")
    client.chat_postMessage(channel=DEPLOYS, text="2")
    limited = api_error(lambda: client.chat_postMessage(channel=DEPLOYS, text="3"))
    assert limited.response.status_code == 429
    assert limited.response["error"] == "ratelimited"
    assert int(limited.response.headers["Retry-After"]) >= 1
    # per channel: another channel is not limited
    assert client.chat_postMessage(channel="C0INCIDNT", text="elsewhere")["ok"] is True
    emulator.set_rate_limit(None)
    assert client.chat_postMessage(channel=DEPLOYS, text="3")["ok"] is True


def test_posting_limit_allows_a_short_burst_then_about_one_message_a_second_per_channel(
    emulator: SlackEmulator, client: WebClient, clock: FakeClock
) -> None:
    for n in range(3):  # Slack tolerates a short burst
        client.chat_postMessage(channel=DEPLOYS, text=f"burst {n}")
    limited = api_error(lambda: client.chat_postMessage(channel=DEPLOYS, text="too soon"))
    assert limited.response.status_code == 429
    assert limited.response.headers["Retry-After"] == "1"
    assert client.chat_postMessage(channel="C0INCIDNT", text="elsewhere")["ok"] is True
    clock.advance(1.0)
    assert client.chat_postMessage(channel=DEPLOYS, text="a second later")["ok"] is True
    assert api_error(lambda: client.chat_postMessage(channel=DEPLOYS, text="again")
                     ).response.status_code == 429
    assert emulator.limiter.refused["chat.postMessage"] == 2
    assert "too soon" not in [m["text"] for m in emulator.history(DEPLOYS)]


def test_tier_3_chat_update_allows_fifty_a_minute_across_channels(
    emulator: SlackEmulator, client: WebClient, clock: FakeClock
) -> None:
    ts = client.chat_postMessage(channel=DEPLOYS, text="card")["ts"]
    other = client.chat_postMessage(channel="C0INCIDNT", text="card")["ts"]
    for n in range(50):
        channel, at = (DEPLOYS, ts) if n % 2 else ("C0INCIDNT", other)
        client.chat_update(channel=channel, ts=at, text=f"v{n}")
    limited = api_error(lambda: client.chat_update(channel=DEPLOYS, ts=ts, text="v50"))
    assert limited.response.status_code == 429 and limited.response["error"] == "ratelimited"
    assert int(limited.response.headers["Retry-After"]) == 2  # 1.2 s for the next call
    clock.advance(1.2)
    assert client.chat_update(channel=DEPLOYS, ts=ts, text="v50")["ok"] is True
    assert emulator.limiter.refused["chat.update"] == 1


def test_tier_2_usergroups_users_list_allows_twenty_a_minute(
    emulator: SlackEmulator, client: WebClient, clock: FakeClock
) -> None:
    for _ in range(20):
        client.usergroups_users_list(usergroup=STAKEHOLDERS)
    limited = api_error(lambda: client.usergroups_users_list(usergroup=STAKEHOLDERS))
    assert limited.response.status_code == 429
    assert int(limited.response.headers["Retry-After"]) == 3
    clock.advance(3.0)
    assert client.usergroups_users_list(usergroup=STAKEHOLDERS)["ok"] is True


def test_slack_limits_can_be_switched_off_for_a_test_about_something_else(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.set_slack_limits([])
    for n in range(10):
        client.chat_postMessage(channel=DEPLOYS, text=f"m{n}")
    assert len(emulator.history(DEPLOYS)) == 10 and not emulator.limiter.refused


def test_rate_limit_retry_handler_succeeds_after_retry_after() -> None:
    with make_emulator() as emulator:  # real monotonic clock: the handler really waits
        emulator.set_rate_limit(RateLimit("chat.postMessage", burst=1, window=1.0))
        client = WebClient(
            token=TOKEN,
            base_url=emulator.api_url,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
        )
        client.chat_postMessage(channel=DEPLOYS, text="first")
        second = client.chat_postMessage(channel=DEPLOYS, text="second")
        assert second["ok"] is True
        texts = [m["text"] for m in emulator.history(DEPLOYS)]
        assert texts == ["second", "first"]


def test_sandbox_state_lists_channels_users_and_messages(
    client: WebClient, emulator: SlackEmulator
) -> None:
    client.chat_postMessage(channel=DEPLOYS, text="hello")
    state = client.api_call("sandbox.state").data
    assert isinstance(state, dict)
    deploys = next(c for c in state["channels"] if c["id"] == DEPLOYS)
    assert [m["text"] for m in deploys["messages"]] == ["hello"]
    assert {u["id"] for u in state["users"]} >= {DEV, REVIEWER, BOT}
    assert state["usergroups"][0]["users"] == [STAKEHOLDER]


def test_post_message_to_a_user_id_opens_the_bots_direct_conversation(
    client: WebClient, emulator: SlackEmulator
) -> None:
    """As Slack does for a bot with chat:write: the user id as `channel` posts into the bot's
    direct conversation with them (a D... channel, the same one every time), no im:write."""
    first = client.chat_postMessage(channel=STAKEHOLDER, text="a reminder")
    second = client.chat_postMessage(channel=STAKEHOLDER, text="another")
    assert first["channel"].startswith("D") and first["channel"] == second["channel"]
    assert first["message"]["user"] == BOT
    info = client.conversations_info(channel=first["channel"])["channel"]
    assert (info["is_im"], info["is_channel"], info["is_group"]) == (True, False, False)
    assert [m["text"] for m in emulator.direct_messages(STAKEHOLDER)] == ["a reminder", "another"]
    assert emulator.direct_messages(DEV) == []
    other = client.chat_postMessage(channel=DEV, text="yours")
    assert other["channel"] != first["channel"]


def test_post_message_to_the_bot_itself_or_nobody_is_refused(client: WebClient) -> None:
    assert api_error(lambda: client.chat_postMessage(channel=BOT, text="x")).response[
        "error"] == "cannot_dm_bot"
    assert api_error(lambda: client.chat_postMessage(channel="U0NOBODY1", text="x")).response[
        "error"] == "channel_not_found"
