"""An outage of GitHub as the bot's log tells it: one warning when it starts, one line when
GitHub answers again, and backoff in between (the emulator counts what it received), on the
clock the test steps. And the one module that keeps that bookkeeping (slackbot.downtime)."""

from __future__ import annotations

import logging

import pytest

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.downtime import Downtime, is_outage
from slackbot.errors import ClusterUnavailable, ForgeUnavailable, StoreUnavailable
from tests.github.clocks import EmulatorClock
from tests.github.conftest import ALICE

OUTAGE = 120  # seconds on the emulator's clock
STEP = 1  # the caller asks every second, as a busy poll would


def _lines(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_a_github_outage_is_two_lines_and_backs_off(
        emulator: GitHubEmulator, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    forge = GitHubForge(github_client(emulator.url, ALICE.token, fast=True),
                        clock=EmulatorClock(emulator))
    assert forge.ping()
    emulator.recording = True
    emulator.faults.outage(OUTAGE, status=503)
    asked = failed = 0
    for _ in range(OUTAGE // STEP):
        asked += 1
        try:
            forge.ping()
        except ForgeUnavailable:
            failed += 1
        clock.advance(STEP)
    received = len(emulator.exchanges)
    assert failed == asked == OUTAGE // STEP
    # doubling pauses (2, 4, 8 ... 60 s): a handful of requests, not one a second
    assert 2 <= received <= 8, received
    for _ in range(60):  # the outage is over: the next attempt after the pause answers
        try:
            forge.ping()
            break
        except ForgeUnavailable:
            clock.advance(STEP)
    else:
        pytest.fail("GitHub never answered again")
    assert len(_lines(caplog, "GitHub is failing")) == 1
    assert "503" in _lines(caplog, "GitHub is failing")[0]
    assert len(_lines(caplog, "GitHub answers again")) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.exc_info]


class Stepped:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_downtime_warns_once_backs_off_capped_and_says_once_when_it_answers(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Stepped()
    downtime = Downtime("the Kubernetes API (kustomization watch)", first=1.0, cap=30.0,
                        clock=clock)
    delays = []
    for _ in range(8):
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            delays.append(downtime.failed(exc))
        clock.now += delays[-1]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "the Kubernetes API (kustomization watch) is failing: ConnectionRefusedError: [Errno "
        "111] Connection refused; retrying with backoff (up to 30s between attempts)"]
    assert warnings[0].exc_info is None  # the traceback goes to DEBUG only
    assert all(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)
    downtime.answered()
    downtime.answered()  # no outage: nothing more to say
    back = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert back == ["the Kubernetes API (kustomization watch) answers again after 121s "
                    "(8 failed attempts)"]
    assert downtime.failed("again") == 1.0  # a new outage starts over


def test_only_a_service_away_counts_as_an_outage() -> None:
    assert is_outage(ForgeUnavailable("GitHub answered 503"))
    assert is_outage(ClusterUnavailable("the Kubernetes API answered 503"))
    assert is_outage(StoreUnavailable("Redis did not answer"))
    assert not is_outage(ValueError("a bug"))
