"""Who may do what: collaborator roles, installation tokens that expire after an hour on the
emulator's clock (REST and git), the App's permissions and GitHub's 403 for a token lacking
one, and X-OAuth-Scopes on personal access tokens."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from github import Auth, BadCredentialsException, Github, GithubException

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from tests.github.appkeys import key_pair, mint
from tests.github.conftest import ALICE, BOB, CAROL, GIT_ENV, WorkTree, client_for, git

APP_ID, INSTALLATION = 31337, 77


PRIVATE, PUBLIC = key_pair()


def _mint(emulator: GitHubEmulator, permissions: dict[str, str] | None = None
          ) -> dict[str, object]:
    return mint(emulator, APP_ID, INSTALLATION, permissions)


@pytest.fixture
def private_repo(bare_repo: Path, clock: ManualClock) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE, BOB, CAROL], clock=clock,
                        private=True) as emu:
        emu.install_app(APP_ID, PUBLIC, INSTALLATION)
        yield emu


def test_collaborator_permission_answers_role_and_legacy_permission(
    as_alice: Github, emulator: GitHubEmulator
) -> None:
    emulator.set_permission("bob", "maintain")
    emulator.set_permission("carol", "triage")
    repo = as_alice.get_repo("acme/myapp")
    assert [repo.get_collaborator_permission(u) for u in ("alice", "bob", "carol")] == [
        "write", "write", "read"]
    assert repo.get_collaborator_role_name("bob") == "maintain"
    emulator.set_permission("carol", "none")
    raw = requests.get(f"{emulator.url}/repos/acme/myapp/collaborators/carol/permission",
                       headers={"Authorization": f"token {ALICE.token}"}, timeout=5).json()
    assert (raw["permission"], raw["role_name"], raw["user"]["login"]) == ("none", "none",
                                                                           "carol")
    with pytest.raises(GithubException) as err:
        repo.get_collaborator_permission("mallory")
    assert err.value.status == 404


def test_an_installation_token_expires_after_an_hour_on_the_emulators_clock(
    private_repo: GitHubEmulator, clock: ManualClock
) -> None:
    minted = _mint(private_repo)
    token = str(minted["token"])
    g = client_for(private_repo, token)
    assert g.get_repo("acme/myapp").private is True
    clock.advance(3599)
    assert g.get_repo("acme/myapp").get_branch("dev").name == "dev"
    clock.advance(1)
    with pytest.raises(BadCredentialsException) as err:
        g.get_repo("acme/myapp")
    assert err.value.status == 401
    assert err.value.data == {"message": "Bad credentials",
                              "documentation_url": "https://docs.github.com/rest",
                              "status": "401"}


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)


def test_git_refuses_an_expired_installation_token_and_takes_a_fresh_one(
    private_repo: GitHubEmulator, clock: ManualClock, tmp_path: Path
) -> None:
    old = str(_mint(private_repo)["token"])
    clone = tmp_path / "clone"
    assert _git(tmp_path, "clone", "-q", "-b", "dev",
                private_repo.authenticated_clone_url(old), str(clone)).returncode == 0
    (clone / "a.txt").write_text("a\n")
    git(clone, "add", "a.txt")
    git(clone, "commit", "-q", "-m", "a")
    clock.advance(3600)
    stale = _git(clone, "push", "origin", "dev")
    assert stale.returncode != 0
    assert "Invalid username or token. Password authentication is not supported for Git " \
        "operations." in stale.stderr
    assert "Authentication failed" in stale.stderr
    assert _git(clone, "fetch", "origin").returncode != 0  # a private repository: reads too
    fresh = str(_mint(private_repo)["token"])
    pushed = _git(clone, "push", private_repo.authenticated_clone_url(fresh), "dev")
    assert pushed.returncode == 0, pushed.stderr


def test_installation_permissions_are_visible_and_enforced(
    private_repo: GitHubEmulator, work: WorkTree
) -> None:
    jwt = Auth.AppAuth(APP_ID, PRIVATE).create_jwt()
    installation = requests.get(f"{private_repo.url}/app/installations/{INSTALLATION}",
                                headers={"Authorization": f"Bearer {jwt}"}, timeout=5).json()
    assert installation["permissions"] == {"contents": "write", "pull_requests": "write",
                                           "checks": "read", "statuses": "write",
                                           "deployments": "write", "metadata": "read"}
    narrow = _mint(private_repo, {"contents": "read", "metadata": "read"})
    assert narrow["permissions"] == {"contents": "read", "metadata": "read"}
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = client_for(private_repo, str(narrow["token"])).get_repo("acme/myapp")
    assert repo.get_branch("dev").name == "dev"
    with pytest.raises(GithubException) as err:
        repo.create_pull(base="staging", head="dev", title="t")
    assert err.value.status == 403
    assert err.value.data["message"] == "Resource not accessible by integration"
    headers = {k.lower(): v for k, v in err.value.headers.items()}
    assert headers["x-accepted-github-permissions"] == "pull_requests=write"
    jwt = Auth.AppAuth(APP_ID, PRIVATE).create_jwt()
    widened = requests.post(
        f"{private_repo.url}/app/installations/{INSTALLATION}/access_tokens",
        json={"permissions": {"administration": "write"}},
        headers={"Authorization": f"Bearer {jwt}"}, timeout=5)
    assert widened.status_code == 422


def test_personal_access_tokens_answer_their_scopes(emulator: GitHubEmulator) -> None:
    response = requests.get(f"{emulator.url}/repos/acme/myapp",
                            headers={"Authorization": f"token {ALICE.token}"}, timeout=5)
    assert response.headers["X-OAuth-Scopes"] == "repo"
    assert response.headers["X-Accepted-OAuth-Scopes"] == "repo"
    assert response.json()["permissions"]["push"] is True
    emulator.set_permission("alice", "read")
    again = requests.get(f"{emulator.url}/repos/acme/myapp",
                         headers={"Authorization": f"token {ALICE.token}"}, timeout=5)
    assert again.json()["permissions"] == {"admin": False, "maintain": False, "push": False,
                                           "triage": False, "pull": True}
