"""What the schema cannot say: durations, day ranges, times and time zones parsed; the rules that
tie keys together (a window's start before its end, env names unique; the access policy's
rules in slackbot/config/access.py). Each problem carries its key path.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from slackbot.config.access import check_access, has_people
from slackbot.config.reading import Report, describe
from slackbot.config.schema import (
    DATE_PATTERN,
    DAY_PATTERN,
    DEFAULT_EXPIRE_AFTER,
    DEFAULT_FLUX_NAMESPACE,
    DEFAULT_TIMEZONE,
    DURATION_PART,
    DURATION_PATTERN,
    TIME_PATTERN,
    UNIT_MICROSECONDS,
    KeyPath,
)
from slackbot.pipeline import (
    WEEKDAYS,
)
from slackbot.policy import STAKEHOLDER

# --------------------------------------------------------------------------- meaning


def parse_duration(text: str) -> timedelta:
    """A Flux duration (`1m`, `1h30m`, `500ms`, `1.5s`) as a timedelta; ValueError if not one."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"not a duration: {text!r}")
    micro = sum(
        Decimal(number) * UNIT_MICROSECONDS[unit] for number, unit in DURATION_PART.findall(text)
    )
    return timedelta(microseconds=int(micro))


def format_duration(value: timedelta) -> str:
    """The shortest Flux duration for `value` (`90s` -> `1m30s`); parse_duration inverts it."""
    micro = value // timedelta(microseconds=1)
    if micro < 0:
        raise ValueError("negative duration")
    hours, micro = divmod(micro, UNIT_MICROSECONDS["h"])
    minutes, micro = divmod(micro, UNIT_MICROSECONDS["m"])
    seconds, micro = divmod(micro, UNIT_MICROSECONDS["s"])
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    if micro:
        millis, rest = divmod(micro, 1000)
        parts.append(f"{millis}.{rest:03d}".rstrip("0").rstrip(".") + "ms")
    return "".join(parts) or "0s"


def parse_days(spec: str | Sequence[str]) -> tuple[str, ...]:
    """`[mon-fri, sun]` or `"mon-fri"` as days in week order; a range may wrap (fri-mon)."""
    items = [spec] if isinstance(spec, str) else list(spec)
    chosen: set[str] = set()
    for item in items:
        if not re.fullmatch(DAY_PATTERN, item):
            raise ValueError(f"not a day: {item!r}")
        first, _, last = item.partition("-")
        start, stop = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        for step in range((stop - start) % 7 + 1):
            chosen.add(WEEKDAYS[(start + step) % 7])
    return tuple(day for day in WEEKDAYS if day in chosen)


def format_days(days: Sequence[str]) -> list[str]:
    """Days back as a short list: runs of three or more become ranges (mon-fri)."""
    indexes = sorted(WEEKDAYS.index(day) for day in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    out: list[str] = []
    for run in runs:
        if len(run) >= 3:
            out.append(f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}")
        else:
            out.extend(WEEKDAYS[i] for i in run)
    return out


def parse_time(text: str) -> time:
    if text == "24:00":
        return time(0, 0)  # midnight: the end of the day, as ChangeWindow documents
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def parse_moment(text: str, zone: str = DEFAULT_TIMEZONE) -> datetime:
    """A freeze's `2026-12-20` (its midnight) or `2026-12-20 18:00`, in `zone`, as UTC;
    ValueError if it is no such date."""
    if not re.fullmatch(DATE_PATTERN, text):
        raise ValueError(f"not a date: {text!r}")
    local = datetime.fromisoformat(text.replace(" ", "T"))
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f"expected an IANA time zone like Europe/London, got {describe(name)}{hint}"


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def check_meaning(data: Any, report: Report) -> None:
    """The checks a schema cannot say; each looks only at values of the right type."""
    if isinstance(data, dict):
        _check_freezes(data.get("freezes"), ("freezes",), report)
    apps = data.get("apps") if isinstance(data, dict) else None
    clusters = data.get("clusters") if isinstance(data, dict) else None
    clusters = clusters if isinstance(clusters, dict) else {}
    _check_clusters(clusters, report)
    if not isinstance(apps, dict):
        return
    for app_name, app in apps.items():
        if isinstance(app, dict):
            _check_app(app_name, app, report)
            _check_freezes(app.get("freezes"), ("apps", app_name, "freezes"), report)
            _check_env_clusters(app_name, app, set(clusters), report)


def _check_clusters(clusters: dict[str, Any], report: Report) -> None:
    for name, spec in clusters.items():
        if not isinstance(spec, dict):
            continue
        path: KeyPath = ("clusters", name)
        if ("apiUrl" in spec) == ("context" in spec):
            report.add(path, "needs exactly one of apiUrl (with tokenFile, caFile) or context")
        for key in ("tokenFile", "caFile"):
            if key in spec and "apiUrl" not in spec:
                report.add((*path, key), "goes with apiUrl (a context carries its own)")


def _check_env_clusters(app_name: str, app: dict[str, Any], known: set[str],
                        report: Report) -> None:
    for index, env in _items(app.get("environments")):
        cluster = env.get("cluster")
        if isinstance(cluster, str) and cluster not in known:
            choices = ", ".join(sorted(known)) or "none is defined"
            report.add(("apps", app_name, "environments", index, "cluster"),
                       f"names no cluster under clusters: (known: {choices})")


def _check_app(app_name: str, app: dict[str, Any], report: Report) -> None:
    check_access(app_name, app, report)
    pattern = app.get("ticketPattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            report.add(("apps", app_name, "ticketPattern"),
                       f"is not a regular expression ({exc}); write one like '[A-Z]+-[0-9]+'")
    has_stakeholders = has_people(app, STAKEHOLDER)
    seen: dict[str, dict[str, int]] = {"name": {}, "branch": {}, "kustomization": {}}
    for index, env in _items(app.get("environments")):
        path: KeyPath = ("apps", app_name, "environments", index)
        name = env.get("name")
        if not isinstance(name, str):
            continue
        kustomization = env.get("kustomization")
        kustomization = kustomization if isinstance(kustomization, dict) else {}
        effective = {
            "name": name,
            "branch": env.get("branch", name),
            "kustomization": "{}/{}".format(
                kustomization.get("namespace", DEFAULT_FLUX_NAMESPACE),
                kustomization.get("name", f"{app_name}-{name}"),
            ),
        }
        name_taken = seen["name"].get(name, index) != index
        for key, value in effective.items():
            if not isinstance(value, str) or (key != "name" and name_taken):
                continue  # a duplicate name is one mistake, not three
            if value in seen[key]:
                report.add(
                    (*path, key),
                    f"{key} {json.dumps(value)} is already used by "
                    f"environments[{seen[key][value]}]; each environment needs its own",
                )
            else:
                seen[key][value] = index
        for key in ("interval", "timeout"):
            value = env.get(key)
            if (
                isinstance(value, str)
                and re.fullmatch(DURATION_PATTERN, value)
                and parse_duration(value) <= timedelta(0)
            ):
                report.add(
                    (*path, key), f"expected a positive duration like 5m, got {describe(value)}"
                )
        gates = env.get("gates")
        if isinstance(gates, dict):
            _check_gates(gates, (*path, "gates"), has_stakeholders, report)
        waiting = env.get("waiting")
        if isinstance(waiting, dict):
            _check_waiting(waiting, (*path, "waiting"), report)
        _check_freezes(env.get("freezes"), (*path, "freezes"), report)


def _check_gates(
    gates: dict[str, Any], path: KeyPath, has_stakeholders: bool, report: Report
) -> None:
    approvals = gates.get("stakeholderApprovals")
    approvers = gates.get("approvers")
    if isinstance(approvers, dict):
        _check_approvers(approvers, approvals, (*path, "approvers"), has_stakeholders, report)
    for number, window in _items(gates.get("changeWindows")):
        _check_window(window, (*path, "changeWindows", number), report)


def _check_window(window: dict[str, Any], path: KeyPath, report: Report) -> None:
    zone = window.get("timezone")
    if isinstance(zone, str):
        problem = _zone_problem(zone)
        if problem:
            report.add((*path, "timezone"), problem)
    start, end = window.get("start"), window.get("end")
    if (
        isinstance(start, str)
        and re.fullmatch(TIME_PATTERN, start)
        and isinstance(end, str)
        and re.fullmatch(rf"{TIME_PATTERN}|24:00", end)
        and _minutes(start) >= _minutes(end)
    ):
        report.add(
            path,
            f"start {start} must be before end {end} (a window cannot cross "
            "midnight: use two windows, and 24:00 for the end of a day)",
        )


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_approvers(approvers: dict[str, Any], approvals: Any, path: KeyPath,
                     has_stakeholders: bool, report: Report) -> None:
    """The long form of who approves: a quorum that can be met, and said once."""
    quorum, short = _whole(approvers.get("quorum")), _whole(approvals)
    at_least = approvers.get("atLeast")
    counts = ([n for n in at_least.values() if _whole(n) is not None]
              if isinstance(at_least, dict) else [])
    if quorum is not None and quorum < 1:
        quorum = None  # the schema says so already
    if quorum is not None and short is not None and short != quorum:
        report.add((*path, "quorum"),
                   f"quorum {quorum} and stakeholderApprovals {short} disagree: say the number "
                   "once (quorum replaces stakeholderApprovals)")
    if quorum is not None and sum(counts) > quorum:
        report.add((*path, "quorum"),
                   f"quorum {quorum} is below the {sum(counts)} approvals atLeast asks for: "
                   f"raise it to {sum(counts)} or more, or leave it out")
    groups, users = approvers.get("groups"), approvers.get("users")
    has_groups = bool(groups) or bool(at_least) or (groups is None and has_stakeholders)
    named = len(users) if isinstance(users, list) else 0
    need = quorum if quorum is not None else (short if short is not None else max(1, sum(counts)))
    if not has_groups and named == 0:
        report.add(path, "names nobody who may approve: give groups, users or atLeast (or "
                         "groups.stakeholders on the app)")
    elif not has_groups and named < need:
        report.add((*path, "users"),
                   f"{named} named approver(s) cannot give the {need} approvals asked for: "
                   "name more, add groups, or lower the quorum")


def _check_waiting(waiting: dict[str, Any], path: KeyPath, report: Report) -> None:
    """Reminder, escalation and expiry: positive, in that order, the escalation's group named."""
    found: dict[str, timedelta] = {}
    for key in ("remindAfter", "escalateAfter", "expireAfter"):
        value = waiting.get(key)
        if isinstance(value, str) and re.fullmatch(DURATION_PATTERN, value):
            found[key] = parse_duration(value)
            if found[key] <= timedelta(0):
                report.add((*path, key),
                           f"expected a positive duration like 2h, got {describe(value)}")
    if "escalateAfter" in waiting and "escalateTo" not in waiting:
        report.add((*path, "escalateTo"),
                   "required with escalateAfter: the Slack user group told at the escalation")
    if "escalateTo" in waiting and "escalateAfter" not in waiting:
        report.add((*path, "escalateAfter"),
                   "required with escalateTo: how long a promotion waits before it escalates")
    expire = found.get("expireAfter", DEFAULT_EXPIRE_AFTER)
    expire_words = "expireAfter" if "expireAfter" in found else "the 24h expiry"
    order: list[tuple[str, timedelta]] = [
        (k, found[k]) for k in ("remindAfter", "escalateAfter") if k in found]
    order.append(("expireAfter", expire))
    for (early, early_at), (late, late_at) in itertools.pairwise(order):
        if early_at >= late_at:
            later = expire_words if late == "expireAfter" else late
            report.add((*path, early),
                       f"{early} {format_duration(early_at)} must be shorter than {later} "
                       f"{format_duration(late_at)}")


def _check_freezes(freezes: Any, path: KeyPath, report: Report) -> None:
    """Each dated freeze: real dates in a real zone, ending after it starts."""
    for index, freeze in _items(freezes):
        where: KeyPath = (*path, index)
        zone = freeze.get("timezone", DEFAULT_TIMEZONE)
        if not isinstance(zone, str):
            continue
        problem = _zone_problem(zone)
        if problem:
            report.add((*where, "timezone"), problem)
            continue
        moments: dict[str, datetime] = {}
        for key in ("from", "until"):
            value = freeze.get(key)
            if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
                continue
            try:
                moments[key] = parse_moment(value, zone)
            except ValueError:
                report.add((*where, key), f"expected a real date, got {describe(value)}")
        if len(moments) == 2 and moments["until"] <= moments["from"]:
            report.add((*where, "until"),
                       f"until {freeze['until']} must be after from {freeze['from']} (until is "
                       "when promotions go again)")
