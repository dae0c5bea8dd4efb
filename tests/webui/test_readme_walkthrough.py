"""The README's walkthrough exactly as written, in Chromium with the real bot (issue 18): act as
dana, press Push a change to dev, type /promote staging, press Approve as riley, watch the card
reach deployed; then open the pull request from the card's link and read the emulated GitHub's
page (title, body with the bot's status section, the comments). On the way: the picker says
who holds which role, emoji shortcodes render as Slack does, a command sent while scrolled up
scrolls to its reply, and the README's picture is taken the way sandbox/screenshot.py takes
it."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from promotebot.wiring import Bot
from sandbox import screenshot
from sandbox.webui import WebUI
from sandbox.world import DEPLOYS, World, person
from tests.webui.conftest import ARTIFACTS

README = Path(__file__).resolve().parents[2] / "README.md"
FILLER = 30  # messages enough to scroll the channel on a 1000-pixel-high page


def at_bottom(page: Page) -> bool:
    return bool(page.get_by_test_id("messages").evaluate(
        "m => m.scrollHeight - m.scrollTop - m.clientHeight < 60"))


def test_the_readme_walkthrough_and_the_pull_request_page(
        sandbox_page: tuple[Page, WebUI], world: World, bot: Bot, tmp_path: Path) -> None:
    page, _ = sandbox_page
    walkthrough = README.read_text()
    for step in ("Act as *dana*", "**Push a change to dev**", "`/promote staging`",
                 "**Approve as riley**", "deployed"):
        assert step in walkthrough, f"the README's walkthrough no longer says {step}"

    # the picker names each person's roles from the sandbox's access policy
    picker = page.get_by_test_id("user-picker")
    expect(picker.locator("option[value='U0STAKE']")).to_contain_text("stakeholder")
    expect(picker.locator("option[value='U0ONCALL']")).to_contain_text("on-call")
    expect(picker.locator("option[value='U0ONCALL']")).to_contain_text("prod approver")
    expect(picker.locator("option[value='U0REVIEW']")).to_contain_text("reviewer")
    picker.select_option("U0DEV")  # act as dana
    expect(picker.locator("option[value='U0DEV']")).to_contain_text("developer")

    # a busy channel, scrolled up; an emoji code renders, an unknown one stays text
    dana = person("developer").slack_id
    for n in range(FILLER):
        world.slack.post_as_user(dana, DEPLOYS, f"earlier chatter {n}")
    world.slack.post_as_user(dana, DEPLOYS, ":rotating_light: heads up :not_an_emoji_code:")
    texts = page.get_by_test_id("message-text")
    expect(texts.filter(has_text="heads up")).to_have_text(
        "🚨 heads up :not_an_emoji_code:")
    messages = page.get_by_test_id("messages")
    messages.evaluate("m => { m.scrollTop = 0; }")
    assert messages.evaluate("m => m.scrollHeight > m.clientHeight + 200 && m.scrollTop === 0")

    # 1. Push a change to dev; Flux applies it
    dev = page.get_by_test_id("env-dev")
    before = dev.get_attribute("data-head") or ""
    page.get_by_test_id("push-dev").click()
    expect(dev).not_to_have_attribute("data-head", before)
    head = dev.get_attribute("data-head") or ""
    expect(dev).to_have_attribute("data-revision", head[:7])
    expect(dev.get_by_test_id("env-ready")).to_have_text("Ready")

    # 2. type /promote staging while scrolled up: the page follows it down to the replies
    composer = page.get_by_test_id("composer")
    composer.fill("/promote staging")
    composer.press("Enter")
    card = page.get_by_test_id("message").filter(has=page.get_by_test_id("block-header"))
    expect(card.get_by_test_id("block-header")).to_contain_text("myapp → staging")
    expect(card).to_be_in_viewport()
    assert at_bottom(page)

    # 3. Approve as riley, on the pull request; 4. the card reaches deployed
    pull = page.locator("[data-testid^='pull-']").filter(
        has=page.get_by_test_id("pull-approve")).first
    pull.get_by_test_id("pull-approve").click()
    expect(card).to_contain_text("Deployed", timeout=60_000)
    record = bot.store.history("myapp", "staging")[0]
    assert record.state.value == "deployed" and record.pr_number is not None
    shown = messages.inner_text()
    assert re.search(r":[a-z_]+:", shown.replace(":not_an_emoji_code:", "")) is None, (
        "an emoji shortcode is shown as text")
    expect(page.get_by_test_id("env-staging").get_by_test_id("env-pods")).to_contain_text("2/2")

    # the README's picture, as sandbox/screenshot.py takes it
    picture = tmp_path / "sandbox.png"
    size = screenshot.shoot(page, picture)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < size < screenshot.LIMIT
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "readme-walkthrough.png").write_bytes(picture.read_bytes())

    # a person comments on the pull request on GitHub (the bot's own comments are for what
    # GitHub does not show by itself: syncs, rejections, freezes; its status is in the body)
    riley = person("reviewer")
    requests.post(f"{world.github.url}/repos/acme/myapp/issues/{record.pr_number}/comments",
                  json={"body": "Looks good on **staging**."}, timeout=10,
                  headers={"Authorization": f"token {riley.github_token}"}).raise_for_status()

    # the card's pull request link opens the emulated GitHub's page, no token needed
    link = card.locator(f"a:text-is('#{record.pr_number}')").first
    with page.context.expect_page() as opened:
        link.click()
    github = opened.value
    github.wait_for_load_state()
    stored = world.github.state.pulls[record.pr_number]
    expect(github.get_by_test_id("pr-title")).to_contain_text(stored.title)
    expect(github.get_by_test_id("pr-state")).to_have_text("Merged")
    body = github.get_by_test_id("pr-body")
    expect(body).to_contain_text("through promotebot")
    expect(body.locator("h3").first).to_contain_text("Commits")
    expect(body.locator("li").first).to_contain_text(head[:7])
    expect(github.get_by_test_id("pr-checks")).to_contain_text("ci")
    expect(github.get_by_test_id("pr-review")).to_contain_text("riley approved these changes")
    expect(body).to_contain_text(f"promotebot: {record.name} is deployed")  # its section
    comments = github.get_by_test_id("pr-comment")
    expect(comments).to_have_count(len(stored.comments))
    assert stored.comments, "no comment on the pull request"
    for comment in stored.comments:
        shown_comment = github.locator(f"#issuecomment-{comment.id}")
        expect(shown_comment).to_contain_text(comment.user)
        first_words = re.sub(r"[`*_]", "", comment.body.strip().splitlines()[0])[:40]
        expect(shown_comment).to_contain_text(first_words.lstrip("# ").strip())

    # the card's compare link opens the comparison, and a commit there opens the commit
    compare = card.locator("a:text-is('compare on GitHub')").first
    github.goto(compare.get_attribute("href") or "")
    expect(github.get_by_test_id("compare-title")).to_contain_text("Comparing")
    github.locator(f"a[href$='/commit/{head}']").first.click()
    subject = world.github.state.repo.commit(head).message.splitlines()[0]
    expect(github.get_by_test_id("commit-subject")).to_have_text(subject)
