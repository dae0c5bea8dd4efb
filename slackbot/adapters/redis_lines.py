"""The Store port's lines on Redis: the queue of each env and the due index of timers, each
operation one Lua script, so that racing replicas never share a place in line, start one
entry twice, or take one due record twice. Mixed into RedisStore (slackbot/adapters/
redis_store.py), which owns the client and the key prefix; it decides nothing.

Keys, under the store's prefix:
    queue:<app>:<env>       zset user by seq                  who waits for the env, in order
    queued:<app>:<env>      hash user -> entry (JSON)         what each of them asked
    queue-claim:<app>:<env> hash {user, seq, data, at}        the entry being started now
    queue-seq               counter                           queue order
    due                     zset id by due time               records whose timer is due
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import redis

from slackbot import codec
from slackbot.adapters.transport import unreachable
from slackbot.errors import StoreUnavailable
from slackbot.models import QueueEntry

_ENQUEUE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local added = 0
if not score then
  score = redis.call('INCR', KEYS[3])
  redis.call('ZADD', KEYS[1], score, ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  added = 1
end
return {added, redis.call('ZRANK', KEYS[1], ARGV[1]) + 1, tostring(score),
        redis.call('HGET', KEYS[2], ARGV[1])}
"""
_LEAVE = """
local data = redis.call('HGET', KEYS[2], ARGV[1])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not data or not score then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {tostring(score), data}
"""
_CLAIM = """
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #head == 0 then return false end
local data = redis.call('HGET', KEYS[2], head[1])
redis.call('ZREM', KEYS[1], head[1])
redis.call('HDEL', KEYS[2], head[1])
redis.call('HSET', KEYS[3], 'user', head[1], 'seq', head[2], 'data', data, 'at', ARGV[1])
return {head[2], data}
"""
_RELEASE_CLAIM = """
local claim = redis.call('HMGET', KEYS[3], 'user', 'seq', 'data')
if not claim[1] then return 0 end
if ARGV[1] == '1' and not redis.call('ZSCORE', KEYS[1], claim[1]) then
  redis.call('ZADD', KEYS[1], claim[2], claim[1])
  redis.call('HSET', KEYS[2], claim[1], claim[3])
end
return redis.call('DEL', KEYS[3])
"""
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do redis.call('ZREM', KEYS[1], member) end
return due
"""


# Our clients decode replies (decode_responses=True), so every reply is text; redis types a
# reply for either setting (bytes | str), so replies are narrowed here, once.
def reply_text(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply


def reply_fields(reply: Mapping[bytes | str, bytes | str] | None) -> dict[str, str]:
    return {reply_text(k): reply_text(v) for k, v in (reply or {}).items()}


@unreachable((redis.ConnectionError, redis.TimeoutError), StoreUnavailable, "Redis")
class Lines:
    _r: redis.Redis

    def _k(self, *parts: object) -> str:
        raise NotImplementedError  # the store's key under its prefix

    def _register_lines(self, client: redis.Redis) -> None:
        self._enqueue = client.register_script(_ENQUEUE)
        self._leave = client.register_script(_LEAVE)
        self._claim = client.register_script(_CLAIM)
        self._release_claim = client.register_script(_RELEASE_CLAIM)
        self._take_due = client.register_script(_TAKE_DUE)

    # -- the queue of an env ---------------------------------------------------------------

    def _queue_keys(self, app: str, env: str) -> list[str]:
        return [self._k("queue", app, env), self._k("queued", app, env),
                self._k("queue-claim", app, env)]

    @staticmethod
    def _entry(data: str, seq: object) -> QueueEntry:
        return dataclasses.replace(codec.load(QueueEntry, json.loads(data)),
                                   seq=int(float(str(seq))))

    def enqueue(self, entry: QueueEntry) -> tuple[QueueEntry, int, bool]:
        zset, entries, _ = self._queue_keys(entry.app, entry.env)
        added, position, seq, data = self._enqueue(
            keys=[zset, entries, self._k("queue-seq")],
            args=[entry.user, json.dumps(codec.dump(entry))])
        return self._entry(reply_text(data), seq), int(position), bool(added)

    def leave_queue(self, app: str, env: str, user: str) -> QueueEntry | None:
        zset, entries, _ = self._queue_keys(app, env)
        reply = self._leave(keys=[zset, entries], args=[user])
        if not reply:
            return None
        seq, data = reply
        return self._entry(reply_text(data), seq)

    def queue(self, app: str, env: str) -> list[QueueEntry]:
        zset, entries, _ = self._queue_keys(app, env)
        with self._r.pipeline(transaction=True) as pipe:
            pipe.zrange(zset, 0, -1, withscores=True)
            pipe.hgetall(entries)
            ranked, stored = pipe.execute()
        return self._entries(ranked, stored)

    def _entries(self, ranked: Any, stored: Any) -> list[QueueEntry]:
        """A queue from its two replies (ZRANGE with scores, HGETALL), in line order; a user
        ranked but not (or no longer) stored is skipped."""
        data = reply_fields(stored)
        return [self._entry(data[reply_text(user)], seq) for user, seq in ranked
                if reply_text(user) in data]

    def claim_queued(self, app: str, env: str, at: datetime) -> QueueEntry | None:
        reply = self._claim(keys=self._queue_keys(app, env), args=[at.isoformat()])
        if not reply:
            return None
        seq, data = reply
        return self._entry(reply_text(data), seq)

    def release_claim(self, app: str, env: str, requeue: bool) -> None:
        self._release_claim(keys=self._queue_keys(app, env), args=["1" if requeue else "0"])

    def claim(self, app: str, env: str) -> tuple[QueueEntry, datetime] | None:
        found = reply_fields(self._r.hgetall(self._k("queue-claim", app, env)))
        if "data" not in found:
            return None
        return self._entry(found["data"], found["seq"]), datetime.fromisoformat(found["at"])

    # -- due times of timers ---------------------------------------------------------------

    def set_due(self, promotion_id: int, at: datetime) -> None:
        self._r.zadd(self._k("due"), {str(promotion_id): at.timestamp()})

    def clear_due(self, promotion_id: int) -> None:
        self._r.zrem(self._k("due"), str(promotion_id))

    def take_due(self, now: datetime, limit: int = 100) -> list[int]:
        taken = self._take_due(keys=[self._k("due")], args=[now.timestamp(), limit])
        return sorted(int(reply_text(member)) for member in taken or [])
