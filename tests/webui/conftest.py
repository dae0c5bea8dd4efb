"""Fixtures for the web UI tests: a world, its web UI, a recording stand-in for the bot's
request URL, and Debian's Chromium driven by Playwright (both installed by the test command).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from promotebot.wiring import Bot
from sandbox.bot import start_bot_for
from sandbox.httpserver import BackgroundServer, QuietHandler
from sandbox.webui import WebUI, start_webui
from sandbox.world import World
from tests import waiting

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# Playwright's expectations poll for 5 s by default: the bot and the emulated Flux behind the
# page take longer on a loaded machine, so every expectation gets a bound no load exhausts.
expect.set_options(timeout=60_000)


class Receiver:
    """Stands where the bot's request URL would be: records each signed POST, answers 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.read_body().decode())
                entry: dict[str, Any] = {key: values[-1] for key, values in form.items()}
                if "payload" in entry:
                    entry["payload"] = json.loads(entry["payload"])
                with receiver._lock:
                    receiver.requests.append(entry)
                self.send_bytes(200, b"", "text/plain")

        self._server = BackgroundServer(Handler)

    @property
    def url(self) -> str:
        return f"{self._server.url}/slack/events"

    def payloads(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                r["payload"]
                for r in self.requests
                if isinstance(r.get("payload"), dict) and r["payload"].get("type") == kind
            ]

    def __enter__(self) -> Receiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


def wait_for(check: Callable[[], Any], what: str = "condition") -> Any:
    """The suite's one bounded wait (tests/waiting.py)."""
    return waiting.wait_for(check, what)


@pytest.fixture
def world() -> Iterator[World]:
    # time_scale 60: dev's 1m interval passes in 1 s and Flux's 3m timeout in 3 s.
    with World(time_scale=60.0, pod_start_delay=1.0) as running:
        yield running


@pytest.fixture
def webui(world: World) -> Iterator[WebUI]:
    ui = start_webui(world)
    try:
        yield ui
    finally:
        ui.stop()


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, webui: WebUI) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.goto(f"{webui.url}/?user=U0DEV&channel=C0DEPLOYS")
    try:
        yield opened
    finally:
        context.close()


# The real bot between the emulators, and the sandbox's page over it (the promotion tests).


@pytest.fixture
def bot(world: World) -> Iterator[Bot]:
    running = start_bot_for(world, poll_seconds=1.0)
    world.slack.bot_request_url = running.slack_request_url
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sandbox_page(browser: Browser, world: World, bot: Bot) -> Iterator[tuple[Page, WebUI]]:
    ui = start_webui(world, auto_ci=True)
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{ui.url}/?user=U0DEV&channel=C0DEPLOYS")
    try:
        yield page, ui
    finally:
        context.close()
        ui.stop()
