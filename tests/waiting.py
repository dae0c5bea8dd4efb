"""One bounded wait for the whole suite: poll until something is true, or fail saying what."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

WAIT = 30.0  # bound of every wait, in real seconds; none of them should come near it


def wait_for(check: Callable[[], Any], what: str = "condition", timeout: float = WAIT) -> Any:
    """Polls check() until it returns something truthy; fails naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}; last value: {last!r}")
