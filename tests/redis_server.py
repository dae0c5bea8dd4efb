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

import redis


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
    # A free port may be taken by another process (another pytest-xdist worker) before
    # redis-server binds it: the server that answers must be this one, else try another port.
    for _attempt in range(5):
        bound = port or free_port()
        proc = _start(binary, bound, workdir, persistence, extra)
        if proc is not None or port is not None:
            break
    if proc is None:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError("redis-server did not start on a free port")
    try:
        yield f"redis://127.0.0.1:{bound}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _start(binary: str, port: int, workdir: str, persistence: bool,
           extra: tuple[str, ...]) -> subprocess.Popen[bytes] | None:
    """redis-server on `port`, once it answers as itself; None when it could not bind."""
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes" if persistence else "no", "--appendfsync", "everysec",
         "--dir", workdir, "--daemonize", "no", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with redis.Redis(port=port, socket_timeout=1) as client:
                if client.info("server").get("process_id") == proc.pid:
                    return proc
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    return None
