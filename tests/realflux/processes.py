"""Child processes of the harness: started with their output in a log file, stopped for sure.

Each component runs in its own process group, so stop() ends it and anything it forked; a
failed start says which component, its command and the end of its log. Free loopback ports
come from here too. It knows nothing about what the processes are.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.waiting import wait_for

PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before any fork


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies, even by SIGKILL, so
    no component outlives a killed run (stop() is the normal way out)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the component binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """One running component; `log` holds its stdout and stderr."""

    def __init__(self, name: str, argv: Sequence[str], log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self._proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})}, start_new_session=True,
                preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, check: Callable[[], bool], timeout: float) -> None:
        """Waits until check() holds; fails at once, with the log, if the process exits."""
        def ready() -> bool:
            if not self.alive():
                raise RuntimeError(
                    f"{self.name} exited with {self._proc.returncode} while starting:\n"
                    f"{' '.join(self.argv)}\n--- {self.log}\n{self.tail()}")
            return check()
        wait_for(ready, f"{self.name} to be ready (log: {self.log})", timeout=timeout)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds; idempotent."""
        if self._proc.poll() is not None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=grace)
