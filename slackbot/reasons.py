"""Why the core said no, or why a record ended: a code and the facts, never a sentence.

Every refusal (a DomainError) and every recorded failure carries a `Reason`: what happened
(`Code`) and the facts a front end needs to say it and to offer the next step (the env, the
record, who, since when, the command that would help). handlers/messages/ renders them; the
core writes no prose for people, so a second front end reuses it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from slackbot.progress import Progress
from slackbot.states import Kind, State


class Action(StrEnum):
    """What a person asks the bot to do: the verbs of the workflow (and of its access policy)."""

    REQUEST = "request"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETRY = "retry"
    PLAN = "plan"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    ROLLBACK = "rollback"
    EMERGENCY_ROLLBACK = "emergency_rollback"
    HOTFIX_START = "hotfix_start"
    HOTFIX_PROMOTE = "hotfix_promote"
    UNLOCK = "unlock"


class Next(StrEnum):
    """The step that would help, as a command of the workflow (the front end words it)."""

    PROMOTE_AGAIN = "promote_again"  # the same promotion, once the cause is fixed
    PROMOTE_SOURCE = "promote_source"  # promote the env below first
    WAIT = "wait"  # wait for Flux (or the live record), then try again
    CANCEL_OR_WAIT = "cancel_or_wait"
    UNFREEZE = "unfreeze"
    UNLOCK = "unlock"
    ROLLBACK = "rollback"  # undo it with a rollback of the env
    ROLLBACK_AGAIN = "rollback_again"
    ROLLBACK_UPSTREAM = "rollback_upstream"  # roll back (or fix) the env the chain waits on
    ROLLBACK_LIST = "rollback_list"  # /rollback <env> without a revision lists them
    HOTFIX_START = "hotfix_start"
    HOTFIX_PUSH = "hotfix_push"  # push the fix to the hotfix branch
    HOTFIX_PROMOTE_AGAIN = "hotfix_promote_again"
    FIX_SOURCE = "fix_source"  # fix it on the source branch, then start again
    RERUN_CHECK = "rerun_check"
    RESOLVE_CONFLICT = "resolve_conflict"
    REVIEW_NEW_HEAD = "review_new_head"
    ASK_OWNER = "ask_owner"  # ask whoever placed it (or a role that may lift it)
    ASK_ROLE = "ask_role"  # ask someone the access policy allows (the reason names them)
    RUN_IN_CHANNEL = "run_in_channel"  # the same command in a channel the policy allows
    ASK_STAKEHOLDER = "ask_stakeholder"
    ASK_ONCALL = "ask_oncall"
    RUN_IN_INCIDENTS = "run_in_incidents"
    DROP_EMERGENCY = "drop_emergency"
    NAME_APP = "name_app"
    RESUME_FLUX = "resume_flux"
    WAIT_FOR_FREEZE = "wait_for_freeze"  # a calendar freeze ends by itself (or edit the file)
    LEAVE_QUEUE = "leave_queue"  # /promote leave <env>


class Code(StrEnum):
    # -- names --------------------------------------------------------------------------
    UNKNOWN_APP = "unknown_app"  # name, suggestion, choices
    NO_APP_FOR_CHANNEL = "no_app_for_channel"  # choices
    UNKNOWN_ENV = "unknown_env"  # app, name, suggestion, choices
    NOT_FOUND = "not_found"  # record
    INVALID_NAME = "invalid_name"  # name
    # -- order and sources --------------------------------------------------------------
    FIRST_ENV = "first_env"  # app, env, branch
    WRONG_SOURCE = "wrong_source"  # env, source (the right one), name (the one asked), choices
    SOURCE_NOT_READY = "source_not_ready"  # env, source, flux_reason, message
    SOURCE_BEHIND = "source_behind"  # env, source, branch, sha, revision (what it runs)
    NOTHING_TO_PROMOTE = "nothing_to_promote"  # env, branch (source), target
    ALREADY_LIVE = "already_live"  # env, record, kind, who, state
    FROZEN = "frozen"  # env, who, since, text; app and name: the freeze's ("*": every one)
    ON_HOLD = "on_hold"  # env, who, since, text
    FROZEN_BY_CALENDAR = "frozen_by_calendar"  # env, since, until, text (the file's reason)
    ALREADY_QUEUED = "already_queued"  # app, env, position
    NOT_QUEUED = "not_queued"  # app, env
    # -- people and records ---------------------------------------------------------------
    NO_APPROVAL_NEEDED = "no_approval_needed"  # env
    OWN_RECORD = "own_record"  # record, action
    # the access policy (slackbot/engine/access.py): action, app, env, record, kind (a retry's),
    # roles (the rule's), people (whom to ask, when few), who (the requester or the owner)
    NOT_PERMITTED = "not_permitted"
    NOT_APPROVER = "not_approver"  # env, record, action, people (named approvers to ask)
    WRONG_CHANNEL = "wrong_channel"  # action, app, env, record, channels (the ids allowed)
    ALREADY_FROZEN = "already_frozen"  # app, env, who (the owner), since, text
    TOO_EARLY = "too_early"  # record (no pull request yet)
    TOO_LATE = "too_late"  # record, env, state, action (merged: undo with a rollback)
    FINISHED = "finished"  # record, state, action
    STALE_APPROVAL = "stale_approval"  # sha (approved), name (the head now)
    EMPTY_REASON = "empty_reason"
    EMPTY_PLAN = "empty_plan"
    STILL_LIVE = "still_live"  # record, state (nothing to retry yet)
    NOT_RETRIED = "not_retried"  # env (a rollback is chosen anew)
    # -- incidents -------------------------------------------------------------------------
    EMERGENCY_NOT_LAST = "emergency_not_last"  # env, name (the last env), mode
    REVISION_UNKNOWN = "revision_unknown"  # env, name (what was asked)
    CHAIN_NOT_READY = "chain_not_ready"  # env, name (Kustomization), source (its env), reason...
    HOTFIX_EXISTS = "hotfix_exists"  # branch, name
    HOTFIX_MISSING = "hotfix_missing"  # branch, name
    HOTFIX_EMPTY = "hotfix_empty"  # branch, target
    # -- failures recorded on a record ------------------------------------------------------
    CHECK_FAILED = "check_failed"  # check, sha, kind
    PULL_CLOSED = "pull_closed"  # pull, env
    PULL_MERGED_OUTSIDE = "pull_merged_outside"  # pull, env
    HEAD_MOVED = "head_moved"  # sha (approved), kind, env
    NOT_MERGEABLE = "not_mergeable"  # pull, branch (source), target, message
    FLUX_FAILED = "flux_failed"  # env, revision, flux_reason, message
    ROLLOUT_FAILED = "rollout_failed"  # deployment, message
    TIMED_OUT = "timed_out"  # env, revision, timeout, progress, flux_reason, message
    REVERT_RACED = "revert_raced"  # branch, env
    EXPIRED = "expired"  # timeout (how long it waited)


@dataclass(frozen=True)
class Reason:
    """A code and the facts that go with it; every field but `code` is optional."""

    code: Code
    next: Next | None = None
    app: str | None = None
    env: str | None = None
    record: int | None = None
    kind: Kind | None = None
    state: State | None = None
    action: Action | None = None
    who: str | None = None  # a person, by opaque user id
    since: datetime | None = None
    name: str | None = None  # a name asked for: an app, env, revision or branch
    suggestion: str | None = None
    choices: tuple[str, ...] = ()
    source: str | None = None  # an env
    branch: str | None = None
    target: str | None = None  # a branch
    sha: str | None = None
    revision: str | None = None  # a Flux revision, "<branch>@sha1:<sha>"
    check: str | None = None
    pull: int | None = None
    deployment: str | None = None
    timeout: timedelta | None = None
    progress: Progress | None = None
    flux_reason: str | None = None
    message: str | None = None  # text from an outside service (Flux, GitHub): shown escaped
    text: str | None = None  # a person's words (a freeze's reason): shown escaped
    roles: tuple[str, ...] = ()  # the access policy's roles that may (pseudo-roles too)
    people: tuple[str, ...] = ()  # user ids to ask (when the roles name few people)
    channels: tuple[str, ...] = ()  # channel ids the access policy allows
    until: datetime | None = None  # when a calendar freeze ends
    position: int | None = None  # a place in an env's queue, 1 the next to start
