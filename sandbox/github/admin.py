"""What tests and the sandbox do to the emulated GitHub in process, as CI or as an admin would
through GitHub's UI: post checks and statuses, protect branches, add rulesets, set who has
which role, create teams.

A mixin of `GitHubEmulator` (it needs the emulator's `state` and `app`); every action takes
the repository lock and goes through the same records and webhooks as the REST API.
"""

from __future__ import annotations

from typing import Any

from sandbox.github import routes_checks, webhooks
from sandbox.github.app import App
from sandbox.github.models import Actors, CheckRun, Protection, Ruleset, Team
from sandbox.github.permissions import ROLES
from sandbox.github.routes_access import ruleset_from_body
from sandbox.github.state import RepoState


class AdminActions:
    state: RepoState
    app: App

    def set_check(
        self, sha: str, name: str, conclusion: str | None = "success", status: str = "completed"
    ) -> int:
        """Creates a check run on a commit (conclusion None: still running); returns its id."""
        with self.state.lock:
            full = self.state.repo.resolve(sha)
            if full is None:
                raise ValueError(f"unknown commit {sha}")
            stamp = self.state.now()
            run = CheckRun(self.state.next_id(), full, name,
                           "completed" if conclusion else status, conclusion, None, None,
                           stamp, stamp if conclusion else None, {}, "sandbox-ci")
            self.state.check_runs[run.id] = run
            webhooks.after_check(self.app, run, created=True, was_completed=False)
            return run.id

    def set_status(
        self, sha: str, context: str, state: str, description: str | None = None
    ) -> None:
        """Posts a commit status (error | failure | pending | success) as the CI would."""
        if state not in routes_checks.STATUS_STATES:
            raise ValueError(f"bad status state {state}")
        with self.state.lock:
            full = self.state.repo.resolve(sha)
            if full is None:
                raise ValueError(f"unknown commit {sha}")
            routes_checks.add_status(
                self.app, full, state, context, description, None, "sandbox-ci"
            )

    def protect_branch(
        self,
        branch: str,
        *,
        required_approving_review_count: int | None = None,
        required_status_checks: list[str] | None = None,
        strict: bool = False,
        dismiss_stale_reviews: bool = False,
        enforce_admins: bool = False,
        restrictions: Actors | None = None,
        bypass_pull_request_allowances: Actors | None = None,
        allow_force_pushes: bool = False,
        allow_deletions: bool = False,
    ) -> None:
        """Branch protection as PUT .../branches/{b}/protection would set it.
        `required_approving_review_count` (0 too) requires pull requests; `restrictions`
        lists who may push at all; `bypass_pull_request_allowances` who may push without one."""
        with self.state.lock:
            self.state.protections[branch] = Protection(
                required_approving_review_count=required_approving_review_count,
                required_status_checks=list(required_status_checks)
                if required_status_checks is not None
                else None,
                strict=strict,
                dismiss_stale_reviews=dismiss_stale_reviews,
                enforce_admins=enforce_admins,
                restrictions=restrictions,
                bypass_pull_request_allowances=bypass_pull_request_allowances or Actors(),
                allow_force_pushes=allow_force_pushes,
                allow_deletions=allow_deletions,
            )

    def unprotect_branch(self, branch: str) -> None:
        with self.state.lock:
            self.state.protections.pop(branch, None)

    def add_ruleset(self, body: dict[str, Any]) -> Ruleset:
        """A ruleset as POST .../rulesets creates it (GitHub's body: name, enforcement,
        conditions.ref_name.include, rules, bypass_actors)."""
        with self.state.lock:
            ruleset = ruleset_from_body(self.app, body, self.state.next_id())
            self.state.rulesets[ruleset.id] = ruleset
            return ruleset

    def set_permission(self, login: str, role: str) -> None:
        """A user's role on the repository: admin, maintain, write, triage, read or none."""
        if role not in ROLES:
            raise ValueError(f"role is one of {', '.join(ROLES)}")
        with self.state.lock:
            self.state.roles[login] = role

    def add_team(self, slug: str, members: list[str], permission: str = "push") -> Team:
        with self.state.lock:
            team = Team(self.state.next_id(), slug, tuple(members), permission)
            self.state.teams[slug] = team
            return team

    def pull_request(self, number: int) -> dict[str, Any]:
        """The pull request's JSON as GET /pulls/{n} returns it."""
        with self.state.lock:
            return self.app.pull_json(self.app.pull(str(number)), detail=True)
