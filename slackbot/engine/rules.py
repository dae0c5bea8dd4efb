"""The workflow's refusals, as pure functions of what the store and Flux say: each raises the
DomainError of its rule with the facts and the next step, or returns quietly.

No I/O here: the commands gather the facts and call these, so each rule can be read, and
tested, on its own.
"""

from __future__ import annotations

from slackbot.errors import AlreadyLive, EnvBlocked, NotAllowed, SourceNotReady
from slackbot.models import Block, BlockKind, Promotion, State
from slackbot.pipeline import CalendarFreeze, Environment
from slackbot.ports import KustomizationStatus
from slackbot.reasons import Action, Code, Next, Reason


def check_not_blocked(blocks: list[Block], env: Environment) -> None:
    for block in blocks:
        frozen = block.kind is BlockKind.FREEZE
        raise EnvBlocked(Reason(
            Code.FROZEN if frozen else Code.ON_HOLD,
            Next.UNFREEZE if frozen else Next.UNLOCK,
            app=block.app, env=env.name, who=block.by, since=block.at, text=block.reason,
            record=block.record, sha=block.target, name=block.env if frozen else None,
        ))


def check_no_calendar_freeze(freezes: tuple[CalendarFreeze, ...], env: Environment) -> None:
    """A dated freeze of the pipeline file in force: refused until it ends (edit the file to
    lift it early)."""
    for freeze in freezes:
        raise EnvBlocked(Reason(Code.FROZEN_BY_CALENDAR, Next.WAIT_FOR_FREEZE, env=env.name,
                                since=freeze.start, until=freeze.end, text=freeze.reason))


def check_no_live(live: Promotion | None, env: Environment,
                  next_step: Next = Next.CANCEL_OR_WAIT) -> None:
    if live is not None:
        raise AlreadyLive(Reason(Code.ALREADY_LIVE, next_step, app=live.app, env=env.name,
                                 record=live.id, kind=live.kind, who=live.requested_by,
                                 state=live.state))


def check_source_ready(src: Environment, status: KustomizationStatus, head: str,
                       env: Environment) -> None:
    """The source env must run exactly the head being promoted, and be healthy."""
    if not status.settled:
        raise SourceNotReady(Reason(Code.SOURCE_NOT_READY, Next.FIX_SOURCE, env=env.name,
                                    source=src.name, flux_reason=status.reason or None,
                                    message=status.message))
    if status.last_applied_revision != f"{src.branch}@sha1:{head}":
        raise SourceNotReady(Reason(Code.SOURCE_BEHIND, Next.WAIT, env=env.name,
                                    source=src.name, branch=src.branch, sha=head,
                                    revision=status.last_applied_revision))


def check_not_own(record: Promotion, user: str, action: Action) -> None:
    """Approve and reject: never by the requester, whatever their roles (the access policy
    then says who else may)."""
    if user == record.requested_by:
        raise NotAllowed(Reason(Code.OWN_RECORD, Next.ASK_STAKEHOLDER, record=record.id,
                                action=action))


def check_before_merge(record: Promotion, action: Action) -> None:
    """Approve, reject, cancel, plan: only while the record has not merged."""
    if record.state is State.REQUESTED and action is Action.APPROVE:
        raise NotAllowed(Reason(Code.TOO_EARLY, Next.WAIT, record=record.id, action=action))
    if record.state in (State.MERGING, State.RECONCILING):
        raise NotAllowed(Reason(Code.TOO_LATE, Next.ROLLBACK, record=record.id, env=record.env,
                                state=record.state, action=action))
