"""The emulator's answers against GitHub's published REST description (@octokit/openapi).

Every REST call the bot makes goes through the real adapter here (slackbot/adapters/github.py:
get_repo, get_rate_limit, get_branch, compare, get_pulls, create_pull and its 422, get_pull,
edit, get_commit with get_combined_status and get_check_runs, get_reviews, merge and its 409,
create_issue_comment, a 404 branch, create_git_ref, repo.merge with 201, 204 and 409, and the
App's installation token), plus what the lead's branch-protection work reads (protection,
required reviews, collaborator permission, rulesets, rules of a branch, statuses) and the
errors GitHub sends everywhere; each recorded answer must validate against the description's
schema for its operation and status. The git side of the bot (smart HTTP) has no OpenAPI
description; tests/github/test_git_http.py checks it against git's HTTP protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from github import Auth, Github

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from sandbox.github.gateway import Exchange
from sandbox.github.models import Actors
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.errors import ForgeError, HeadMoved, MergeConflict
from tests.github.appkeys import key_pair
from tests.github.conftest import ALICE, BOB, WorkTree, settle
from tests.github.openapi import description

REPO = "acme/myapp"
APP_ID, INSTALLATION = 4242, 5150


@pytest.fixture
def recorded(emulator: GitHubEmulator) -> Iterator[GitHubEmulator]:
    emulator.recording = True
    yield emulator


def _conforms(emulator: GitHubEmulator, at_least: int) -> set[str]:
    """Asserts every recorded answer conforms; returns the operations they covered."""
    spec = description()
    exchanges = emulator.exchanges
    assert len(exchanges) >= at_least
    problems = [problem for exchange in exchanges for problem in spec.problems(exchange)]
    assert problems == [], "\n".join(problems)
    covered = set()
    for exchange in exchanges:
        op = spec.operation(exchange.method, exchange.path)
        assert op is not None
        covered.add(f"{op.method} {op.template} {exchange.status}")
    return covered


def test_the_description_matches_paths_and_rejects_a_missing_required_field(
    emulator: GitHubEmulator,
) -> None:
    spec = description()
    op = spec.operation("GET", "/repos/acme/myapp/commits/abc/status")
    assert op is not None and op.template == "/repos/{owner}/{repo}/commits/{ref}/status"
    repo = requests.get(f"{emulator.url}/repos/acme/myapp", timeout=5,
                        headers={"Authorization": f"token {ALICE.token}"}).json()
    good = Exchange("GET", "/repos/acme/myapp", {}, 200, repo, {})
    assert spec.problems(good) == []
    del repo["archive_url"]
    bad = Exchange("GET", "/repos/acme/myapp", {}, 200, repo, {})
    assert any("'archive_url' is a required property" in p for p in spec.problems(bad))


def test_every_answer_to_the_bots_forge_calls_conforms(
    recorded: GitHubEmulator, as_bob: Github, work: WorkTree
) -> None:
    forge = GitHubForge(github_client(recorded.url, ALICE.token, fast=True))
    first = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    assert forge.ping()
    assert forge.branch_head(REPO, "dev") == first
    assert forge.compare(REPO, "staging", "dev").ahead_by == 1
    assert forge.find_open_pull(REPO, "staging", "dev") is None
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "body")
    assert forge.open_pull(REPO, "staging", "dev", "Again", "body").number == pull.number
    forge.update_pull_body(REPO, pull.number, "rollback plan: revert")
    recorded.set_status(first, "lint", "success")
    recorded.set_check(first, "ci", "success")
    assert forge.check_states(REPO, first) == {"lint": "success", "ci": "success"}
    as_bob.get_repo(REPO).get_pull(pull.number).create_review(event="APPROVE")
    assert [r.state for r in forge.reviews(REPO, pull.number)] == ["APPROVED"]
    forge.comment(REPO, pull.number, "deployed to staging")
    assert forge.branch_exists(REPO, "dev") and not forge.branch_exists(REPO, "nope")
    forge.create_branch(REPO, "hotfix/one", first)
    head = work.commit("dev", {"app.txt": "v3\n"}, "Second change")
    with pytest.raises(HeadMoved):
        forge.merge_pull(REPO, pull.number, first, "Promote")
    settle(recorded)
    assert forge.get_pull(REPO, pull.number).mergeable is True
    merged = forge.merge_pull(REPO, pull.number, head, "Promote dev to staging")
    assert forge.get_pull(REPO, pull.number).merge_sha == merged
    assert forge.merge_branch(REPO, "dev", "staging", "Sync staging into dev") is not None
    assert forge.merge_branch(REPO, "dev", "staging", "Nothing left") is None
    work.commit("prod", {"app.txt": "prod edit\n"}, "Edit on prod")
    with pytest.raises(MergeConflict):
        forge.merge_branch(REPO, "dev", "prod", "conflict")
    assert forge.clone_url(REPO) == recorded.clone_url
    covered = _conforms(recorded, at_least=30)
    for operation in (
        "GET /rate_limit 200", "GET /repos/{owner}/{repo} 200",
        "GET /repos/{owner}/{repo}/branches/{branch} 200",
        "GET /repos/{owner}/{repo}/branches/{branch} 404",
        "GET /repos/{owner}/{repo}/compare/{basehead} 200",
        "GET /repos/{owner}/{repo}/pulls 200", "POST /repos/{owner}/{repo}/pulls 201",
        "POST /repos/{owner}/{repo}/pulls 422", "GET /repos/{owner}/{repo}/pulls/{pull_number} 200",
        "PATCH /repos/{owner}/{repo}/pulls/{pull_number} 200",
        "GET /repos/{owner}/{repo}/commits/{ref} 200",
        "GET /repos/{owner}/{repo}/commits/{ref}/status 200",
        "GET /repos/{owner}/{repo}/commits/{ref}/check-runs 200",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews 200",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201",
        "POST /repos/{owner}/{repo}/git/refs 201",
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 409",
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 200",
        "POST /repos/{owner}/{repo}/merges 201", "POST /repos/{owner}/{repo}/merges 204",
        "POST /repos/{owner}/{repo}/merges 409",
    ):
        assert operation in covered, operation


def test_merge_refusals_and_protection_reads_conform(
    recorded: GitHubEmulator, as_alice: Github, work: WorkTree
) -> None:
    head = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    recorded.add_team("deployers", ["alice"])
    recorded.protect_branch("staging", required_approving_review_count=1,
                            required_status_checks=["ci"],
                            restrictions=Actors(users=("alice",), teams=("deployers",)),
                            bypass_pull_request_allowances=Actors(users=("bob",)))
    forge = GitHubForge(github_client(recorded.url, ALICE.token, fast=True))
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "")
    with pytest.raises(ForgeError):
        forge.merge_pull(REPO, pull.number, head, "Promote")  # 405 by protection
    recorded.faults.merge_race()
    with pytest.raises(ForgeError):
        forge.merge_pull(REPO, pull.number, head, "Promote")  # 405 base modified
    repo = as_alice.get_repo(REPO)
    branch = repo.get_branch("staging")
    protection = branch.get_protection()
    assert protection.required_status_checks.contexts == ["ci"]
    branch.get_required_pull_request_reviews()
    branch.get_required_status_checks()
    assert repo.get_collaborator_permission("bob") == "write"
    recorded.add_ruleset({
        "name": "prod", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/heads/prod"], "exclude": []}},
        "rules": [{"type": "pull_request", "parameters": {
            "required_approving_review_count": 1, "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": False, "require_last_push_approval": False,
            "required_review_thread_resolution": False}}],
        "bypass_actors": [{"actor_id": APP_ID, "actor_type": "Integration",
                           "bypass_mode": "always"}]})
    headers = {"Authorization": f"token {ALICE.token}"}
    for path in ("/rulesets", f"/rulesets/{next(iter(recorded.state.rulesets))}",
                 "/rules/branches/prod", f"/commits/{head}/statuses",
                 "/branches/staging/protection/restrictions"):
        assert requests.get(f"{recorded.url}/repos/acme/myapp{path}", headers=headers,
                            timeout=5).status_code == 200
    etag = requests.get(f"{recorded.url}/repos/acme/myapp/pulls/{pull.number}",
                        headers=headers, timeout=5).headers["ETag"]
    assert requests.get(f"{recorded.url}/repos/acme/myapp/pulls/{pull.number}", timeout=5,
                        headers={**headers, "If-None-Match": etag}).status_code == 304
    recorded.faults.secondary_rate_limit(10)
    assert requests.get(f"{recorded.url}/repos/acme/myapp", headers=headers,
                        timeout=5).status_code == 403
    recorded.faults.clear()
    assert requests.get(f"{recorded.url}/repos/acme/myapp", timeout=5,
                        headers={"Authorization": "token wrong"}).status_code == 401
    covered = _conforms(recorded, at_least=15)
    assert "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 405" in covered
    assert "GET /repos/{owner}/{repo}/branches/{branch}/protection 200" in covered
    assert "GET /repos/{owner}/{repo}/collaborators/{username}/permission 200" in covered
    assert "GET /repos/{owner}/{repo}/rules/branches/{branch} 200" in covered
    assert "GET /repos/{owner}/{repo}/pulls/{pull_number} 304" in covered


def test_the_apps_installation_token_and_installation_conform(
    bare_repo: Path, clock: ManualClock, tmp_path: Path
) -> None:
    private, public = key_pair()
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE, BOB], clock=clock) as emulator:
        emulator.install_app(APP_ID, public, INSTALLATION)
        emulator.recording = True
        forge = GitHubForge(github_client(emulator.url, app_id=APP_ID, private_key=private,
                                          installation_id=INSTALLATION, fast=True))
        assert forge.branch_head(REPO, "dev")
        jwt = Auth.AppAuth(APP_ID, private).create_jwt()
        for path in ("/app", f"/app/installations/{INSTALLATION}",
                     "/repos/acme/myapp/installation"):
            assert requests.get(f"{emulator.url}{path}", timeout=5,
                                headers={"Authorization": f"Bearer {jwt}"}).status_code == 200
        covered = _conforms(emulator, at_least=5)
    assert "POST /app/installations/{installation_id}/access_tokens 201" in covered
    assert "GET /app/installations/{installation_id} 200" in covered
