"""The pure parts of the edge: the command parser, mrkdwn helpers, button values, the Block Kit
builders within Slack's limits, and the directory's cache against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from handlers import blocks, commands, ids, mrkdwn
from handlers.directory import SlackDirectory
from handlers.messages import refusals
from handlers.payloads import ButtonValue, ModalMeta
from sandbox.slack import SlackEmulator, SlackUser, SlackUserGroup
from slackbot.config import load_pipeline
from slackbot.errors import AdapterError
from slackbot.events import Event, Progressed
from slackbot.models import GateNote, GateResult, GateStatus, Kind, Promotion, State
from slackbot.ports import CommitInfo
from slackbot.progress import Progress, Stage
from slackbot.reasons import Code, Reason
from slackbot.status import AppStatus, EnvStatus

ENVS = ("dev", "staging", "prod")
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", commands.Help()),
        ("help", commands.Help()),
        ("staging", commands.Promote("staging")),
        ("prod myapp", commands.Promote("prod", "myapp")),
        ("prod from dev", commands.Promote("prod", None, "dev")),
        ("prod myapp from dev", commands.Promote("prod", "myapp", "dev")),
        ("prod from dev myapp", commands.Promote("prod", "myapp", "dev")),
        ("status", commands.Status()),
        ("status myapp", commands.Status("myapp")),
        ("freeze prod big launch today", commands.Freeze("prod", "big launch today")),
        ("freeze prod myapp launch", commands.Freeze("prod", "launch", "myapp")),
        ("unfreeze prod", commands.Unfreeze("prod")),
        ("unlock prod", commands.Unlock("prod")),
        ("unlock prod myapp", commands.Unlock("prod", "myapp")),
        ("cancel 12", commands.Cancel(12)),
        ("cancel #12", commands.Cancel(12)),
        ("stagin", commands.Promote("stagin")),  # the engine suggests the env
    ],
)
def test_parse_reads_each_form(text: str, expected: commands.Command) -> None:
    assert commands.parse(text, ENVS, ("myapp",)) == expected


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("staus", "status"),
        ("hlep", "help"),
        ("frezee prod", "freeze"),
        ("cancle 3", "cancel"),
        ("unfreez prod", "unfreeze"),
    ],
)
def test_parse_suggests_the_closest_command_word(text: str, suggestion: str) -> None:
    parsed = commands.parse(text, ENVS)
    assert isinstance(parsed, commands.Invalid)
    assert f"did you mean `/promote {suggestion}`?" in parsed.answer


def test_parse_prefers_an_env_when_the_typo_is_closer_to_it() -> None:
    assert commands.parse("prd", ENVS) == commands.Promote("prd")


def test_mentions_render_user_ids_and_escaping_stops_forged_markup() -> None:
    reason = Reason(Code.FROZEN, env="prod", who="U0DEV0001", since=AT,
                    text="<!channel> & more")
    assert refusals.sentence(reason).startswith(
        "prod is frozen by <@U0DEV0001> since 2026-11-25 12:00 UTC (&lt;!channel&gt; &amp; more)")
    assert mrkdwn.user("U0DEV0001") == "<@U0DEV0001>"
    assert mrkdwn.user("<!channel>") == "&lt;!channel&gt;"  # never a mention of anything else


def test_every_reason_code_has_words_of_its_own() -> None:
    missing = [code for code in Code if refusals.sentence(Reason(code)).startswith(
        "promotebot refused (")]
    assert missing == []


def test_button_values_round_trip_and_garbage_is_none() -> None:
    value = ButtonValue(3, sha="a" * 40)
    assert ButtonValue.decode(value.encode()) == value
    assert ModalMeta.decode(ModalMeta(4, "C1", "1.2").encode()) == ModalMeta(4, "C1", "1.2")
    for bad in (None, "", "nope", "[1]", '{"id": "3"}', "x" * 4000):
        assert ButtonValue.decode(bad) is None
        assert ModalMeta.decode(bad) is None


def _record(**changes: object) -> Promotion:
    base = Promotion(
        id=7,
        kind=Kind.PROMOTION,
        app="myapp",
        env="prod",
        source_branch="staging",
        target_branch="prod",
        requested_by="U0DEV0001",
        requested_at=AT,
        state=State.AWAITING_GATES,
        source_env="staging",
        head_sha="b" * 40,
        pr_number=5,
        pr_url="https://github.test/acme/myapp/pull/5",
        updated_at=AT,
    )
    return base.replace(**changes)


def _valid(message: dict) -> None:
    assert message["text"]
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


def test_card_with_a_very_long_history_stays_within_block_kit_limits() -> None:
    gates = load_pipeline(None).app("myapp").env("prod").gates
    events = [
        Event(7, "myapp", "prod", "promotebot", AT + timedelta(seconds=i),
              Progressed(Progress(Stage.DEPENDENCY, message="x" * 200)))
        for i in range(200)
    ]
    record = _record(
        rollback_plan="p" * 5000,
        failure=Reason(Code.FLUX_FAILED, env="prod", message="f" * 5000),
        state=State.FAILED,
        gates=tuple(
            GateResult(f"check:c{i}", GateStatus.FAILED, "b", GateNote.CHECK_FAILED,
                       check="d" * 300) for i in range(30)
        ),
    )
    message = blocks.card(record, events, gates)
    _valid(message)
    timeline = next(b for b in message["blocks"] if b.get("block_id") == ids.CARD_TIMELINE)
    assert "earlier steps" in timeline["text"]["text"]
    assert len(timeline["text"]["text"]) <= 3000


def test_card_buttons_follow_the_state() -> None:
    gates = load_pipeline(None).app("myapp").env("prod").gates
    staging = load_pipeline(None).app("myapp").env("staging").gates

    def actions(record: Promotion, env_gates: object = gates) -> list[str]:
        return [b["action_id"] for b in blocks.card_buttons(record, env_gates)]  # type: ignore[arg-type]

    assert actions(_record()) == [ids.APPROVE, ids.REJECT, ids.ADD_PLAN, ids.CANCEL]
    assert actions(_record(rollback_plan="revert")) == [ids.APPROVE, ids.REJECT, ids.CANCEL]
    assert actions(_record(), staging) == [ids.CANCEL]
    assert actions(_record(state=State.REQUESTED)) == [ids.CANCEL]
    assert actions(_record(state=State.MERGING)) == []
    assert actions(_record(state=State.RECONCILING)) == []
    assert actions(_record(state=State.DEPLOYED)) == []
    assert actions(_record(state=State.FAILED)) == [ids.RETRY, ids.ROLLBACK]
    for final in (State.EXPIRED, State.CANCELLED, State.REJECTED):
        assert actions(_record(state=final)) == [ids.RETRY]


def _env(name: str, waiting: int) -> EnvStatus:
    return EnvStatus(
        name,
        name,
        "c" * 40,
        f"{name}@sha1:{'c' * 40}",
        "False",
        "<b>kustomize build failed</b> " * 100,
        True,
        1,
        3,
        _record(env=name),
        tuple(CommitInfo("d" * 40, f"change {i}\nbody", "dev") for i in range(waiting)),
        (),
    )


def test_status_and_home_views_validate_even_when_large() -> None:
    status = AppStatus("myapp", tuple(_env(n, 40) for n in ENVS))
    message = blocks.status_message(status)
    _valid(message)
    assert "… and 35 more" in str(message["blocks"])
    home = blocks.home_view([status] * 30 + ["broken"])
    View(**home).validate_json()
    assert len(home["blocks"]) <= 100


def test_modals_and_help_validate() -> None:
    record = _record(rollback_plan="revert it")
    for modal in (
        blocks.reject_modal(record, ModalMeta(7)),
        blocks.plan_modal(record, ModalMeta(7)),
    ):
        View(**modal).validate_json()
        assert len(modal["title"]["text"]) <= 24
    assert blocks.plan_modal(record, ModalMeta(7))["blocks"][1]["element"]["initial_value"] == (
        "revert it"
    )
    _valid(blocks.help_message())


def test_directory_caches_group_members_for_its_ttl() -> None:
    now = [0.0]
    with SlackEmulator(
        "s", "xoxb-t", [SlackUser("U0A0001", "a")], [], [SlackUserGroup("S0G", "g", ["U0A0001"])]
    ) as emulator:
        client = WebClient(token="xoxb-t", base_url=emulator.api_url)
        directory = SlackDirectory(client, ttl_seconds=60, clock=lambda: now[0])
        assert directory.is_member("S0G", "U0A0001")
        emulator.workspace.usergroups["S0G"] = SlackUserGroup("S0G", "g", [])
        assert directory.is_member("S0G", "U0A0001")  # cached
        now[0] = 61
        assert not directory.is_member("S0G", "U0A0001")
        with pytest.raises(AdapterError):
            directory.is_member("S0NOPE", "U0A0001")


def test_clip_never_leaves_half_an_entity_or_half_a_mention() -> None:
    assert mrkdwn.clip("ab &lt;!here&gt;", 12) == "ab &lt;!her…"
    assert mrkdwn.clip("ab &lt;!here&gt;", 14) == "ab &lt;!here…"  # not "&g…"
    assert mrkdwn.clip("ask <@U0STAKE> now", 10) == "ask …"  # not "<@U0ST…"
    assert mrkdwn.clip("short", 10) == "short"


def test_usage_and_help_escape_what_was_typed_and_their_placeholders() -> None:
    assert commands.parse("stg<!channel> from", envs=("stg<!channel>",)) == commands.Invalid(
        ":grey_question: `from` needs an environment: use `/promote stg&lt;!channel&gt; from "
        "&lt;env&gt;`.")
    text = blocks.help_message()["blocks"][1]["text"]["text"]
    assert "`/promote &lt;env&gt; [app]`" in text and "<env>" not in text
