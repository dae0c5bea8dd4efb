"""An event as the card shows it: one line of the timeline, and the thread reply it deserves.

Matches on the event's typed facts (slackbot/events.py); nothing here reads text the core
wrote. Events the card does not list give None.
"""

from __future__ import annotations

from datetime import timedelta

from handlers import mrkdwn
from handlers.ids import COMMAND
from handlers.messages import outside as outside_words
from handlers.messages import refusals
from handlers.messages.card import gate_detail, gates_summary
from handlers.messages.words import duration, record_name, short_rev, text, weekday_utc, who
from slackbot import events as ev
from slackbot.events import Event
from slackbot.models import Kind, Promotion
from slackbot.progress import Progress, Stage


def timeline_line(event: Event, record: Promotion) -> str | None:
    """One step of the card's timeline, or None for events the card does not list."""
    line = _line(event, record)
    return f"{mrkdwn.when(event.at, '{time}')}  {line}" if line else None


def _line(event: Event, record: Promotion) -> str | None:
    actor = who(event.actor)
    match event.facts:
        case ev.Requested():
            return f":inbox_tray: Requested by {actor}: {requested(record)}"
        case ev.PullOpened(number=number, url=url, adopted=adopted):
            verb = "adopted" if adopted else "opened"
            return f":arrows_counterclockwise: Pull request {mrkdwn.link(url, f'#{number}')} {verb}"
        case ev.AwaitingGates():
            return ":hourglass_flowing_sand: Waiting for the gates"
        case ev.Approved(sha=sha):
            return f":+1: Approved by {actor} at `{sha[:7]}`"
        case ev.PlanWritten():
            return f":memo: Rollback plan written by {actor}"
        case ev.HeadMoved():
            return f":warning: {head_moved(event.facts)}"
        case ev.MergeScheduled(at=at):
            return f":calendar: Change window closed: merge scheduled for {weekday_utc(at)}"
        case ev.GatesPassed():
            return ":white_check_mark: Every gate is green"
        case ev.Merging(sha=sha):
            return f":twisted_rightwards_arrows: Merging `{(sha or record.head_sha or '')[:7]}`"
        case ev.Merged(sha=sha):
            return f":twisted_rightwards_arrows: Merged `{sha[:7]}`; reconcile requested"
        case ev.Progressed(progress=progress):
            return f":satellite_antenna: {progress_line(progress)}"
        case ev.Deployed():
            return f":rocket: Deployed: {deployed(event.facts)}"
        case ev.Failed(reason=reason):
            return f":x: Failed: {refusals.sentence(reason)}"
        case ev.Rejected(reason=reason):
            return f":octagonal_sign: Rejected by {actor}: {text(reason)}"
        case ev.Cancelled():
            return f":no_entry_sign: Cancelled by {actor}"
        case ev.Expired(after=after):
            return f":alarm_clock: Expired: {expired(after)}"
        case ev.HoldPlaced():
            return f":lock: Hold placed by {actor}: {hold(record)}"
        case ev.HoldKept():
            return f":lock: {hold_kept(event.facts, record)}"
        case ev.Unlocked() if event.promotion_id == record.id:  # a cancelled rollback's own
            return f":unlock: Hold on {record.env} lifted by {actor}"
        case ev.Reverting(target=target):
            return (f":leftwards_arrow_with_hook: Reverting: reverting {record.target_branch} to "
                    f"{target[:7]}")
        case ev.Reverted(sha=sha):
            return f":leftwards_arrow_with_hook: Revert pushed as `{sha[:7]}`; reconcile requested"
        case ev.Synced(backport=backport):
            emoji, what = (":arrow_heading_down:", "Backport") if backport else (
                ":arrows_counterclockwise:", "Sync")
            return f"{emoji} {what}: {synced(event.facts)}"
        case ev.SyncConflict(backport=backport):
            what = "Backport" if backport else "Sync"
            return f":warning: {what} conflict: {sync_conflict(event.facts)}"
        case ev.SyncFailed(backport=backport):
            what = "Backport" if backport else "Sync"
            return f":warning: {what} failed: {sync_failed(event.facts)}"
        case ev.OutsideTrouble(outside=outside):
            return outside_words.trouble_line(outside)
        case ev.OutsideRecovered(service=service):
            return outside_words.recovered_line(service)
        case ev.Recovered():
            return f":white_check_mark: Recovered: {recovered(event.facts)}"
        case ev.RevertCarried():
            return f":leftwards_arrow_with_hook: Carried down: {carried(event.facts, record)}"
        case ev.CarryConflict():
            return f":warning: Not carried down: {carry_conflict(event.facts)}"
        case ev.Reminded(after=after, users=users):
            asked = f": {', '.join(who(u) for u in users)} asked directly" if users else ""
            return f":bell: Reminder after {duration(after)}{asked}"
        case ev.Escalated(after=after, group=group):
            return f":rotating_light: Escalated to {mrkdwn.group(group)} after {duration(after)}"
        case ev.Queued(user=user, position=position):
            return (f":busts_in_silhouette: {who(user)} queued a request behind it "
                    f"({place(position)})")
        case ev.LeftQueue(user=user):
            return f":wave: {who(user)} left the queue"
        case ev.FromQueue(queued_at=at, behind=behind):
            behind_text = f", after record {behind}" if behind is not None else ""
            return (f":arrow_forward: Started from the queue (asked "
                    f"{mrkdwn.when(at, '{time}')}{behind_text})")
        case ev.QueueRefused(user=user, reason=reason):
            return (f":no_entry: {who(user)}'s queued request could not start: "
                    f"{refusals.sentence(reason)}")
    return None


def thread_detail(event: Event, record: Promotion) -> str | None:
    """The thread reply an event deserves (details stay out of the card), or None."""
    match event.facts:
        case ev.AwaitingGates(results=results) | ev.GatesChanged(results=results):
            return f":clipboard: Gates on `{record.short_sha}`: {gates_summary(results)}"
        case ev.MergeScheduled(at=at):
            return f":calendar: Outside the change window: merge scheduled for {weekday_utc(at)}"
        case ev.HeadMoved():
            return f":warning: {head_moved(event.facts)}"
        case ev.Approved(sha=sha):
            return f":+1: {who(event.actor)} approved `{sha[:7]}`"
        case ev.PlanWritten(plan=plan):
            quoted = "\n".join(f">{line}" for line in text(plan).splitlines())
            return f":memo: Rollback plan by {who(event.actor)}:\n{quoted}"
        case ev.Merged(sha=sha):
            return f":twisted_rightwards_arrows: Merged as `{sha[:7]}`; Flux asked to reconcile"
        case ev.Progressed(progress=progress):
            return f":satellite_antenna: {progress_line(progress)}"
        case ev.Deployed():
            return f":rocket: {deployed(event.facts)}"
        case ev.Failed(reason=reason):
            return f":x: {refusals.sentence(reason)}"
        case ev.Rejected(reason=reason):
            return f":octagonal_sign: Rejected by {who(event.actor)}: {text(reason)}"
        case ev.Cancelled():
            return f":no_entry_sign: Cancelled by {who(event.actor)}"
        case ev.Expired(after=after):
            return f":alarm_clock: {expired(after)}"
        case ev.HoldPlaced():
            return f":lock: {who(event.actor)}: {hold(record)}"
        case ev.HoldKept():
            return f":lock: {hold_kept(event.facts, record)}"
        case ev.Unlocked() if event.promotion_id == record.id:
            return (f":unlock: {who(event.actor)} cancelled the rollback: its hold on "
                    f"{record.env} is lifted")
        case ev.Reverted(sha=sha):
            return f":leftwards_arrow_with_hook: Revert pushed as `{sha[:7]}`"
        case ev.Synced():
            return f":arrows_counterclockwise: {synced(event.facts)}"
        case ev.SyncFailed():
            return f":arrows_counterclockwise: {sync_failed(event.facts)}"
        case ev.SyncConflict():
            return f":warning: {sync_conflict(event.facts)}"
        case ev.Recovered():
            return f":white_check_mark: {recovered(event.facts)}"
        case ev.RevertCarried():
            return f":leftwards_arrow_with_hook: {carried(event.facts, record, full=True)}"
        case ev.CarryConflict():
            return f":warning: {carry_conflict(event.facts)}"
        case ev.Reminded(after=after, users=users):
            asked = (f" {', '.join(who(u) for u in users)}: your approval is asked."
                     if users else "")
            return (f":bell: {record.name} has waited {duration(after)} for its gates; still "
                    f"missing: {pending(record)}.{asked}")
        case ev.Escalated(after=after, group=group):
            return (f":rotating_light: {mrkdwn.group(group)}: {record.name} has waited "
                    f"{duration(after)} for its gates (still missing: {pending(record)}). "
                    f"Please chase it, or step in.")
        case ev.Queued(user=user, position=position):
            return (f":busts_in_silhouette: {who(user)}'s request for {record.env} waits behind "
                    f"{record.name} ({place(position)}); it starts by itself when "
                    f"{record.name} ends")
        case ev.LeftQueue(user=user):
            return f":wave: {who(user)} left the queue for {record.env}"
        case ev.FromQueue(queued_at=at):
            return (f":arrow_forward: Started from the queue: {who(record.requested_by)} asked "
                    f"{mrkdwn.when(at)}; every rule was checked again now")
        case ev.QueueRefused(user=user, reason=reason):
            return (f":no_entry: {who(user)}'s queued request for {record.env} could not start: "
                    f"{refusals.sentence(reason)}")
    return None


def place(position: int) -> str:
    return "next in line" if position == 1 else f"position {position} in line"


def pending(record: Promotion) -> str:
    """The gates a waiting record still waits for, in words."""
    waiting = [gate_detail(g) for g in record.gates if not g.passed]
    return "; ".join(waiting) or "its gates to be read"


# -- the pieces -------------------------------------------------------------------------------


def requested(record: Promotion) -> str:
    if record.rollback is not None and record.rollback.undoes is not None:
        return (f"re-apply on {record.target_branch} what "
                f"{record_name(Kind.ROLLBACK, record.rollback.undoes)} removed")
    if record.rollback is not None and record.rollback.asked_env is not None:
        spec = record.rollback
        how = "pushed to" if record.direct else "through a pull request into"
        return (f"{spec.asked_env}'s change since {spec.target[:7]} "
                f"({text(spec.target_subject)}) reverted {how} {record.target_branch}, the "
                f"lowest env that has it")
    if record.rollback is not None:
        spec = record.rollback
        how = ("emergency revert on" if spec.emergency
               else "revert pushed to" if record.direct else "revert pull request into")
        return (f"{how} {record.target_branch}: back to {spec.target[:7]} "
                f"({text(spec.target_subject)})")
    return f"{text(record.source_branch)}@{record.short_sha} -> {record.target_branch}"


def head_moved(facts: ev.HeadMoved) -> str:
    line = f"the pull request head moved from {facts.old[:7]} to {facts.new[:7]}"
    if facts.voided:
        line += ": approvals given for the old head no longer count"
    return line


def progress_line(progress: Progress) -> str:
    clause = refusals.progress(progress)
    if progress.stage is Stage.DEPENDENCY:
        if progress.root is not None:
            return clause[0].upper() + clause[1:]
        return f"Waiting for a dependency: {text(progress.message)}"
    if progress.stage is Stage.ROLLOUT:
        return "Rollout: " + clause.removeprefix("rollout: ")
    return f"Reconciling: {clause}"


def deployed(facts: ev.Deployed) -> str:
    pods = ", ".join(f"{text(p.deployment)} {p.ready}/{p.desired}" for p in facts.pods)
    return f"{short_rev(facts.revision)} applied; {pods} ready"


def expired(after: timedelta) -> str:
    return f"waited more than {duration(after)} for its gates"


def hold(record: Promotion) -> str:
    return f"promotions into {record.env} are on hold until {COMMAND} unlock {record.env}"


def hold_kept(facts: ev.HoldKept, record: Promotion) -> str:
    placed = (f" (placed with rollback {record_name(Kind.ROLLBACK, facts.record)})"
              if facts.record is not None else "")
    return (f"{record.env} stays on hold by {who(facts.by)}{placed}: a hold is replaced only by "
            f"whoever placed it; {COMMAND} unlock {record.env} lifts it")


def synced(facts: ev.Synced) -> str:
    if facts.sha is None:
        return f"{facts.base} already has everything in {text(facts.head)}"
    if facts.fast_forward:
        said = f"{facts.base} fast-forwarded to {text(facts.head)} ({facts.sha[:7]})"
    else:
        said = f"{text(facts.head)} merged into {facts.base} as {facts.sha[:7]}"
    if facts.brought:
        said += f"; it brings {_subjects(facts.brought)}"
    return said


def _subjects(subjects: tuple[str, ...]) -> str:
    return ", ".join(f"“{text(s)}”" for s in subjects)


def recovered(facts: ev.Recovered) -> str:
    after = {"timed_out": "its timeout", "rollout_failed": "a failed rollout"}.get(
        facts.after, facts.after.replace("_", " "))
    return f"Flux applied {short_rev(facts.revision)} Ready after all, after {text(after)}"


def carried(facts: ev.RevertCarried, record: Promotion, full: bool = False) -> str:
    if facts.sha is None:
        return f"{facts.base} did not have what {record.name} reverted: nothing removed there"
    said = f"the revert is on {facts.base} as `{facts.sha[:7]}`"
    if facts.removed:
        said += f"; it removes {_subjects(facts.removed)} there"
    if full and facts.files:
        said += " (" + ", ".join(f"`{text(f)}`" for f in facts.files) + ")"
    return said


def carry_conflict(facts: ev.CarryConflict) -> str:
    if facts.pull is None or facts.url is None:
        return (f"the revert does not apply to {facts.base}, and no pull request could be "
                f"opened: revert it there by hand")
    link = mrkdwn.link(facts.url, f"#{facts.pull}")
    return f"the revert does not apply cleanly to {facts.base}: resolve it in pull request {link}"


def sync_conflict(facts: ev.SyncConflict) -> str:
    head = text(facts.head)
    if facts.protected is not None:
        where = (f"pull request {mrkdwn.link(facts.url, f'#{facts.pull}')}"
                 if facts.pull is not None and facts.url is not None else "a pull request")
        return (f"{facts.base} is protected ({text(facts.protected)}): merge {head} into it "
                f"through {where}")
    if facts.pull is None or facts.url is None:
        return (f"{head} conflicts with {facts.base}, and the pull request could not be opened: "
                f"merge it by hand")
    link = mrkdwn.link(facts.url, f"#{facts.pull}")
    return f"{head} conflicts with {facts.base}: resolve it in pull request {link}"


def sync_failed(facts: ev.SyncFailed) -> str:
    head = text(facts.head)
    return (f"{head} could not be merged into {facts.base}: GitHub refused; merge it by hand "
            f"(git merge {head})")

