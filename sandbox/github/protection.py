"""Branch protection and rulesets as GitHub enforces them, on merges and on pushes.

Classic protection (PUT .../branches/{b}/protection) binds everyone but admins (unless
`enforce_admins`); `bypass_pull_request_allowances` lifts only "Changes must be made through a
pull request", `restrictions` lists who may push at all. A ruleset binds everyone but its
bypass actors. Approvals count only from users with write access (never the author), latest
review per user, dismissed ones not at all. Messages are GitHub's: a merge gets a 405 naming
the first unmet rule; a push gets the GH006 (protection) or GH013 (ruleset) report that git
shows as `remote:` lines. Pure rules over `RepoState`; no HTTP and no git here.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sandbox.github.errors import ApiError, protected
from sandbox.github.gitstore import ZERO_SHA
from sandbox.github.models import Actors, Protection, PullRequest, Ruleset
from sandbox.github.permissions import ROLE_IDS, Principal, app_role, at_least

if TYPE_CHECKING:
    from sandbox.github.state import RepoState

PROTECTION_ARTICLE = ("https://docs.github.com/repositories/configuring-branches-and-merges-in-"
                      "your-repository/managing-protected-branches/about-protected-branches")
NOT_AUTHORIZED = (f"You're not authorized to push to this branch. Visit {PROTECTION_ARTICLE} "
                  "for more information.")
THROUGH_PULL_REQUEST = "Changes must be made through a pull request."
RULE_VIOLATIONS = "Repository rule violations found"
BEHIND = "Head branch is not up to date with the base branch."
CHANGES_REQUESTED = "Changes have been requested."


@dataclass(frozen=True)
class RefUpdate:
    """One ref a push (or an API call) moves: old or new is ZERO_SHA for a create or delete."""

    ref: str
    old: str
    new: str
    fast_forward: bool

    @property
    def branch(self) -> str | None:
        return self.ref[len("refs/heads/"):] if self.ref.startswith("refs/heads/") else None


@dataclass(frozen=True)
class PushVerdict:
    """What the pre-receive check decided: the `remote:` lines git prints, and for a refusal
    GitHub's reason in the rejected ref's status (protected branch hook declined, ...)."""

    accepted: bool
    lines: tuple[str, ...] = ()
    declined: str = ""
    message: str = ""  # the refusal as the REST API words it


# -- who the caller is ---------------------------------------------------------------------


def role(state: RepoState, who: Principal) -> str:
    if who.app is not None:
        return app_role(who.app)
    if who.user is None:
        return "write"  # an anonymous sandbox push: may push, bypasses nothing
    return state.role(who.user.login)


def _listed(state: RepoState, actors: Actors, who: Principal) -> bool:
    if who.app is not None and who.app.slug in actors.apps:
        return True
    if who.user is None:
        return False
    if who.user.login in actors.users:
        return True
    return any(who.user.login in team.members
               for slug, team in state.teams.items() if slug in actors.teams)


def _bypasses(state: RepoState, ruleset: Ruleset, who: Principal, merging: bool) -> bool:
    login = who.user.login if who.user else None
    for actor in ruleset.bypass_actors:
        if actor.bypass_mode == "pull_request" and not merging:
            continue
        kind = actor.actor_type
        if kind == "Integration" and who.app is not None and actor.actor_id == who.app.app_id:
            return True
        if kind == "User" and login is not None and actor.actor_id == state.user_id(login):
            return True
        if kind == "Team" and login is not None and any(
                team.id == actor.actor_id and login in team.members
                for team in state.teams.values()):
            return True
        if kind == "RepositoryRole" and who.user is not None:
            wanted = ROLE_IDS.get(actor.actor_id or 0)
            if wanted and at_least(role(state, who), wanted):
                return True
        if kind == "OrganizationAdmin" and who.user is not None and role(state, who) == "admin":
            return True
    return False


def _exempt_admin(state: RepoState, prot: Protection, who: Principal) -> bool:
    return not prot.enforce_admins and who.app is None and role(state, who) == "admin"


# -- the rules that apply to a branch --------------------------------------------------------


def rulesets_for(state: RepoState, branch: str) -> list[Ruleset]:
    """The active rulesets whose conditions match refs/heads/`branch`."""
    ref = f"refs/heads/{branch}"
    default = f"refs/heads/{state.repo.default_branch()}"

    def matches(pattern: str) -> bool:
        if pattern == "~ALL":
            return True
        if pattern == "~DEFAULT_BRANCH":
            return ref == default
        return fnmatch.fnmatchcase(ref, pattern if pattern.startswith("refs/")
                                   else f"refs/heads/{pattern}")

    return [r for r in sorted(state.rulesets.values(), key=lambda r: r.id)
            if r.enforcement == "active" and any(matches(p) for p in r.include)
            and not any(matches(p) for p in r.exclude)]


def _rule(ruleset: Ruleset, kind: str) -> dict[str, Any] | None:
    for rule in ruleset.rules:
        if rule.get("type") == kind:
            params = rule.get("parameters")
            return params if isinstance(params, dict) else {}
    return None


def dismisses_stale_reviews(state: RepoState, branch: str) -> bool:
    prot = state.protections.get(branch)
    if prot is not None and prot.dismiss_stale_reviews:
        return True
    return any(bool((_rule(r, "pull_request") or {}).get("dismiss_stale_reviews_on_push"))
               for r in rulesets_for(state, branch))


# -- reviews and checks ----------------------------------------------------------------------


def counted_verdicts(state: RepoState, pr: PullRequest) -> dict[str, str]:
    """Each reviewer's latest APPROVED / CHANGES_REQUESTED, as protection counts them: only
    users with write access, never the author, dismissed reviews and comments not at all."""
    latest: dict[str, str] = {}
    for review in pr.reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user] = review.state
    return {user: verdict for user, verdict in latest.items()
            if verdict != "DISMISSED" and user != pr.user
            and at_least(state.role(user), "write")}


def review_problems(state: RepoState, pr: PullRequest, wanted: int) -> list[str]:
    verdicts = counted_verdicts(state, pr)
    problems: list[str] = []
    if "CHANGES_REQUESTED" in verdicts.values():
        problems.append(CHANGES_REQUESTED)
    approvals = sum(1 for v in verdicts.values() if v == "APPROVED")
    if approvals < wanted:
        noun = "review is" if wanted == 1 else "reviews are"
        problems.append(f"At least {wanted} approving {noun} required by reviewers with "
                        "write access.")
    return problems


def check_problems(state: RepoState, sha: str, contexts: list[str]) -> list[str]:
    if not contexts:
        return []
    states = state.context_states(sha)
    failing = [c for c in contexts if states.get(c) == "failure"]
    if failing:
        return [f'Required status check "{failing[0]}" is failing.']
    missing = [c for c in contexts if states.get(c) != "success"]
    if not missing:
        return []
    if len(missing) == 1:
        return [f'Required status check "{missing[0]}" is expected.']
    return [f"{len(missing)} of {len(contexts)} required status checks are expected."]


def _ruleset_checks(params: dict[str, Any]) -> list[str]:
    return [str(c["context"]) for c in params.get("required_status_checks") or []
            if isinstance(c, dict) and "context" in c]


# -- merges ------------------------------------------------------------------------------


def _classic_merge_problems(state: RepoState, pr: PullRequest, prot: Protection,
                            head_sha: str) -> list[str]:
    problems: list[str] = []
    if prot.required_approving_review_count is not None:
        problems += review_problems(state, pr, prot.required_approving_review_count)
    if prot.required_status_checks:
        problems += check_problems(state, head_sha, prot.required_status_checks)
    return problems


def _ruleset_merge_problems(state: RepoState, pr: PullRequest, ruleset: Ruleset,
                            head_sha: str) -> list[str]:
    problems: list[str] = []
    if _rule(ruleset, "update") is not None:
        problems.append("Cannot update this protected ref.")
    reviews = _rule(ruleset, "pull_request")
    if reviews is not None:
        problems += review_problems(state, pr, int(reviews.get("required_approving_review_count")
                                                   or 0))
    checks = _rule(ruleset, "required_status_checks")
    if checks is not None:
        problems += check_problems(state, head_sha, _ruleset_checks(checks))
    return problems


def merge_problems(state: RepoState, pr: PullRequest, head_sha: str) -> list[str]:
    """Everything that blocks the merge whoever asks (the `blocked` mergeable_state)."""
    problems: list[str] = []
    prot = state.protections.get(pr.base)
    if prot is not None:
        problems += _classic_merge_problems(state, pr, prot, head_sha)
    for ruleset in rulesets_for(state, pr.base):
        problems += _ruleset_merge_problems(state, pr, ruleset, head_sha)
    return problems


def strict_base(state: RepoState, branch: str) -> bool:
    prot = state.protections.get(branch)
    if prot is not None and prot.required_status_checks and prot.strict:
        return True
    return any(bool((_rule(r, "required_status_checks") or {})
                    .get("strict_required_status_checks_policy"))
               for r in rulesets_for(state, branch))


def merge_refusal(state: RepoState, pr: PullRequest, who: Principal, head_sha: str,
                  base_sha: str) -> ApiError | None:
    """GitHub's 405 for a merge that protection or a ruleset forbids to `who`, or None."""
    prot = state.protections.get(pr.base)
    if prot is not None and not _exempt_admin(state, prot, who):
        if prot.restrictions is not None and not _listed(state, prot.restrictions, who) \
                and role(state, who) != "admin":
            return protected(NOT_AUTHORIZED)
        problems = _classic_merge_problems(state, pr, prot, head_sha)
        if problems:
            return protected(problems[0])
        if prot.strict and prot.required_status_checks \
                and not state.repo.is_ancestor(base_sha, head_sha):
            return protected(BEHIND)
    for ruleset in rulesets_for(state, pr.base):
        if _bypasses(state, ruleset, who, merging=True):
            continue
        problems = _ruleset_merge_problems(state, pr, ruleset, head_sha)
        if problems:
            return protected(RULE_VIOLATIONS + "\n\n" + "\n\n".join(problems))
    return None


# -- pushes and ref updates ---------------------------------------------------------------


def _classic_push_problems(state: RepoState, prot: Protection, update: RefUpdate,
                           who: Principal) -> list[str]:
    problems: list[str] = []
    deleting = update.new == ZERO_SHA
    if prot.restrictions is not None and not _listed(state, prot.restrictions, who) \
            and role(state, who) != "admin":  # admins may always push past restrictions
        problems.append(NOT_AUTHORIZED)
    if deleting:
        if not prot.allow_deletions:
            problems.append("Cannot delete this protected branch")
        return problems
    if update.old != ZERO_SHA and not update.fast_forward and not prot.allow_force_pushes:
        problems.append("Cannot force-push to this branch")
    if prot.required_approving_review_count is not None and not _listed(
            state, prot.bypass_pull_request_allowances, who):
        problems.append(THROUGH_PULL_REQUEST)
    if prot.required_status_checks:
        problems += check_problems(state, update.new, prot.required_status_checks)
    return problems


def _ruleset_push_problems(state: RepoState, ruleset: Ruleset, update: RefUpdate) -> list[str]:
    problems: list[str] = []
    if update.new == ZERO_SHA:
        if _rule(ruleset, "deletion") is not None:
            problems.append("Cannot delete this branch")
        return problems
    if update.old == ZERO_SHA and _rule(ruleset, "creation") is not None:
        problems.append("Cannot create ref due to creations being restricted.")
    if update.old != ZERO_SHA and not update.fast_forward \
            and _rule(ruleset, "non_fast_forward") is not None:
        problems.append("Cannot force-push to this branch")
    if update.old != ZERO_SHA and _rule(ruleset, "update") is not None:
        problems.append("Cannot update this protected ref.")
    if _rule(ruleset, "pull_request") is not None:
        problems.append(THROUGH_PULL_REQUEST)
    checks = _rule(ruleset, "required_status_checks")
    if checks is not None:
        problems += check_problems(state, update.new, _ruleset_checks(checks))
    return problems


def _bullets(problems: list[str]) -> list[str]:
    lines: list[str] = [""]
    for problem in problems:
        lines += [f"- {problem}", ""]
    return lines


def push_verdict(state: RepoState, update: RefUpdate, who: Principal,
                 html_url: str) -> PushVerdict:
    """Whether `who` may move one ref as a git push (or a ref update through the API) would;
    `html_url` is the repository's page (the GH013 report links its rules)."""
    branch = update.branch
    if branch is None:
        return PushVerdict(True)
    prot = state.protections.get(branch)
    if prot is not None and not _exempt_admin(state, prot, who):
        problems = _classic_push_problems(state, prot, update, who)
        if problems:
            lines = [f"error: GH006: Protected branch update failed for {update.ref}.",
                     *_bullets(problems)]
            return PushVerdict(False, tuple(lines), "protected branch hook declined",
                               problems[0])
    bypassed: list[str] = []
    for ruleset in rulesets_for(state, branch):
        problems = _ruleset_push_problems(state, ruleset, update)
        if not problems:
            continue
        if _bypasses(state, ruleset, who, merging=False):
            bypassed += problems
            continue
        rules_url = f"{html_url}/rules?ref={quote(update.ref, safe='')}"
        lines = [f"error: GH013: Repository rule violations found for {update.ref}.",
                 f"Review all repository rules at {rules_url}", *_bullets(problems)]
        return PushVerdict(False, tuple(lines),
                           "push declined due to repository rule violations",
                           RULE_VIOLATIONS + "\n\n" + "\n\n".join(problems))
    if bypassed:
        lines = [f"Bypassed rule violations for {update.ref}:", *_bullets(bypassed)]
        return PushVerdict(True, tuple(lines))
    return PushVerdict(True)
