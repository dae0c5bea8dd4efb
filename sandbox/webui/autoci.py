"""A stand-in CI for the sandbox: every open pull request's new head gets a passing `ci` check.

Without it a new user must press "CI passes" before a promotion's gates can go green; with it
the check arrives a moment after the pull request opens or moves, as a real CI's would. It
only adds check runs through the GitHub emulator's own CI entry point; it decides nothing else.
"""

from __future__ import annotations

import logging
import threading
import time

from sandbox.world import World

log = logging.getLogger(__name__)
CHECK_NAME = "ci"


class AutoCI:
    """Polls open pull requests; a head with no `ci` result yet passes after `delay` seconds."""

    def __init__(self, world: World, delay: float = 1.5, every: float = 0.5) -> None:
        self.world = world
        self.delay = delay
        self.every = every
        self._seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-auto-ci", daemon=True)

    def start(self) -> AutoCI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run_once(time.monotonic())
            except Exception:  # a failed round is retried at the next one
                log.exception("auto CI round failed")

    def run_once(self, now: float) -> list[str]:
        """Passes every head that has waited `delay`; returns the shas it passed."""
        state = self.world.github.state
        with state.lock:
            heads = {state.head_sha(p) for p in state.pulls.values() if p.state == "open"}
            judged = {r.head_sha for r in state.check_runs.values() if r.name == CHECK_NAME}
            judged |= {s.sha for s in state.statuses if s.context == CHECK_NAME}
        passed = []
        for sha in sorted(heads - judged):
            if not sha:
                continue
            first = self._seen.setdefault(sha, now)
            if now - first >= self.delay:
                self.world.github.set_check(sha, CHECK_NAME, "success")
                passed.append(sha)
        return passed
