"""Starts a real Redis primary, its replica and three real redis-sentinel processes on free
loopback ports for the failover tests, and stops them all.

The primary can be killed (SIGKILL) to make the sentinels fail over to the replica, as a
lost Redis node does in production. Nothing here touches the machine's own Redis.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.redis_server import free_port
from tests.waiting import wait_for

SERVICE = "mymaster"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run the tests through scripts/test")
    return found


@dataclass
class SentinelGroup:
    primary_port: int
    replica_port: int
    sentinel_ports: list[int]
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def sentinels(self) -> tuple[tuple[str, int], ...]:
        return tuple(("127.0.0.1", port) for port in self.sentinel_ports)

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2,
                           decode_responses=True)

    def primary_as_sentinels_see_it(self) -> int | None:
        """The primary's port most sentinels name (None while they disagree or do not answer)."""
        named: list[int] = []
        for port in self.sentinel_ports:
            try:
                addr = self.client(port).sentinel_get_master_addr_by_name(SERVICE)
            except redis.RedisError:
                continue
            if isinstance(addr, tuple):
                named.append(int(addr[1]))
        best = max(set(named), key=named.count, default=None)
        return best if best is not None and named.count(best) > len(self.sentinel_ports) // 2 \
            else None

    def kill(self, port: int) -> None:
        proc = self.procs.pop(port)
        proc.kill()
        proc.wait(timeout=10)


def _wait_listening(proc: subprocess.Popen[bytes], client: redis.Redis, what: str) -> None:
    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        return bool(client.ping())

    wait_for(up, what, ignoring=(redis.RedisError,))


@contextmanager
def sentinel_group() -> Iterator[SentinelGroup]:
    """A primary with AOF, one replica of it, and three sentinels (quorum 2) monitoring it,
    every one ready (the replica in sync, each sentinel knowing the replica and the others)."""
    server, sentinel = _binary("redis-server"), _binary("redis-sentinel")
    workdir = Path(tempfile.mkdtemp(prefix="promotebot-sentinel-"))
    group = SentinelGroup(free_port(), free_port(), [free_port() for _ in range(3)])
    try:
        for port, extra in ((group.primary_port, []),
                            (group.replica_port, ["--replicaof", "127.0.0.1",
                                                  str(group.primary_port)])):
            data = workdir / f"redis-{port}"
            data.mkdir()
            group.procs[port] = subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "yes", "--repl-diskless-sync-delay", "0", "--dir", str(data),
                 "--daemonize", "no", *extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait_listening(group.procs[port], group.client(port), f"redis-server on {port}")
        wait_for(lambda: group.client(group.replica_port).info("replication").get(
            "master_link_status") == "up",
            "the replica to sync with the primary", ignoring=(redis.RedisError,))
        for port in group.sentinel_ports:
            conf = workdir / f"sentinel-{port}.conf"  # the sentinel rewrites its own file
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {group.primary_port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 10000\n")
            group.procs[port] = subprocess.Popen([sentinel, str(conf)],
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)
            _wait_listening(group.procs[port], group.client(port), f"redis-sentinel on {port}")

        def known() -> bool:
            for port in group.sentinel_ports:
                c = group.client(port)
                replicas = c.sentinel_slaves(SERVICE)
                if not isinstance(replicas, list) or len(replicas) < 1:
                    return False
                others = c.sentinel_sentinels(SERVICE)
                if not isinstance(others, list) or len(others) < 2:
                    return False
            return True

        wait_for(known, "every sentinel to know the replica and the other sentinels",
                 ignoring=(redis.RedisError,))
        yield group
    finally:
        for proc in group.procs.values():
            proc.kill()
        for proc in group.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                time.sleep(0.1)
        shutil.rmtree(workdir, ignore_errors=True)
