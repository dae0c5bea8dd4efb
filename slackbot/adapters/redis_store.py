"""The Store port on Redis: records, compare-and-set transitions, locks with fencing tokens,
idempotency keys, the audit stream, history, freezes and holds, App Home viewers.

Redis is the single source of truth: nothing here caches in process memory. With no
REDIS_URL, `open_redis(None)` gives an embedded in-process Redis (fakeredis) for the sandbox.
This module decides nothing: the core owns every rule. A Redis that does not answer becomes
StoreUnavailable, chained from redis-py's error.

Keys, under a prefix (default "promotebot:"):
    promotion:<id>          hash {version, data(JSON)}       the record
    seq                     counter                           promotion ids
    live:<app>:<env>        string <id>                       the live record of an env
    live                    set of ids                        every live record (resume on restart)
    history:<app>:<env>     zset id by requested time         newest first on read
    outcomes:<app>:<env>    zset id by finish time            deployed and failed records (DORA)
    lock:<app>:<env>        string "<owner>:<token>" (PX)     the env lock
    fence:<app>:<env>       counter                           fencing tokens, ever increasing
    once:<key>              string (EX)                       idempotency keys
    audit                   stream                            every event
    audit:<id>              stream                            the events of one record
    block:<kind>:<app>:<env> string (JSON)                    a freeze or a hold
    notice:<id>             string                            the notifier's handle (its message)
    aftercare               set of ids                        deploys whose sync/backport is due
    notices                 set of ids                        records whose notice is not shown yet
    claim:<key>             string <owner> (PX)               a short lock of no env (a render)
    pace:<key>              string <ms> (PX)                  when the paced call may go next
    home:seen               zset user by last open time       App Home viewers (at most 100)
    queue:..., queued:..., queue-claim:..., queue-seq, due    see slackbot/adapters/redis_lines.py

A freeze of every env of an app is `block:freeze:<app>:*`, of every app `block:freeze:*:*`;
`blocks(app, env)` returns the env's own blocks first, then the wider freezes.

(Over 400 lines: the keys above are read together, a status read takes an env's live record,
blocks and queue in one transaction, so the records, locks and blocks stay in one module;
the queue's scripts already live in slackbot/adapters/redis_lines.py.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import redis
from redis.client import Pipeline
from redis.typing import EncodableT, FieldT

from slackbot import codec
from slackbot.adapters.redis_lines import Lines
from slackbot.adapters.redis_lines import reply_fields as _fields
from slackbot.adapters.redis_lines import reply_text as _text
from slackbot.adapters.transport import unreachable
from slackbot.errors import ConcurrentUpdate, StaleFence, StoreUnavailable
from slackbot.events import Event
from slackbot.models import Block, BlockKind, Promotion, State
from slackbot.pipeline import ALL
from slackbot.ports import EnvRecords, Fence
from slackbot.states import check_transition

# The final states the delivery figures read (slackbot/dora.py), indexed by finish time.
OUTCOMES = frozenset({State.DEPLOYED, State.FAILED})

_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local next = tonumber(redis.call('GET', KEYS[1]) or '0')
if next > now then return next - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) * 2)
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

def _encodable(fields: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """Our text fields as redis types a hash or stream entry (its dict is invariant)."""
    return {k: v for k, v in fields.items()}


def _still_live(record: Promotion | None) -> Promotion | None:
    """The record of an env's live slot, if it is still live: the slot is freed just after a
    record's last transition, so a finished record in it is already not live."""
    return record if record is not None and record.live else None


def _blocks(replies: list[Any]) -> list[Block]:
    """Blocks from an MGET of block keys (a missing one is None)."""
    return [codec.load(Block, json.loads(data)) for data in replies if data]


def open_redis(url: str | None) -> redis.Redis:
    """A client for REDIS_URL, or an embedded in-process Redis when there is none."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True)
    import fakeredis

    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)


@unreachable((redis.ConnectionError, redis.TimeoutError), StoreUnavailable, "Redis")
class RedisStore(Lines):
    # App Home viewers kept; the least recent are dropped beyond it (views.publish is Slack's
    # Tier 4, 100+ a minute: one refresh of every viewer stays within it)
    VIEWERS_MAX = 100

    def __init__(self, client: redis.Redis, prefix: str = "promotebot:"):
        self._r = client
        self._p = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)
        self._pace = client.register_script(_PACE)
        self._register_lines(client)

    def _k(self, *parts: object) -> str:
        return self._p + ":".join(str(p) for p in parts)

    def ping(self) -> bool:
        return bool(self._r.ping())

    # -- records ---------------------------------------------------------------------------

    def next_id(self) -> int:
        return int(self._r.incr(self._k("seq")))

    def get(self, promotion_id: int) -> Promotion | None:
        data = self._r.hget(self._k("promotion", promotion_id), "data")
        return codec.load(Promotion, json.loads(data)) if data else None

    def live(self, app: str, env: str) -> Promotion | None:
        pid = self._r.get(self._k("live", app, env))
        return _still_live(self.get(int(pid)) if pid else None)

    def live_all(self) -> list[Promotion]:
        ids = sorted(int(i) for i in self._r.smembers(self._k("live")))
        return [p for p in self._get_many(ids) if p.live]

    def history(self, app: str, env: str, limit: int = 20) -> list[Promotion]:
        ids = self._r.zrevrange(self._k("history", app, env), 0, limit - 1)
        # Without withscores the reply is members only; redis types the scored shapes too.
        return self._get_many([int(i) for i in ids if isinstance(i, bytes | str)])

    def finished(self, app: str, env: str, since: datetime, until: datetime,
                 limit: int = 5000) -> list[Promotion]:
        """The env's deployed and failed records that finished within [since, until], newest
        first, at most `limit` of them."""
        ids = self._r.zrevrangebyscore(self._k("outcomes", app, env), until.timestamp(),
                                       since.timestamp(), start=0, num=limit)
        return self._get_many([int(i) for i in ids if isinstance(i, bytes | str)])

    def _get_many(self, ids: list[int]) -> list[Promotion]:
        """The records of `ids` that exist, in that order, in one round trip for them all
        (a tick and every webhook read every live record: one by one, that was a round trip
        per record)."""
        with self._r.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hget(self._k("promotion", i), "data")
            found = pipe.execute()
        return [codec.load(Promotion, json.loads(data)) for data in found if data]

    def create(self, promotion: Promotion, event: Event) -> Promotion:
        """Store a new live record; ConcurrentUpdate if its env already has a live one."""
        record = promotion.replace(version=1)
        live_key = self._k("live", record.app, record.env)
        with self._r.pipeline() as pipe:
            try:
                pipe.watch(live_key)  # type: ignore[no-untyped-call]  # unannotated in redis
                if pipe.exists(live_key):
                    raise ConcurrentUpdate(f"{record.app}/{record.env} already has a live record")
                pipe.multi()
                self._write(pipe, record)
                pipe.set(live_key, record.id)
                pipe.sadd(self._k("live"), record.id)
                pipe.zadd(
                    self._k("history", record.app, record.env),
                    {str(record.id): record.requested_at.timestamp()},
                )
                self._audit(pipe, event)
                pipe.execute()
            except redis.WatchError as exc:
                raise ConcurrentUpdate(f"{record.app}/{record.env} was claimed meanwhile") from exc
        return record

    def transition(
        self,
        current: Promotion,
        event: Event,
        state: State | None = None,
        fence: Fence | None = None,
        **changes: Any,
    ) -> Promotion:
        """Compare-and-set: apply `changes` (and the state change) only if the stored record is
        still at `current.version` (and, with a fence, the lock is still that fence's).
        Exactly one of several racing writers wins; the others get ConcurrentUpdate."""
        target = state or current.state
        if state is not None and state != current.state:
            check_transition(current.kind, current.state, state,
                             merged=current.merge_sha is not None)
        updated = current.replace(state=target, version=current.version + 1, **changes)
        key = self._k("promotion", current.id)
        lock_key = self._k("lock", current.app, current.env)
        with self._r.pipeline() as pipe:
            try:
                # Pipeline.watch is unannotated in redis.
                pipe.watch(key, *([lock_key] if fence else []))  # type: ignore[no-untyped-call]
                reply = pipe.hget(key, "version")
                stored = None if reply is None else _text(reply)
                if stored is None or int(stored) != current.version:
                    raise ConcurrentUpdate(
                        f"promotion {current.id} moved on (version {stored}, "
                        f"expected {current.version})"
                    )
                if fence is not None and pipe.get(lock_key) != fence.value:
                    raise StaleFence(
                        f"lock on {current.app}/{current.env} is no longer {fence.value}"
                    )
                pipe.multi()
                self._write(pipe, updated)
                if not target.live:
                    pipe.srem(self._k("live"), current.id)
                if target in OUTCOMES and updated.finished_at is not None:
                    pipe.zadd(self._k("outcomes", current.app, current.env),
                              {str(current.id): updated.finished_at.timestamp()})
                self._audit(pipe, event)
                pipe.execute()
            except redis.WatchError as exc:
                raise ConcurrentUpdate(f"promotion {current.id} changed meanwhile") from exc
        if not target.live:
            # Free the env's slot only if it still points at this record.
            self._release(keys=[self._k("live", current.app, current.env)], args=[str(current.id)])
        return updated

    def _write(self, pipe: Pipeline, record: Promotion) -> None:
        pipe.hset(
            self._k("promotion", record.id),
            mapping={"version": record.version, "data": json.dumps(codec.dump(record))},
        )

    def notice(self, promotion_id: int) -> str | None:
        value = self._r.get(self._k("notice", promotion_id))
        return str(value) if value is not None else None

    def set_notice(self, promotion_id: int, ref: str) -> None:
        self._r.set(self._k("notice", promotion_id), ref)

    def mark_aftercare(self, promotion_id: int) -> None:
        self._r.sadd(self._k("aftercare"), promotion_id)

    def clear_aftercare(self, promotion_id: int) -> None:
        self._r.srem(self._k("aftercare"), promotion_id)

    def aftercare_due(self) -> list[int]:
        return sorted(int(i) for i in self._r.smembers(self._k("aftercare")))

    def mark_notice_due(self, promotion_id: int) -> None:
        self._r.sadd(self._k("notices"), promotion_id)

    def clear_notice_due(self, promotion_id: int) -> None:
        self._r.srem(self._k("notices"), promotion_id)

    def notices_due(self) -> list[int]:
        return sorted(int(i) for i in self._r.smembers(self._k("notices")))

    # -- locks -----------------------------------------------------------------------------

    def acquire(self, app: str, env: str, owner: str, ttl_ms: int) -> Fence | None:
        token = self._acquire(
            keys=[self._k("lock", app, env), self._k("fence", app, env)], args=[owner, ttl_ms]
        )
        return Fence(app, env, owner, int(token)) if token else None

    def release(self, fence: Fence) -> bool:
        return bool(self._release(keys=[self._k("lock", fence.app, fence.env)], args=[fence.value]))

    def extend(self, fence: Fence, ttl_ms: int) -> bool:
        return bool(
            self._extend(keys=[self._k("lock", fence.app, fence.env)], args=[fence.value, ttl_ms])
        )

    def claim_key(self, key: str, owner: str, ttl_ms: int) -> bool:
        """A short lock of no env (no fencing token): True when `owner` holds `key` now."""
        return bool(self._r.set(self._k("claim", key), owner, nx=True, px=ttl_ms))

    def unclaim_key(self, key: str, owner: str) -> bool:
        return bool(self._release(keys=[self._k("claim", key)], args=[owner]))

    def pace(self, key: str, interval_ms: int) -> int:
        """Milliseconds to wait before the call paced by `key` may go (0: go now, and the next
        one waits `interval_ms`), by Redis's own clock, so every replica shares one pace."""
        return int(self._pace(keys=[self._k("pace", key)], args=[interval_ms]))

    def check_fence(self, fence: Fence) -> None:
        if self._r.get(self._k("lock", fence.app, fence.env)) != fence.value:
            raise StaleFence(f"lock on {fence.app}/{fence.env} is no longer {fence.value}")

    # -- idempotency -----------------------------------------------------------------------

    def remember(self, key: str, value: str, ttl_seconds: int) -> None:
        self._r.set(self._k("fact", key), value, ex=ttl_seconds)

    def recall(self, key: str) -> str | None:
        value = self._r.get(self._k("fact", key))
        return str(value) if value is not None else None

    def claim_once(self, key: str, ttl_seconds: int = 3600) -> bool:
        """True the first time `key` is claimed within its ttl, False on every repeat."""
        return bool(self._r.set(self._k("once", key), "1", nx=True, ex=ttl_seconds))

    # -- audit -----------------------------------------------------------------------------

    def append_event(self, event: Event) -> None:
        with self._r.pipeline() as pipe:
            self._audit(pipe, event)
            pipe.execute()

    def _audit(self, pipe: Pipeline, event: Event) -> None:
        fields = _encodable(codec.dump_event(event))
        pipe.xadd(self._k("audit"), fields)
        if event.promotion_id is not None:
            pipe.xadd(self._k("audit", event.promotion_id), fields)

    def events(self, promotion_id: int | None = None, count: int = 1000) -> list[Event]:
        key = self._k("audit") if promotion_id is None else self._k("audit", promotion_id)
        entries = self._r.xrange(key, count=count) or []
        return [codec.load_event(_fields(f)) for _, f in entries]

    # -- freezes and holds -----------------------------------------------------------------

    def set_block(self, block: Block, event: Event) -> None:
        with self._r.pipeline() as pipe:
            pipe.set(self._k("block", block.kind, block.app, block.env),
                     json.dumps(codec.dump(block)))
            self._audit(pipe, event)
            pipe.execute()

    def swap_block(self, block: Block, event: Event, expected: Block | None) -> bool:
        key = self._k("block", block.kind, block.app, block.env)
        return self._block_cas(key, expected, json.dumps(codec.dump(block)), event)

    def clear_block(self, kind: BlockKind, app: str, env: str, event: Event,
                    expected: Block | None = None) -> bool:
        key = self._k("block", kind, app, env)
        if expected is not None:
            return self._block_cas(key, expected, None, event)
        with self._r.pipeline() as pipe:
            pipe.watch(key)  # type: ignore[no-untyped-call]  # unannotated in redis
            if not pipe.exists(key):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(key)
            self._audit(pipe, event)
            try:
                pipe.execute()
            except redis.WatchError:
                return False
        return True

    def _block_cas(self, key: str, expected: Block | None, new: str | None,
                   event: Event) -> bool:
        """Write `new` (None: delete) at `key` with the event, if the block there is still
        `expected` (compared as data, not as text)."""
        want = None if expected is None else json.loads(json.dumps(codec.dump(expected)))
        with self._r.pipeline() as pipe:
            try:
                pipe.watch(key)  # type: ignore[no-untyped-call]  # unannotated in redis
                reply = pipe.get(key)
                stored = None if reply is None else json.loads(_text(reply))
                if stored != want:
                    pipe.unwatch()
                    return False
                pipe.multi()
                if new is None:
                    pipe.delete(key)
                else:
                    pipe.set(key, new)
                self._audit(pipe, event)
                pipe.execute()
            except redis.WatchError:
                return False
        return True

    def _block_keys(self, app: str, env: str) -> list[str]:
        keys = [self._k("block", kind, app, env) for kind in BlockKind]
        if ALL not in (app, env):
            keys += [self._k("block", BlockKind.FREEZE, app, ALL),
                     self._k("block", BlockKind.FREEZE, ALL, ALL)]
        elif env == ALL and app != ALL:
            keys.append(self._k("block", BlockKind.FREEZE, ALL, ALL))
        return keys

    def blocks(self, app: str, env: str) -> list[Block]:
        """The env's own freeze and hold, then a freeze of its app and one of every app."""
        return _blocks(self._r.mget(self._block_keys(app, env)))

    def env_records(self, app: str, envs: list[str]) -> list[EnvRecords]:
        """Each env's live record, blocks and queue in one transaction (one round trip), then
        the live records' data in a second."""
        with self._r.pipeline(transaction=True) as pipe:
            for env in envs:
                zset, entries, _ = self._queue_keys(app, env)
                pipe.get(self._k("live", app, env))
                pipe.mget(self._block_keys(app, env))
                pipe.zrange(zset, 0, -1, withscores=True)
                pipe.hgetall(entries)
            replies = pipe.execute()
        per_env = [replies[i:i + 4] for i in range(0, len(replies), 4)]
        ids = [int(pid) for pid, *_ in per_env if pid]
        records = {record.id: record for record in self._get_many(ids)} if ids else {}
        return [EnvRecords(live=_still_live(records.get(int(pid)) if pid else None),
                           blocks=tuple(_blocks(blocks)),
                           queue=tuple(self._entries(ranked, stored)))
                for pid, blocks, ranked, stored in per_env]

    # -- App Home viewers ------------------------------------------------------------------

    def add_viewer(self, user: str, at: datetime) -> None:
        """Remember that `user` looked at App Home at `at` (bounded: the oldest are dropped)."""
        key = self._k("home", "seen")
        with self._r.pipeline() as pipe:
            pipe.zadd(key, {user: at.timestamp()})
            pipe.zremrangebyrank(key, 0, -self.VIEWERS_MAX - 1)
            pipe.execute()

    def viewers(self, since: datetime | None = None) -> list[str]:
        """Viewers who opened App Home since `since` (None: every one kept)."""
        key = self._k("home", "seen")
        low: float | str = "-inf" if since is None else since.timestamp()
        members = self._r.zrangebyscore(key, low, "+inf")
        return sorted(str(m) for m in members)

    def forget_viewers(self, before: datetime) -> int:
        """Drop the viewers who have not opened App Home since `before`; how many."""
        key = self._k("home", "seen")
        return int(self._r.zremrangebyscore(key, "-inf", f"({before.timestamp()}"))
