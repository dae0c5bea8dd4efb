"""Pushes to protected branches with real git over smart HTTP, refused as GitHub refuses them
(GH006 for branch protection, GH013 for rulesets, the ref rejected), and ref updates through
the API refused the same way.

Pushes need a token here (`push_requires_auth`, as on github.com): git sends the credentials
of its remote URL only when challenged, and who pushes decides the bypass lists.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Github, GithubException

from sandbox.github import GitHubEmulator, GitHubUser
from sandbox.github.clock import ManualClock
from sandbox.github.models import Actors
from tests.github.appkeys import key_pair, mint
from tests.github.conftest import ALICE, BOB, BOT, CAROL, GIT_ENV, git

APP_ID, INSTALLATION = 4711, 99


class Clone:
    """A clone over HTTP, pushing as one user (their token in the remote URL)."""

    def __init__(self, emulator: GitHubEmulator, path: Path, credentials: GitHubUser | str | None):
        self.path = path
        url = emulator.clone_url if credentials is None else \
            emulator.authenticated_clone_url(credentials)
        git(path.parent, "clone", "-q", url, str(path))

    def commit(self, branch: str, name: str, text: str) -> str:
        git(self.path, "fetch", "-q", "origin")
        git(self.path, "checkout", "-q", "-B", branch, f"origin/{branch}")
        (self.path / name).write_text(text)
        git(self.path, "add", name)
        git(self.path, "commit", "-q", "-m", f"Change {name}")
        return git(self.path, "rev-parse", "HEAD")

    def push(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **GIT_ENV, "HOME": str(self.path)}
        return subprocess.run(["git", "push", "origin", *args], cwd=self.path, env=env,
                              capture_output=True, text=True, check=False)


@pytest.fixture
def strict(bare_repo: Path, clock: ManualClock) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE, BOB, CAROL, BOT], clock=clock,
                        push_requires_auth=True) as emu:
        yield emu


def _head(emulator: GitHubEmulator, branch: str) -> str | None:
    return emulator.state.repo.branch_sha(branch)


def test_a_push_to_a_branch_that_requires_pull_requests_is_refused_as_github_does(
    strict: GitHubEmulator, tmp_path: Path
) -> None:
    strict.protect_branch("prod", required_approving_review_count=1,
                            required_status_checks=["ci"])
    clone = Clone(strict, tmp_path / "c", ALICE)
    before = _head(strict, "prod")
    clone.commit("prod", "hotfix.txt", "fix\n")
    result = clone.push("prod")
    assert result.returncode != 0
    assert "remote: error: GH006: Protected branch update failed for refs/heads/prod." \
        in result.stderr
    assert "remote: - Changes must be made through a pull request." in result.stderr
    assert 'remote: - Required status check "ci" is expected.' in result.stderr
    assert "! [remote rejected] prod -> prod (protected branch hook declined)" in result.stderr
    assert _head(strict, "prod") == before


def test_the_pull_request_bypass_list_lifts_only_the_pull_request_rule(
    strict: GitHubEmulator, tmp_path: Path
) -> None:
    strict.protect_branch("prod", required_approving_review_count=1,
                            required_status_checks=["ci"],
                            bypass_pull_request_allowances=Actors(users=("alice",)))
    clone = Clone(strict, tmp_path / "c", ALICE)
    sha = clone.commit("prod", "hotfix.txt", "fix\n")
    refused = clone.push("prod")
    assert "Changes must be made through a pull request." not in refused.stderr
    assert 'Required status check "ci" is expected.' in refused.stderr
    clone.push(f"{sha}:refs/heads/hotfix/ci")  # CI runs on the commit elsewhere first
    strict.set_check(sha, "ci", "success")
    assert clone.push("prod").returncode == 0
    assert _head(strict, "prod") == sha


def test_restrictions_name_who_may_push_and_admins_are_exempt_unless_enforced(
    strict: GitHubEmulator, tmp_path: Path
) -> None:
    strict.protect_branch("staging", restrictions=Actors(users=("bob",)))
    alice = Clone(strict, tmp_path / "a", ALICE)
    alice.commit("staging", "a.txt", "a\n")
    refused = alice.push("staging")
    assert "remote: - You're not authorized to push to this branch. Visit " in refused.stderr
    strict.set_permission("alice", "admin")
    assert alice.push("staging").returncode == 0
    strict.protect_branch("staging", restrictions=Actors(users=("bob",)), enforce_admins=True)
    alice.commit("staging", "b.txt", "b\n")
    assert alice.push("staging").returncode == 0  # admins always pass push restrictions
    strict.protect_branch("staging", restrictions=Actors(users=("bob",)),
                          required_approving_review_count=1, enforce_admins=True)
    alice.commit("staging", "c.txt", "c\n")
    assert "Changes must be made through a pull request." in alice.push("staging").stderr


def test_force_pushes_and_deletions_are_refused_unless_allowed(
    strict: GitHubEmulator, tmp_path: Path
) -> None:
    strict.protect_branch("staging")
    clone = Clone(strict, tmp_path / "c", ALICE)
    clone.commit("staging", "a.txt", "a\n")
    assert clone.push("staging").returncode == 0  # plain protection still allows pushes
    git(clone.path, "reset", "-q", "--hard", "HEAD~1")
    forced = clone.push("--force", "staging")
    assert "remote: - Cannot force-push to this branch" in forced.stderr
    assert "remote: - Cannot delete this protected branch" in clone.push(":staging").stderr
    strict.protect_branch("staging", allow_force_pushes=True)
    assert clone.push("--force", "staging").returncode == 0


def test_users_without_write_access_and_anonymous_pushes(
    strict: GitHubEmulator, tmp_path: Path
) -> None:
    strict.set_permission("carol", "read")
    carol = Clone(strict, tmp_path / "carol", CAROL)
    carol.commit("dev", "c.txt", "c\n")
    denied = carol.push("dev")
    assert "Permission to acme/myapp.git denied to carol." in denied.stderr
    assert "403" in denied.stderr
    anonymous = Clone(strict, tmp_path / "anon", None)
    anonymous.commit("dev", "x.txt", "x\n")
    assert "could not read Username" in anonymous.push("dev").stderr  # challenged: 401


def test_anonymous_sandbox_pushes_bind_to_no_bypass_list(
    emulator: GitHubEmulator, tmp_path: Path
) -> None:
    emulator.protect_branch("staging", required_approving_review_count=1,
                            bypass_pull_request_allowances=Actors(users=("alice",)))
    anonymous = Clone(emulator, tmp_path / "anon", ALICE)  # never challenged: sent no token
    anonymous.commit("staging", "x.txt", "x\n")
    assert "protected branch hook declined" in anonymous.push("staging").stderr
    assert anonymous.push("HEAD:refs/heads/feature/x").returncode == 0


def test_ref_updates_through_the_api_obey_protection(
    as_alice: Github, emulator: GitHubEmulator, tmp_path: Path
) -> None:
    emulator.protect_branch("prod", required_approving_review_count=1)
    clone = Clone(emulator, tmp_path / "c", ALICE)
    sha = clone.commit("dev", "a.txt", "a\n")
    clone.push("dev")
    repo = as_alice.get_repo("acme/myapp")
    with pytest.raises(GithubException) as err:
        repo.get_git_ref("heads/prod").edit(sha)
    assert (err.value.status, err.value.data["message"]) == (
        422, "Changes must be made through a pull request.")
    with pytest.raises(GithubException) as err:
        repo.merge("prod", "dev", "sync")
    assert err.value.status == 409
    assert err.value.data["message"] == "Changes must be made through a pull request."
    repo.get_git_ref("heads/staging").edit(sha)  # unprotected: moves
    assert _head(emulator, "staging") == sha


def _app_token(emulator: GitHubEmulator) -> str:
    emulator.install_app(APP_ID, key_pair()[1], INSTALLATION)
    return str(mint(emulator, APP_ID, INSTALLATION)["token"])


def test_a_ruleset_refuses_with_gh013_and_lets_its_bypass_actor_through(
    strict: GitHubEmulator, tmp_path: Path
) -> None:
    strict.add_ruleset({
        "name": "prod", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/heads/prod"], "exclude": []}},
        "rules": [{"type": "pull_request",
                   "parameters": {"required_approving_review_count": 1}},
                  {"type": "non_fast_forward"}, {"type": "deletion"}],
        "bypass_actors": [{"actor_id": APP_ID, "actor_type": "Integration",
                           "bypass_mode": "always"}],
    })
    strict.set_permission("bob", "admin")  # a ruleset binds admins too
    bob = Clone(strict, tmp_path / "bob", BOB)
    bob.commit("prod", "b.txt", "b\n")
    refused = bob.push("prod")
    assert "remote: error: GH013: Repository rule violations found for refs/heads/prod." \
        in refused.stderr
    assert f"remote: Review all repository rules at {strict.url}/acme/myapp/rules" \
        "?ref=refs%2Fheads%2Fprod" in refused.stderr
    assert "remote: - Changes must be made through a pull request." in refused.stderr
    assert "(push declined due to repository rule violations)" in refused.stderr
    app = Clone(strict, tmp_path / "app", _app_token(strict))
    sha = app.commit("prod", "revert.txt", "rollback\n")
    accepted = app.push("prod")
    assert accepted.returncode == 0, accepted.stderr
    assert "remote: Bypassed rule violations for refs/heads/prod:" in accepted.stderr
    assert _head(strict, "prod") == sha
