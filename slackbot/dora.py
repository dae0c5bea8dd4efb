"""DORA delivery figures of one app's env over a period, computed from its finished records.

Pure: records in, frozen figures out; no I/O, no clock (`now` is given), no prose. What each
figure counts, precisely, is in docs/workflow.md ("Delivery figures"); in short: a deploy is a
promotion or a hotfix that deployed; a change failed when it failed after its merge, or when a
rollback (not an undo of one) or a hotfix of the env was asked for within `failure_window`
after it; time to restore runs from a failure (a failed merged change, a rollback or hotfix
asked for) to the env's next healthy deploy. Every time is read in UTC.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slackbot.models import Kind, Promotion, State

WINDOWS = (7, 30, 90)  # days
FAILURE_WINDOW = timedelta(hours=24)  # a rollback or hotfix this soon after a deploy blames it
CHANGES = frozenset({Kind.PROMOTION, Kind.HOTFIX})  # what deploys a change (a rollback undoes)
REMEDIES = frozenset({Kind.ROLLBACK, Kind.HOTFIX})
DROPPED = frozenset({State.REJECTED, State.CANCELLED, State.EXPIRED})  # never reached the env


@dataclass(frozen=True)
class Figures:
    """The four figures of one (app, env) over the `days` up to `until`."""

    app: str
    env: str
    days: int
    until: datetime
    deploys: int  # promotions and hotfixes deployed
    changes: int  # deploys, and changes that failed after their merge
    failed_changes: int
    lead_time: timedelta | None  # median, first commit to deployed; None: none known
    lead_times_known: int  # deploys whose first commit's time is on the record
    restore_time: timedelta | None  # median, failure to the next healthy deploy
    restored: int
    unrestored: int  # failures with no healthy deploy since

    @property
    def per_day(self) -> float:
        return self.deploys / self.days

    @property
    def per_week(self) -> float:
        return self.deploys * 7 / self.days

    @property
    def failure_rate(self) -> float | None:
        return self.failed_changes / self.changes if self.changes else None


def utc(at: datetime) -> datetime:
    """`at` in UTC (a time with no zone is taken as UTC already)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def deployed_at(record: Promotion) -> datetime | None:
    """When a deployed record was deployed (a recovered one: when it recovered)."""
    if record.state is not State.DEPLOYED:
        return None
    at = record.recovered_at or record.finished_at or record.updated_at
    return utc(at) if at is not None else None


def failed_after_merge(record: Promotion) -> bool:
    """Its change reached the env and failed there (recovered later or not)."""
    return record.merged and record.failure is not None and record.state in (
        State.FAILED, State.DEPLOYED)


def _remedy(record: Promotion) -> bool:
    """A rollback or hotfix: something was wrong (not `/rollback undo`, which re-applies)."""
    return record.kind in REMEDIES and (record.rollback is None or record.rollback.undoes is None)


def _failed_at(record: Promotion) -> datetime:
    """When a failed merged change took effect: its merge (else its end)."""
    return utc(record.merged_at or record.finished_at or record.requested_at)


def _change_at(record: Promotion) -> datetime | None:
    """When a change reached the env: deployed, or merged and failed; None otherwise."""
    if record.kind not in CHANGES:
        return None
    deployed = deployed_at(record)
    if deployed is not None:
        return deployed
    return _failed_at(record) if failed_after_merge(record) else None


def report(records: Iterable[Promotion], envs: Iterable[tuple[str, str]], now: datetime,
           windows: Sequence[int] = WINDOWS,
           failure_window: timedelta = FAILURE_WINDOW) -> tuple[Figures, ...]:
    """The figures of every (app, env) in `envs`, for every window, in that order."""
    by_env: dict[tuple[str, str], list[Promotion]] = {}
    for record in records:
        by_env.setdefault((record.app, record.env), []).append(record)
    return tuple(figures(by_env.get((app, env), ()), app, env, now, days, failure_window)
                 for app, env in envs for days in windows)


def figures(records: Iterable[Promotion], app: str, env: str, now: datetime, days: int,
            failure_window: timedelta = FAILURE_WINDOW) -> Figures:
    """The figures of (app, env) over [now - days, now], both ends included. Records of other
    envs, or dropped before reaching the env (rejected, cancelled, expired), count nothing."""
    now = utc(now)
    start = now - timedelta(days=days)
    mine = [r for r in records if r.app == app and r.env == env and r.state not in DROPPED]
    changes: list[tuple[datetime, Promotion]] = sorted(
        ((out, r) for r in mine if (out := _change_at(r)) is not None),
        key=lambda pair: (pair[0], pair[1].id))
    remedies = sorted(asked for r in mine if _remedy(r)
                      and (asked := utc(r.requested_at)) <= now)

    failed: set[int] = {r.id for _, r in changes if failed_after_merge(r)}
    times = [at for at, _ in changes]
    for asked in remedies:  # blames the last change out before it, if that recent
        last = bisect.bisect_left(times, asked) - 1
        if last >= 0 and asked - times[last] <= failure_window:
            failed.add(changes[last][1].id)

    inside = [(at, r) for at, r in changes if start <= at <= now]
    deploys = [(at, r) for at, r in inside if r.state is State.DEPLOYED]
    leads = [(at - utc(r.first_commit_at)).total_seconds() for at, r in deploys
             if r.first_commit_at is not None]
    restores, unrestored = _restores(mine, start, now)
    return Figures(
        app=app, env=env, days=days, until=now,
        deploys=len(deploys), changes=len(inside),
        failed_changes=sum(1 for _, r in inside if r.id in failed),
        lead_time=_median(max(s, 0.0) for s in leads), lead_times_known=len(leads),
        restore_time=_median(restores), restored=len(restores), unrestored=unrestored)


def _restores(mine: list[Promotion], start: datetime, now: datetime) -> tuple[list[float], int]:
    """Seconds from each failure starting in the period to the env's next healthy deploy
    (failures while one is open join it), and how many have no healthy deploy yet."""
    signals = [_failed_at(r) for r in mine if r.kind in CHANGES and failed_after_merge(r)]
    signals += [utc(r.requested_at) for r in mine if _remedy(r)]
    healthy = [at for r in mine if (at := deployed_at(r)) is not None]
    # at one instant, a failure is taken before a deploy: that deploy restores it
    timeline = sorted([(at, 0) for at in signals if at <= now]
                      + [(at, 1) for at in healthy if at <= now])
    opened: datetime | None = None
    restored: list[float] = []
    unrestored = 0
    for at, deploy in timeline:
        if not deploy and opened is None:
            opened = at
        elif deploy and opened is not None:
            if start <= opened <= now:
                restored.append((at - opened).total_seconds())
            opened = None
    if opened is not None and start <= opened <= now:
        unrestored = 1
    return restored, unrestored


def _median(seconds: Iterable[float]) -> timedelta | None:
    values = list(seconds)
    return timedelta(seconds=statistics.median(values)) if values else None
