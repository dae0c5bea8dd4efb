"""Fixtures for the Slack emulator contract tests: a small workspace, the real slack_sdk
client pointed at it, and a real slack_bolt App served over HTTP on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from sandbox.slack import SlackEmulator
from tests.slack.helpers import (
    TOKEN,
    BoltServer,
    FakeClock,
    Recorder,
    make_bolt,
    make_emulator,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[SlackEmulator]:
    with make_emulator(clock) as running:
        yield running


@pytest.fixture
def client(emulator: SlackEmulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=emulator.api_url)


@pytest.fixture
def bolt(emulator: SlackEmulator) -> Iterator[BoltServer]:
    """A Bolt app wired to the emulator; tests register listeners on `bolt.app`."""
    server = BoltServer(make_bolt(emulator))
    server.server.start()
    emulator.bot_request_url = server.url
    try:
        yield server
    finally:
        server.server.stop()


@pytest.fixture
def recorder(emulator: SlackEmulator) -> Iterator[Recorder]:
    """A recording stand-in for the bot at the emulator's request URL."""
    app = Recorder()
    app.server.start()
    emulator.bot_request_url = app.url
    try:
        yield app
    finally:
        app.server.stop()
