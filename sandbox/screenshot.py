"""The README's picture of the sandbox: plays the README's walkthrough in the web UI with the
real bot (push a change to dev, /promote staging as dana, approve as riley) and photographs
the page once the card says deployed, with the environment panels beside it.

`python -m sandbox.screenshot [docs/images/sandbox.png]` refreshes it; it needs Playwright and
Chromium (the test extras and ./scripts/test install both). `shoot` is what the walkthrough's
browser test calls, so the picture's recipe is tested. It changes nothing but the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

DEFAULT = Path("docs/images/sandbox.png")
VIEWPORT: ViewportSize = {"width": 1360, "height": 860}  # the page as a laptop shows it
LIMIT = 300_000  # bytes: small enough for a README
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
BOUND_MS = 120_000  # each step's bound: the bot and Flux on a loaded machine


def shoot(page: Page, path: Path) -> int:
    """Photographs what `page` shows (the viewport, the newest messages in view) to `path`;
    returns its size in bytes, refusing a picture over LIMIT."""
    page.set_viewport_size(VIEWPORT)
    page.evaluate("() => { const m = document.getElementById('messages');"
                  " m.scrollTop = m.scrollHeight; }")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    size = path.stat().st_size
    if size > LIMIT:
        raise RuntimeError(f"{path} is {size} bytes, over {LIMIT}: shrink VIEWPORT")
    return size


def walk(page: Page) -> None:
    """The README's walkthrough, as a reader does it, until the card says deployed."""
    from playwright.sync_api import expect

    page.get_by_test_id("user-picker").select_option("U0DEV")
    dev = page.get_by_test_id("env-dev")
    expect(dev.get_by_test_id("env-ready")).to_have_text("Ready", timeout=BOUND_MS)
    before = dev.get_attribute("data-head") or ""
    page.get_by_test_id("push-dev").click()
    expect(dev).not_to_have_attribute("data-head", before, timeout=BOUND_MS)
    head = dev.get_attribute("data-head") or ""
    expect(dev).to_have_attribute("data-revision", head[:7], timeout=BOUND_MS)
    composer = page.get_by_test_id("composer")
    composer.fill("/promote staging")
    composer.press("Enter")
    pull = page.locator("[data-testid^='pull-']").filter(
        has=page.get_by_test_id("pull-approve")).first
    pull.get_by_test_id("pull-approve").click(timeout=BOUND_MS)
    card = page.get_by_test_id("message").filter(has=page.get_by_test_id("block-header"))
    expect(card).to_contain_text("Deployed", timeout=BOUND_MS)
    staging = page.get_by_test_id("env-staging")
    expect(staging.get_by_test_id("env-pods")).to_contain_text("2/2", timeout=BOUND_MS)


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    from sandbox.bot import start_bot_for
    from sandbox.webui import start_webui
    from sandbox.world import World

    path = Path(argv[0]) if argv else DEFAULT
    with World(time_scale=60.0, pod_start_delay=1.0) as world:
        bot = start_bot_for(world, poll_seconds=1.0)
        world.slack.bot_request_url = bot.slack_request_url
        ui = start_webui(world, auto_ci=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    page = browser.new_page(viewport=VIEWPORT)
                    page.goto(f"{ui.url}/?user=U0DEV&channel=C0DEPLOYS")
                    walk(page)
                    size = shoot(page, path)
                finally:
                    browser.close()
        finally:
            ui.stop()
            bot.stop()
    print(f"wrote {path} ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
