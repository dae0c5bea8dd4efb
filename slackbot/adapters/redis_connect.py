"""How promotebot reaches its Redis: a REDIS_URL, a primary found through Redis Sentinel, or the
embedded in-process Redis of the sandbox; and whether that Redis keeps what it is told.

Every connection has short timeouts, so a Redis that froze fails a call within the ack
deadline instead of holding it (the edge then answers "cannot reach its database"). Through
Sentinel, redis-py's Sentinel client asks the sentinels for the primary on every new
connection: after a failover the next call reaches the new primary. Nothing is retried here:
the engine's steps are re-read and retried by the runner, and a retried write could apply
twice. The persistence check reads CONFIG GET appendonly and save; a managed Redis that
refuses CONFIG is reported as unknown, never as volatile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import redis
from redis.sentinel import Sentinel

from slackbot.adapters.redis_store import open_redis

SOCKET_TIMEOUT = 2.0  # seconds for a reply; Redis answers in well under a millisecond
CONNECT_TIMEOUT = 1.0


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str  # the primary's name the sentinels monitor ("mymaster")
    password: str | None = None  # the primary's (and its replicas') password
    sentinel_password: str | None = None  # the sentinels' own, when they require one


def connect(url: str | None, sentinel: SentinelTarget | None = None) -> redis.Redis:
    """A client for the primary: through Sentinel, else the URL, else embedded."""
    if sentinel is not None:
        sentinel_kwargs: dict[str, object] = {"socket_timeout": SOCKET_TIMEOUT,
                                              "socket_connect_timeout": CONNECT_TIMEOUT}
        if sentinel.sentinel_password:
            sentinel_kwargs["password"] = sentinel.sentinel_password
        watchers = Sentinel(
            list(sentinel.sentinels), sentinel_kwargs=sentinel_kwargs,
            socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT,
            password=sentinel.password)
        primary: redis.Redis = watchers.master_for(
            sentinel.service, decode_responses=True)
        return primary
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=SOCKET_TIMEOUT,
                                    socket_connect_timeout=CONNECT_TIMEOUT)
    return open_redis(None)


class Persistence(StrEnum):
    AOF = "aof"  # appendonly yes
    SNAPSHOTS = "snapshots"  # RDB save points only: a crash loses what came after the last one
    NONE = "none"  # neither: a restart of Redis loses every record
    UNKNOWN = "unknown"  # CONFIG refused (a managed Redis): it cannot be told


def persistence(client: redis.Redis) -> Persistence:
    try:
        appendonly = client.config_get("appendonly")
        save = client.config_get("save")
    except redis.ResponseError:
        return Persistence.UNKNOWN
    if str(appendonly.get("appendonly", "no")) == "yes":
        return Persistence.AOF
    if str(save.get("save", "")).strip():
        return Persistence.SNAPSHOTS
    return Persistence.NONE
