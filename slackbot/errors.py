"""Every error promotebot raises on purpose, in one tree.

    PromotebotError
    ├── ConfigError            the pipeline file is wrong (every problem listed)
    ├── SettingsError          the environment is wrong (every problem listed)
    ├── DomainError            a business rule said no; `e.reason` is its code and facts
    │   ├── UnknownApp, UnknownEnv, InvalidName
    │   ├── OrderViolation     a skipped env, or a promotion into the first env
    │   ├── SourceNotReady     the source env is not Ready at the head being promoted
    │   ├── NothingToPromote
    │   ├── AlreadyLive        one live promotion per (app, env)
    │   ├── EnvBlocked         a freeze or a hold on the target env
    │   ├── NotAllowed         self-approval, approver outside the group, ...
    │   ├── StaleApproval      the approval names a head the PR no longer has
    │   ├── AlreadyFinished    the promotion is over; its buttons do nothing
    │   └── NotFound           no such promotion
    ├── InvalidTransition      a state change the state machine forbids (a bug, or a lost race)
    ├── StoreError
    │   ├── ConcurrentUpdate   a compare-and-set lost: someone else moved the record first
    │   ├── StaleFence         a lock's fencing token is no longer the current one
    │   └── StoreUnavailable   Redis did not answer (connection refused, timeout)
    └── AdapterError           an outside service failed; chained `from` the SDK's error
        ├── ForgeError
        │   ├── MergeConflict, HeadMoved, NotMergeable
        │   ├── MergeLater         GitHub asked to try the merge again (a race, or mergeability
        │   │                      still being computed): nothing was merged
        │   └── ForgeUnavailable   GitHub could not be reached, or answered 5xx (since when)
        │       └── RateLimited    GitHub's rate limit: nothing is sent before `until`
        ├── Protected          branch protection or a ruleset refused a write (GitHub's rule)
        ├── ClusterError
        │   └── ClusterUnavailable the Kubernetes API could not be reached
        └── WorkspaceError     a git operation failed

A DomainError carries a `Reason` (slackbot/reasons.py): the front end renders it as a
sentence with the next step. Anything else is shown as a short generic message with a
reference id, and logged with its traceback; its text never reaches a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slackbot.reasons import Reason


class PromotebotError(Exception):
    """Base of every error promotebot raises on purpose."""


class ConfigError(PromotebotError):
    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SettingsError(PromotebotError):
    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid settings:\n" + "\n".join(f"  {p}" for p in self.problems))


class DomainError(PromotebotError):
    """A business rule refused; `reason` says which, with the facts and the next step."""

    def __init__(self, reason: Reason):
        self.reason = reason
        super().__init__(reason.code.value)

    @property
    def code(self) -> str:
        return self.reason.code.value


class UnknownApp(DomainError):
    pass


class UnknownEnv(DomainError):
    pass


class InvalidName(DomainError):
    pass


class OrderViolation(DomainError):
    pass


class SourceNotReady(DomainError):
    pass


class NothingToPromote(DomainError):
    pass


class AlreadyLive(DomainError):
    pass


class EnvBlocked(DomainError):
    pass


class NotAllowed(DomainError):
    pass


class StaleApproval(DomainError):
    pass


class AlreadyFinished(DomainError):
    pass


class NotFound(DomainError):
    pass


class InvalidTransition(PromotebotError):
    pass


class StoreError(PromotebotError):
    pass


class ConcurrentUpdate(StoreError):
    pass


class StaleFence(StoreError):
    pass


class StoreUnavailable(StoreError):
    pass


class AdapterError(PromotebotError):
    pass


class ForgeError(AdapterError):
    pass


class MergeConflict(ForgeError):
    pass


class HeadMoved(ForgeError):
    pass


class NotMergeable(ForgeError):
    pass


class MergeLater(ForgeError):
    """GitHub did not merge, and said to try again: the base branch moved under the merge
    ("Base branch was modified"), or it is still computing whether the pull request merges."""


class ForgeUnavailable(ForgeError):
    """GitHub could not be reached or answered 5xx, after retries with backoff. `since`: when
    this spell of failures began; `status`: the last 5xx (None: no answer at all)."""

    def __init__(self, message: str, *, since: datetime | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.since = since
        self.status = status


class RateLimited(ForgeUnavailable):
    """GitHub's primary or secondary rate limit: no request is sent before `until`."""

    def __init__(self, message: str, *, until: datetime, secondary: bool = False,
                 since: datetime | None = None):
        super().__init__(message, since=since)
        self.until = until
        self.secondary = secondary


class Protected(AdapterError):
    """GitHub's branch protection or a repository ruleset refused a merge or a push: `rule` is
    what GitHub named (its own words), `branch` the branch it protects."""

    def __init__(self, rule: str, branch: str):
        super().__init__(f"{branch} is protected: {rule}")
        self.rule = rule
        self.branch = branch


class ClusterError(AdapterError):
    pass


class ClusterUnavailable(ClusterError):
    pass


class WorkspaceError(AdapterError):
    pass
