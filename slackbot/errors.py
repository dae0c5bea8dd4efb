"""Every error promotebot raises on purpose, in one tree.

    PromotebotError
    ├── ConfigError            the pipeline file is wrong (every problem listed)
    ├── SettingsError          the environment is wrong (every problem listed)
    ├── DomainError            a business rule said no; str(e) is a sentence a user can act on
    │   ├── UnknownApp, UnknownEnv
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
    │   └── StaleFence         a lock's fencing token is no longer the current one
    └── AdapterError           an outside service failed; chained `from` the SDK's error
        ├── ForgeError
        │   ├── MergeConflict, HeadMoved, NotMergeable
        └── ClusterError

Only DomainError text is shown to users as is; anything else is shown as a short generic
message with a reference id, and logged with its traceback (STYLE.md, "Errors").
"""

from __future__ import annotations


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
    """A business rule refused; the message says why and what to do next."""

    @property
    def reason(self) -> str:
        return str(self)


class UnknownApp(DomainError):
    pass


class UnknownEnv(DomainError):
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


class ClusterError(AdapterError):
    pass
