"""One bounded wait for the whole suite: poll until something is true, or fail saying what.

A wait that times out also dumps every thread's stack to artifacts/stalls/, and names the
busiest frames in the failure, so a rare stall under load can be diagnosed from CI's output.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

WAIT = 30.0  # bound of every wait, in real seconds; none of them should come near it
STARTUP = 180.0  # bound of a new Python process coming up (imports, probes) on a loaded machine
STALLS = Path(__file__).resolve().parents[1] / "artifacts" / "stalls"
IDLE = ("wait", "select", "poll", "accept", "_wait_for_tstate_lock", "get", "serve_forever",
        "readinto", "recv", "recv_into", "sleep", "handle_request", "run_forever")


def thread_stacks() -> str:
    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, frame in sys._current_frames().items():
        out.append(f"--- thread {names.get(ident, ident)}\n" + "".join(
            traceback.format_stack(frame)))
    return "\n".join(out)


def busy_frames() -> list[str]:
    """The innermost project frame of each thread that is not simply waiting."""
    found = []
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        stack = traceback.extract_stack(frame)
        if not stack or stack[-1].name in IDLE:
            continue
        ours = [f for f in stack if "/site-packages/" not in f.filename]
        where = ours[-1] if ours else stack[-1]
        found.append(f"{names.get(ident, ident)}: {where.filename}:{where.lineno} {where.name}")
    return found


def wait_for(check: Callable[[], Any], what: str = "condition", timeout: float = WAIT, *,
             ignoring: tuple[type[BaseException], ...] = ()) -> Any:
    """Polls check() until it returns something truthy; fails naming `what` and the last value.

    `ignoring`: exceptions that only mean "not yet" (a server still starting). The bound is
    generous on purpose: no machine load comes near it, and a wait that passes returns at once."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except ignoring as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.02)
    STALLS.mkdir(parents=True, exist_ok=True)
    dump = STALLS / f"stall-{int(time.time() * 1000)}.txt"
    dump.write_text(f"waiting for {what}\n\n{thread_stacks()}")
    busy = "\n  ".join(busy_frames()[:12])
    pytest.fail(f"timed out waiting for {what}; last value: {last!r}\n"
                f"busy threads:\n  {busy}\n(every stack: {dump})")
