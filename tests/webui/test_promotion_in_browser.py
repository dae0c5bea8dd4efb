"""Issue 6's "Done when", as a new user would do it in the sandbox's web UI, with the real bot
between the emulators: push a change to dev, type /promote staging, approve the pull request as
the reviewer, and watch the card reach deployed. Saves a screenshot of the finished card."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from promotebot.wiring import Bot
from sandbox.webui import WebUI
from sandbox.world import World
from tests import waiting
from tests.webui.conftest import ARTIFACTS


def test_new_user_promotes_a_change_to_staging_in_the_browser(
        sandbox_page: tuple[Page, WebUI], world: World, bot: Bot) -> None:
    page, _ = sandbox_page
    dev = page.get_by_test_id("env-dev")
    before = dev.get_attribute("data-head")

    # 1. push a change to dev from the panel; the head moves, then Flux applies it
    page.get_by_test_id("push-dev").click()
    expect(dev).not_to_have_attribute("data-head", before or "")
    head = dev.get_attribute("data-head")
    assert head and len(head) == 40
    expect(dev).to_have_attribute("data-revision", head[:7])
    expect(dev.get_by_test_id("env-ready")).to_have_text("Ready")

    # 2. type /promote staging as dana; the bot answers privately and posts its card
    composer = page.get_by_test_id("composer")
    composer.fill("/promote staging")
    composer.press("Enter")
    expect(page.get_by_test_id("ephemeral-label").first).to_be_visible()
    card = page.get_by_test_id("message").filter(has=page.get_by_test_id("block-header"))
    expect(card.get_by_test_id("block-header")).to_contain_text("myapp → staging")
    expect(card).to_contain_text("Awaiting gates")
    expect(card).to_contain_text("approving review")

    # 3. approve the pull request as the reviewer, from the pull requests panel
    pull = page.locator("[data-testid^='pull-']").filter(
        has=page.get_by_test_id("pull-approve")).first
    expect(pull).to_contain_text("promote myapp to staging")
    pull.get_by_test_id("pull-approve").click()

    # 4. the card reaches deployed; staging runs the merge, with its 2 replicas
    expect(card).to_contain_text("Deployed", timeout=60_000)
    record = bot.store.history("myapp", "staging")[0]
    assert record.state.value == "deployed" and record.merge_sha
    expect(card).to_contain_text(record.merge_sha[:7])
    staging = page.get_by_test_id("env-staging")
    expect(staging).to_have_attribute("data-revision", record.merge_sha[:7])
    expect(staging.get_by_test_id("env-pods")).to_contain_text("2/2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sandbox-promotion-deployed.png"), full_page=True)
    assert (ARTIFACTS / "sandbox-promotion-deployed.png").stat().st_size > 10_000


def test_stale_buttons_unknown_commands_and_a_closed_tab_are_harmless(
        sandbox_page: tuple[Page, WebUI], browser: Browser, world: World, bot: Bot) -> None:
    page, ui = sandbox_page
    composer = page.get_by_test_id("composer")
    composer.fill("/deploy staging")
    composer.press("Enter")
    expect(page.get_by_text("/deploy is not a valid command")).to_be_visible()
    composer.fill("/promote stagin")
    composer.press("Enter")
    expect(page.get_by_test_id("message").filter(has_text="did you mean")).to_contain_text(
        "has no environment stagin")

    # a promotion starts, its tab is closed mid-way, and it still finishes
    dev = page.get_by_test_id("env-dev")
    before = dev.get_attribute("data-head") or ""
    page.get_by_test_id("push-dev").click()
    expect(dev).not_to_have_attribute("data-head", before)
    expect(dev).to_have_attribute("data-revision", (dev.get_attribute("data-head") or "")[:7])
    composer.fill("/promote staging")
    composer.press("Enter")
    card = page.get_by_test_id("message").filter(has=page.get_by_test_id("block-header"))
    expect(card).to_contain_text("Awaiting gates")
    page.context.close()  # the tab goes away while the promotion waits for its review
    record = bot.store.live("myapp", "staging")
    assert record is not None
    from github import Auth, Github

    from sandbox.world import person
    reviewer = Github(auth=Auth.Token(person("reviewer").github_token),
                      base_url=world.github.url, seconds_between_requests=None,
                      seconds_between_writes=None)
    reviewer.get_repo("acme/myapp").get_pull(record.pr_number).create_review(event="APPROVE")
    done = waiting.wait_for(lambda: (r := bot.store.get(record.id)) and not r.live and r,
                            "the promotion to finish", timeout=60)
    assert done.state.value == "deployed"

    # a new tab shows the finished card, without the buttons of a live one
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    fresh = context.new_page()
    fresh.goto(f"{ui.url}/?user=U0DEV&channel=C0DEPLOYS")
    card = fresh.get_by_test_id("message").filter(has=fresh.get_by_test_id("block-header"))
    expect(card).to_contain_text("Deployed", timeout=30_000)
    expect(card.locator("[data-action-id='promotion.cancel']")).to_have_count(0)
    expect(card.locator("[data-action-id='promotion.retry']")).to_have_count(0)
    context.close()
