"""The web UI in a real browser: Chromium, driven by Playwright, against a running world.

No bot runs here: the Slack side is driven through the emulator as the bot would (chat and
views calls with the bot token, over HTTP with slack_sdk), and a Receiver stands at the bot's
request URL where a test needs the click or the submission to arrive.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect
from slack_sdk import WebClient

from sandbox.gitseed import branch_head
from sandbox.world import BOT_TOKEN, DEPLOYS, OWNER, REPO, World, person
from tests.webui.conftest import ARTIFACTS, Receiver, wait_for

CARD_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "header",
        "block_id": "card.header",
        "text": {"type": "plain_text", "text": "Promote myapp to staging"},
    },
    {
        "type": "section",
        "block_id": "card.fields",
        "fields": [
            {"type": "mrkdwn", "text": "*Requested by*\n<@U0DEV>"},
            {"type": "mrkdwn", "text": "*Route*\n`dev` → `staging`"},
            {
                "type": "mrkdwn",
                "text": "*Pull request*\n<https://example.invalid/pull/1|#1 dev → staging>",
            },
        ],
    },
    {
        "type": "context",
        "block_id": "card.footer",
        "elements": [{"type": "mrkdwn", "text": "_waiting for_ ~nothing~ :hourglass:"}],
    },
    {"type": "divider"},
    {"type": "image", "image_url": "https://example.invalid/graph.png", "alt_text": "deploy graph"},
    {
        "type": "actions",
        "block_id": "card.actions",
        "elements": [
            {
                "type": "button",
                "action_id": "promotion.approve",
                "value": "p-1",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Approve"},
            },
            {
                "type": "button",
                "action_id": "promotion.cancel",
                "value": "p-1",
                "text": {"type": "plain_text", "text": "Cancel"},
                "confirm": {
                    "title": {"type": "plain_text", "text": "Cancel it?"},
                    "text": {"type": "mrkdwn", "text": "The promotion stops."},
                    "confirm": {"type": "plain_text", "text": "Yes, cancel"},
                    "deny": {"type": "plain_text", "text": "Keep it"},
                },
            },
        ],
    },
]


def bot(world: World) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=world.slack.api_url)


def post_card(world: World) -> str:
    answer = bot(world).chat_postMessage(
        channel=DEPLOYS, text="Promote myapp to staging", blocks=CARD_BLOCKS
    )
    return str(answer["ts"])


def card(page: Page) -> Any:
    return page.get_by_test_id("message").filter(has=page.get_by_test_id("block-header"))


def test_card_renders_block_kit_and_clicks_reach_the_app_as_the_acting_user(
    page: Page, world: World, receiver: Receiver
) -> None:
    ts = post_card(world)
    message = card(page)
    expect(message.get_by_test_id("block-header")).to_have_text("Promote myapp to staging")
    expect(message.get_by_test_id("message-author")).to_have_text("promotebot")
    fields = message.get_by_test_id("block-field")
    expect(fields).to_have_count(3)
    expect(fields.nth(0).locator("b")).to_have_text("Requested by")
    expect(fields.nth(0).get_by_test_id("mention")).to_have_text("@dana")
    expect(fields.nth(1).locator("code").first).to_have_text("dev")
    expect(fields.nth(2).locator("a")).to_have_attribute("href", "https://example.invalid/pull/1")
    expect(fields.nth(2).locator("a")).to_have_text("#1 dev → staging")
    expect(message.get_by_test_id("block-context").locator("i")).to_have_text("waiting for")
    expect(message.get_by_test_id("block-context").locator("s")).to_have_text("nothing")
    expect(message.get_by_test_id("block-context")).to_contain_text("⌛")
    expect(message.get_by_test_id("block-divider")).to_have_count(1)
    expect(message.get_by_test_id("block-image").locator("a")).to_contain_text("deploy graph")
    approve = message.locator('[data-testid=block-button][data-action-id="promotion.approve"]')
    expect(approve).to_have_text("Approve")

    # No app at the request URL: the click fails as Slack shows it, beside the message.
    approve.click()
    expect(message.get_by_test_id("click-error")).to_contain_text("dispatch_failed")

    # With something listening, the click arrives signed, as the acting user.
    world.slack.bot_request_url = receiver.url
    page.get_by_test_id("user-picker").select_option("U0REVIEW")
    expect(page.get_by_test_id("user-picker")).to_have_value("U0REVIEW")
    card(page).locator('[data-action-id="promotion.approve"]').click()
    clicks = wait_for(lambda: receiver.payloads("block_actions"), what="the click")
    assert clicks[0]["user"]["id"] == "U0REVIEW"
    assert clicks[0]["actions"][0]["action_id"] == "promotion.approve"
    assert clicks[0]["actions"][0]["value"] == "p-1"
    assert clicks[0]["message"]["ts"] == ts
    expect(card(page).get_by_test_id("click-error")).to_have_count(0)

    # A button with a confirm asks first; "Keep it" sends nothing, "Yes, cancel" sends it.
    card(page).locator('[data-action-id="promotion.cancel"]').click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("The promotion stops.")
    page.get_by_test_id("confirm-deny").click()
    expect(page.get_by_test_id("confirm-dialog")).to_have_count(0)
    card(page).locator('[data-action-id="promotion.cancel"]').click()
    page.get_by_test_id("confirm-ok").click()
    wait_for(lambda: len(receiver.payloads("block_actions")) == 2, what="the confirmed click")
    assert receiver.payloads("block_actions")[1]["actions"][0]["action_id"] == "promotion.cancel"


def test_slash_command_without_bot_shows_slackbot_ephemeral_to_the_typist_only(
    page: Page, world: World
) -> None:
    page.get_by_test_id("composer").fill("/promote staging")
    page.get_by_test_id("composer").press("Enter")
    ephemeral = page.locator('[data-testid=message][data-ephemeral="true"]')
    expect(ephemeral.get_by_test_id("message-author")).to_have_text("Slackbot")
    expect(ephemeral).to_contain_text('/promote failed with the error "dispatch_failed"')
    expect(ephemeral.get_by_test_id("ephemeral-label")).to_have_text("👁 Only visible to you")

    # Plain text is a message from the acting user; riley sees it but not dana's ephemeral.
    page.get_by_test_id("composer").fill("hello *team*")
    page.get_by_test_id("composer-send").click()
    said = page.locator('[data-testid=message][data-user="U0DEV"]')
    expect(said.locator("b")).to_have_text("team")
    page.get_by_test_id("user-picker").select_option("U0REVIEW")
    expect(page.locator('[data-testid=message][data-user="U0DEV"]')).to_contain_text("hello")
    expect(page.locator('[data-testid=message][data-ephemeral="true"]')).to_have_count(0)
    assert "user=U0REVIEW" in page.url


def test_thread_replies_show_a_count_and_open_beside_the_channel(page: Page, world: World) -> None:
    ts = post_card(world)
    bot(world).chat_postMessage(channel=DEPLOYS, thread_ts=ts, text="Merged <@U0REVIEW>'s pick")
    link = card(page).get_by_test_id("thread-link")
    expect(link).to_contain_text("1 reply")
    link.click()
    pane = page.get_by_test_id("thread-pane")
    expect(pane).to_be_visible()
    expect(pane).to_contain_text("Merged @riley's pick")
    pane.get_by_test_id("thread-composer").fill("thanks!")
    pane.get_by_test_id("thread-send").click()
    expect(pane.locator('[data-testid=message][data-user="U0DEV"]')).to_contain_text("thanks!")
    assert [m["text"] for m in world.slack.replies(DEPLOYS, ts)][-1] == "thanks!"
    pane.get_by_test_id("thread-close").click()
    expect(pane).to_be_hidden()


def test_modal_opened_by_the_app_is_filled_submitted_and_closed(
    page: Page, world: World, receiver: Receiver
) -> None:
    world.slack.bot_request_url = receiver.url
    view = {
        "type": "modal",
        "callback_id": "promotion.rollback_plan",
        "title": {"type": "plain_text", "text": "Rollback plan"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "How would you undo *prod*?"}},
            {
                "type": "input",
                "block_id": "plan.text",
                "label": {"type": "plain_text", "text": "Plan"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "plan.text_input",
                    "multiline": True,
                },
            },
        ],
    }
    trigger = world.slack.workspace.issue_trigger("U0DEV")
    opened = bot(world).views_open(trigger_id=trigger, view=view)
    modal = page.get_by_test_id("modal")
    expect(modal.get_by_test_id("modal-title")).to_have_text("Rollback plan")
    expect(modal).to_have_attribute("data-view-id", str(opened["view"]["id"]))
    expect(modal.locator("b")).to_have_text("prod")

    # Required and empty: Slack's client refuses, nothing reaches the app.
    modal.get_by_test_id("modal-submit").click()
    expect(modal.get_by_test_id("modal-field-error")).to_have_text(
        "Please complete this required field."
    )
    assert receiver.payloads("view_submission") == []

    modal.get_by_test_id("modal-field").fill("git revert the merge, push to prod")
    modal.get_by_test_id("modal-submit").click()
    expect(page.get_by_test_id("modal")).to_have_count(0)
    submitted = wait_for(lambda: receiver.payloads("view_submission"), what="the submission")
    assert submitted[0]["user"]["id"] == "U0DEV"
    values = submitted[0]["view"]["state"]["values"]
    assert values["plan.text"]["plan.text_input"]["value"] == "git revert the merge, push to prod"

    # Another modal, closed with its close button: it goes away for the user.
    bot(world).views_open(trigger_id=world.slack.workspace.issue_trigger("U0DEV"), view=view)
    expect(page.get_by_test_id("modal-close")).to_have_text("Back")
    page.get_by_test_id("modal-close").click()
    expect(page.get_by_test_id("modal")).to_have_count(0)
    assert world.slack.open_views("U0DEV") == []


def test_push_to_dev_moves_the_head_then_flux_applies_it(page: Page, world: World) -> None:
    dev = page.get_by_test_id("env-dev")
    expect(dev.get_by_test_id("env-image")).to_contain_text("1.0.0")
    page.get_by_test_id("push-message").fill("Faster checkout")
    page.get_by_test_id("push-dev").click()
    expect(dev.get_by_test_id("env-head")).to_contain_text("Faster checkout")
    sha = dev.get_attribute("data-head")
    assert sha and len(sha) == 40
    assert branch_head(world.repo.path, "dev") == sha
    expect(dev.get_by_test_id("env-image")).to_contain_text("1.0.1")
    expect(dev.get_by_test_id("env-revision")).to_contain_text(sha[:7], timeout=20_000)
    expect(dev.get_by_test_id("env-ready")).to_have_text("Ready", timeout=20_000)
    expect(dev.get_by_test_id("env-pods")).to_contain_text("1/1 ready")
    expect(dev.get_by_test_id("env-pod")).to_have_text("● 1.0.1", timeout=20_000)
    expect(page.get_by_test_id("world-log")).to_contain_text(f"Pushed {sha[:7]} to dev")
    # The other envs did not move.
    expect(page.get_by_test_id("env-staging").get_by_test_id("env-image")).to_contain_text("1.0.0")


def open_pull(world: World) -> int:
    dev = person("developer")
    body = json.dumps({"title": "Promote dev to staging", "head": "dev", "base": "staging"})
    request = urllib.request.Request(
        f"{world.github.url}/repos/{OWNER}/{REPO}/pulls",
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"token {dev.github_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["number"])


def test_pull_request_panel_sets_checks_and_approves_as_the_reviewer(
    page: Page, world: World
) -> None:
    expect(page.get_by_test_id("pulls-empty")).to_be_visible()
    page.get_by_test_id("push-dev").click()
    expect(page.get_by_test_id("world-log")).to_contain_text("Pushed")
    number = open_pull(world)
    pull = page.get_by_test_id(f"pull-{number}")
    expect(pull.get_by_test_id("pull-title")).to_have_text(f"#{number} Promote dev to staging")
    expect(pull.get_by_test_id("pull-checks")).to_contain_text("none yet")

    pull.get_by_test_id("pull-check-fail").click()
    expect(pull.get_by_test_id("pull-checks")).to_contain_text("ci failure")
    pull.get_by_test_id("pull-check-pass").click()
    expect(pull.get_by_test_id("pull-checks")).to_contain_text("ci success")
    head = world.github.pull_request(number)["head"]["sha"]
    runs = [r for r in world.github.state.check_runs.values() if r.head_sha == head]
    assert [r.conclusion for r in runs] == ["failure", "success"]

    pull.get_by_test_id("pull-approve").click()
    expect(pull.get_by_test_id("pull-reviews")).to_contain_text("riley approved")
    reviews = world.github.state.pulls[number].reviews
    assert [(r.user, r.state) for r in reviews] == [("riley", "APPROVED")]

    post_card(world)
    expect(card(page).get_by_test_id("block-header")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webui.png"))
    assert (ARTIFACTS / "webui.png").stat().st_size > 10_000


def test_break_dev_turns_dev_not_ready_with_crashing_pods(page: Page, world: World) -> None:
    dev = page.get_by_test_id("env-dev")
    expect(dev.get_by_test_id("env-ready")).to_have_text("Ready", timeout=20_000)
    page.get_by_test_id("break-dev").click()
    expect(dev.get_by_test_id("env-image")).to_contain_text("broken-1")
    expect(dev.get_by_test_id("env-ready")).to_have_text("Not ready", timeout=30_000)
    expect(dev).to_have_attribute("data-ready", "False")
    expect(dev.get_by_test_id("env-pods")).to_contain_text("CrashLoopBackOff")
    # staging depends on dev in Flux: it says so, and keeps running its own image.
    staging = page.get_by_test_id("env-staging")
    expect(staging.get_by_test_id("env-message")).to_contain_text("DependencyNotReady")
    expect(staging.get_by_test_id("env-image")).to_contain_text("1.0.0")


def test_app_home_shows_the_published_view_for_the_acting_user_only(
    page: Page, world: World
) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "myapp at a glance"}}],
    }
    bot(world).views_publish(user_id="U0DEV", view=home)
    page.get_by_test_id("app-home").click()
    expect(page.get_by_test_id("home-view").get_by_test_id("block-header")).to_have_text(
        "myapp at a glance"
    )
    expect(page.get_by_test_id("composer")).to_be_hidden()
    page.get_by_test_id("user-picker").select_option("U0STAKE")
    expect(page.get_by_test_id("home-empty")).to_be_visible()
    page.get_by_test_id("channel-myapp-deploys").click()
    expect(page.get_by_test_id("channel-title")).to_have_text("# myapp-deploys")
