"""The emulated GitHub's clock as the bot's Clock (a datetime), so that the bot's trust, backoff
and rate-limit waits run on the time the test steps."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.github import GitHubEmulator


class EmulatorClock:
    def __init__(self, emulator: GitHubEmulator):
        self._clock = emulator.clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), UTC)
