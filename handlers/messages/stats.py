"""The words of the DORA figures: `/promote stats`, App Home's delivery section, and the
help line. Everything the figures mean is said here; slackbot/dora.py only counts.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.messages.words import duration, text
from slackbot.dora import Figures
from slackbot.plurals import counted


def working(app: str | None) -> str:
    return f"On it: counting the delivery figures of {text(app)}…" if app else (
        "On it: counting the delivery figures…")


def title(app: str) -> str:
    return f"Delivery figures: {app}"


def fallback(app: str | None) -> str:
    return f"Delivery figures of {app}" if app else "Delivery figures"


def no_envs(app: str | None) -> str:
    return f"No environments to count for {text(app)}." if app else "No environments to count."


def span(delta: timedelta | None) -> str:
    """A median in two units at most: 2d 3h, 5h 10m, 25m, 40s; "n/a" when unknown."""
    if delta is None:
        return "n/a"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def _rate(f: Figures) -> str:
    if f.failure_rate is None:
        return "failed n/a (no change)"
    return f"failed {f.failed_changes} of {f.changes} ({f.failure_rate:.0%})"


def _restore(f: Figures) -> str:
    said = f"restore {span(f.restore_time)}"
    if f.unrestored:
        said += f", {f.unrestored} not restored yet"
    return said


def _frequency(f: Figures) -> str:
    if f.deploys == 0:
        return "no deploy"
    how_often = f"{f.per_day:.1f} a day" if f.per_day >= 1 else f"{f.per_week:.1f} a week"
    return f"{counted(f.deploys, 'deploy')} ({how_often})"


def _lead(f: Figures) -> str:
    if f.lead_time is None:
        return "lead time n/a"
    unknown = f.deploys - f.lead_times_known
    return f"lead time {span(f.lead_time)}" + (f" ({unknown} unknown)" if unknown else "")


def line(f: Figures) -> str:
    """One window of one env: `7d` 3 deploys (3.0 a week) · lead time 5h · failed 1 of 3 …"""
    return (f"`{f.days}d`  {_frequency(f)} · {_lead(f)} · {_rate(f)} · {_restore(f)}")


def env_block(env: str, rows: list[Figures]) -> str:
    return f"*{text(env)}*\n" + "\n".join(line(f) for f in rows)


def explained(failure_window: timedelta) -> str:
    return (f"A deploy is a promotion or hotfix that deployed. A change failed when it failed "
            f"after its merge or a rollback or hotfix of its env followed within "
            f"{duration(failure_window)}. Lead time: its oldest commit to deployed; restore: a "
            f"failure to the env's next healthy deploy (medians). Times in UTC.")


def home_title(days: int) -> str:
    return f"Delivery, last {days} days"


def home_line(env: str, f: Figures) -> str:
    return f"*{text(env)}*  {_frequency(f)} · {_lead(f)} · {_rate(f)} · {_restore(f)}"
