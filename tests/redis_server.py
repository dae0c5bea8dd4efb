"""Starts a real redis-server on a free loopback port for the tests, and stops it.

The machine may run its own Redis on 6379; the tests never touch it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(*, persistence: bool = False, extra: tuple[str, ...] = (),
                 port: int | None = None) -> Iterator[str]:
    """Yields the URL of a fresh redis-server that dies with the block; persistence off unless
    asked (then AOF, fsync every second, as production runs it). `extra`: more arguments
    (a renamed CONFIG, as managed Redis services do)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run the tests through scripts/test")
    workdir = tempfile.mkdtemp(prefix="promotebot-redis-")
    port = port or free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes" if persistence else "no", "--appendfsync", "everysec",
         "--dir", workdir, "--daemonize", "no", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
