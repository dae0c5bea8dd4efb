"""The DORA figures (slackbot/dora.py) on constructed histories: no deploys, one deploy,
failures blamed within the window and not beyond it, restores with and without a later
healthy deploy, the windows' edges, and times given in other zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import count

from slackbot import dora
from slackbot.dora import Figures
from slackbot.models import Kind, Promotion, State
from slackbot.reasons import Code, Next, Reason

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
_ids = count(1)


def rec(kind: Kind = Kind.PROMOTION, state: State = State.DEPLOYED, *, done: datetime,
        asked: datetime | None = None, merged: datetime | None = None,
        first_commit: datetime | None = None, failed: bool = False, env: str = "prod",
        recovered: datetime | None = None) -> Promotion:
    asked = asked or done - HOUR
    merged = merged or (done - timedelta(minutes=10) if state is not State.CANCELLED else None)
    return Promotion(
        id=next(_ids), kind=kind, app="myapp", env=env, source_branch="staging",
        target_branch=env, requested_by="U1", requested_at=asked, state=state,
        merge_sha="b" * 40 if merged else None, merged_at=merged, finished_at=done,
        first_commit_at=first_commit, recovered_at=recovered,
        failure=Reason(Code.TIMED_OUT, Next.ROLLBACK, env=env) if failed else None)


def fig(records: list[Promotion], days: int = 7, now: datetime = NOW,
        window: timedelta = dora.FAILURE_WINDOW) -> Figures:
    return dora.figures(records, "myapp", "prod", now, days, window)


def test_no_records_gives_zeros_and_unknowns() -> None:
    f = fig([])
    assert (f.deploys, f.changes, f.failed_changes, f.restored, f.unrestored) == (0, 0, 0, 0, 0)
    assert f.failure_rate is None and f.lead_time is None and f.restore_time is None
    assert f.per_day == 0.0


def test_one_deploy_counts_its_frequency_and_lead_time() -> None:
    done = NOW - timedelta(days=2)
    f = fig([rec(done=done, first_commit=done - 5 * HOUR)])
    assert f.deploys == 1 and f.changes == 1 and f.failed_changes == 0
    assert f.failure_rate == 0.0
    assert f.per_day == 1 / 7 and f.per_week == 1.0
    assert f.lead_time == 5 * HOUR and f.lead_times_known == 1


def test_lead_time_is_the_median_and_skips_unknown_first_commits() -> None:
    records = [rec(done=NOW - timedelta(days=d), first_commit=NOW - timedelta(days=d) - h * HOUR)
               for d, h in ((1, 1), (2, 3), (3, 10))]
    records.append(rec(done=NOW - timedelta(days=4)))  # adopted pull request: no first commit
    f = fig(records)
    assert f.deploys == 4 and f.lead_times_known == 3 and f.lead_time == 3 * HOUR


def test_a_rollback_within_the_window_blames_the_last_deploy_only() -> None:
    first = rec(done=NOW - 50 * HOUR)
    second = rec(done=NOW - 30 * HOUR)
    rollback = rec(Kind.ROLLBACK, done=NOW - 9 * HOUR, asked=NOW - 10 * HOUR)
    f = fig([first, second, rollback])
    assert f.deploys == 2 and f.changes == 2  # a rollback is no deploy of a change
    assert f.failed_changes == 1 and f.failure_rate == 0.5
    # restored: from the rollback asked for to its own deploy
    assert f.restored == 1 and f.restore_time == HOUR and f.unrestored == 0


def test_a_rollback_beyond_the_window_blames_nothing() -> None:
    deploy = rec(done=NOW - 40 * HOUR)
    rollback = rec(Kind.ROLLBACK, done=NOW - 9 * HOUR, asked=NOW - 10 * HOUR)
    assert fig([deploy, rollback]).failed_changes == 0
    assert fig([deploy, rollback], window=timedelta(hours=36)).failed_changes == 1


def test_a_hotfix_blames_the_deploy_before_it_and_is_itself_a_deploy() -> None:
    deploy = rec(done=NOW - 5 * HOUR)
    hotfix = rec(Kind.HOTFIX, done=NOW - HOUR, asked=NOW - 3 * HOUR)
    f = fig([deploy, hotfix])
    assert f.deploys == 2 and f.failed_changes == 1
    assert f.restore_time == 2 * HOUR


def test_a_failed_deploy_counts_as_a_failed_change_restored_by_the_next_deploy() -> None:
    failed = rec(state=State.FAILED, failed=True, done=NOW - 20 * HOUR, merged=NOW - 21 * HOUR)
    fixed = rec(done=NOW - 17 * HOUR)
    f = fig([failed, fixed])
    assert f.deploys == 1 and f.changes == 2 and f.failed_changes == 1
    assert f.restore_time == 4 * HOUR  # from the failing merge to the next healthy deploy


def test_a_failure_before_the_merge_is_no_change() -> None:
    never = rec(state=State.FAILED, failed=True, done=NOW - 20 * HOUR)
    never = never.replace(merge_sha=None, merged_at=None)
    cancelled = rec(state=State.CANCELLED, done=NOW - 10 * HOUR)
    f = fig([never, cancelled])
    assert (f.changes, f.failed_changes, f.restored, f.unrestored) == (0, 0, 0, 0)


def test_a_recovered_deploy_is_a_deploy_a_failure_and_its_own_restore() -> None:
    merged = NOW - 6 * HOUR
    recovered = rec(failed=True, done=NOW - 2 * HOUR, merged=merged, recovered=NOW - 2 * HOUR)
    f = fig([recovered])
    assert f.deploys == 1 and f.failed_changes == 1 and f.restore_time == 4 * HOUR


def test_a_rollback_with_no_later_healthy_deploy_is_unrestored() -> None:
    deploy = rec(done=NOW - 5 * HOUR)
    live = rec(Kind.ROLLBACK, State.RECONCILING, done=NOW, asked=NOW - HOUR).replace(
        finished_at=None)
    failed = rec(Kind.ROLLBACK, State.FAILED, failed=True, done=NOW - 30 * HOUR,
                 asked=NOW - 31 * HOUR)
    f = fig([deploy, live])
    assert f.failed_changes == 1 and f.unrestored == 1 and f.restored == 0
    assert f.restore_time is None
    g = fig([failed])  # a rollback that failed, nothing deployed since
    assert g.unrestored == 1 and g.restored == 0


def test_failures_while_one_is_open_join_it() -> None:
    failed = rec(state=State.FAILED, failed=True, done=NOW - 9 * HOUR, merged=NOW - 10 * HOUR)
    rollback = rec(Kind.ROLLBACK, done=NOW - 6 * HOUR, asked=NOW - 8 * HOUR)
    f = fig([failed, rollback])
    assert f.restored == 1 and f.restore_time == 4 * HOUR


def test_the_window_includes_both_edges_and_nothing_outside() -> None:
    at_start = rec(done=NOW - timedelta(days=7))
    at_end = rec(done=NOW)
    before = rec(done=NOW - timedelta(days=7, seconds=1))
    after = rec(done=NOW + timedelta(seconds=1))
    f = fig([at_start, at_end, before, after])
    assert f.deploys == 2
    assert fig([at_start, at_end, before, after], days=30).deploys == 3


def test_a_rollback_after_now_is_not_seen() -> None:
    deploy = rec(done=NOW - HOUR)
    later = rec(Kind.ROLLBACK, done=NOW + 2 * HOUR, asked=NOW + HOUR)
    f = fig([deploy, later])
    assert f.failed_changes == 0 and f.unrestored == 0 and f.restored == 0


def test_times_in_other_zones_are_read_in_utc() -> None:
    plus5 = timezone(timedelta(hours=5))
    done = (NOW - timedelta(days=7)).astimezone(plus5)  # the start edge, written at +05:00
    naive = (NOW - 2 * HOUR).replace(tzinfo=None)  # no zone: taken as UTC
    f = fig([rec(done=done, first_commit=done - HOUR),
             rec(done=naive, first_commit=naive - 3 * HOUR)], now=NOW.astimezone(plus5))
    assert f.deploys == 2 and f.lead_time == 2 * HOUR and f.until == NOW


def test_report_covers_every_env_and_window_and_separates_envs() -> None:
    staging = rec(done=NOW - HOUR, env="staging")
    prod = rec(done=NOW - 10 * timedelta(days=1))
    rows = dora.report([staging, prod], [("myapp", "staging"), ("myapp", "prod")], NOW)
    assert [(r.env, r.days, r.deploys) for r in rows] == [
        ("staging", 7, 1), ("staging", 30, 1), ("staging", 90, 1),
        ("prod", 7, 0), ("prod", 30, 1), ("prod", 90, 1)]


def test_an_undo_of_a_rollback_is_no_failure() -> None:
    from slackbot.models import RevertMode, RollbackSpec

    deploy = rec(done=NOW - 5 * HOUR)
    undo = rec(Kind.ROLLBACK, done=NOW - HOUR, asked=NOW - 2 * HOUR).replace(
        rollback=RollbackSpec(RevertMode.DIRECT, "c" * 40, "x", "b" * 40, undoes=4))
    f = fig([deploy, undo])
    assert (f.failed_changes, f.restored, f.unrestored) == (0, 0, 0)
