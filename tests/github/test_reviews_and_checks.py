"""Reviews, commit statuses and check runs through PyGithub."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from github import Github, GithubException

from sandbox.github import GitHubEmulator, GitHubUser
from tests.github.conftest import CAROL, WorkTree, settle


def test_reviews_by_two_users_carry_their_logins_states_and_head_sha(
    as_alice: Github, as_bob: Github, client: Callable[[GitHubUser], Github], work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    approved = (
        as_bob.get_repo("acme/myapp")
        .get_pull(pr.number)
        .create_review(event="APPROVE", body="lgtm")
    )
    assert (approved.user.login, approved.state, approved.commit_id) == ("bob", "APPROVED", sha)
    as_carol = client(CAROL)
    changes = (
        as_carol.get_repo("acme/myapp")
        .get_pull(pr.number)
        .create_review(event="REQUEST_CHANGES", body="fix the image tag")
    )
    assert changes.state == "CHANGES_REQUESTED"
    comment = (
        as_alice.get_repo("acme/myapp")
        .get_pull(pr.number)
        .create_review(event="COMMENT", body="ok")
    )
    assert comment.state == "COMMENTED"
    reviews = list(pr.get_reviews())
    assert [(r.user.login, r.state) for r in reviews] == [
        ("bob", "APPROVED"),
        ("carol", "CHANGES_REQUESTED"),
        ("alice", "COMMENTED"),
    ]
    assert reviews[0].submitted_at is not None
    assert reviews[0].body == "lgtm"


def test_review_pins_the_commit_it_was_given(
    as_alice: Github, as_bob: Github, work: WorkTree
) -> None:
    first = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    work.commit("dev", {"app.txt": "v3\n"}, "Again")
    repo = as_bob.get_repo("acme/myapp")
    review = repo.get_pull(pr.number).create_review(commit=repo.get_commit(first), event="APPROVE")
    assert review.commit_id == first


def test_author_cannot_approve_own_pull_is_422(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    with pytest.raises(GithubException) as err:
        pr.create_review(event="APPROVE")
    assert err.value.status == 422
    assert err.value.data["message"] == "Unprocessable Entity"
    assert err.value.data["errors"] == ["Can not approve your own pull request"]
    assert list(pr.get_reviews()) == []


def test_dismissed_stale_approval_no_longer_counts(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.protect_branch(
        "staging", required_approving_review_count=1, dismiss_stale_reviews=True
    )
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    as_bob.get_repo("acme/myapp").get_pull(pr.number).create_review(event="APPROVE")
    settle(emulator)
    assert as_alice.get_repo("acme/myapp").get_pull(pr.number).mergeable_state == "clean"
    work.commit("dev", {"app.txt": "v3\n"}, "New push")
    assert as_alice.get_repo("acme/myapp").get_pull(pr.number).mergeable_state == "unknown"
    settle(emulator)
    assert as_alice.get_repo("acme/myapp").get_pull(pr.number).mergeable_state == "blocked"
    [review] = as_alice.get_repo("acme/myapp").get_pull(pr.number).get_reviews()
    assert review.state == "DISMISSED"


def test_combined_status_is_pending_then_failure_then_success(
    as_alice: Github, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = as_alice.get_repo("acme/myapp")
    commit = repo.get_commit(sha)
    empty = commit.get_combined_status()
    assert (empty.state, empty.total_count, empty.sha) == ("pending", 0, sha)
    created = commit.create_status(
        "pending", target_url="http://ci/1", description="running", context="ci/build"
    )
    assert (created.state, created.context, created.creator.login) == (
        "pending",
        "ci/build",
        "alice",
    )
    commit.create_status("success", context="ci/lint")
    assert commit.get_combined_status().state == "pending"
    commit.create_status("failure", context="ci/build")
    assert commit.get_combined_status().state == "failure"
    commit.create_status("success", context="ci/build")
    combined = repo.get_commit("dev").get_combined_status()
    assert combined.state == "success"
    assert sorted((s.context, s.state) for s in combined.statuses) == [
        ("ci/build", "success"),
        ("ci/lint", "success"),
    ]
    assert len(list(commit.get_statuses())) == 4
    with pytest.raises(GithubException) as err:
        commit.create_status("green")
    assert err.value.status == 422


def test_check_runs_are_created_updated_and_filtered(as_alice: Github, work: WorkTree) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = as_alice.get_repo("acme/myapp")
    build = repo.create_check_run(name="build", head_sha=sha, status="in_progress")
    assert (build.status, build.head_sha) == ("in_progress", sha)
    assert build.conclusion is None
    repo.create_check_run(name="lint", head_sha=sha, conclusion="failure")
    build.edit(conclusion="success", output={"title": "ok", "summary": "all green"})
    assert (build.status, build.conclusion) == ("completed", "success")
    assert repo.get_check_run(build.id).output.title == "ok"
    commit = repo.get_commit(sha)
    runs = {r.name: r for r in commit.get_check_runs()}
    assert (runs["build"].conclusion, runs["lint"].conclusion) == ("success", "failure")
    assert [r.name for r in commit.get_check_runs(check_name="lint")] == ["lint"]
    assert [r.name for r in commit.get_check_runs(status="in_progress")] == []
    repo.create_check_run(name="lint", head_sha=sha, conclusion="success")
    assert [r.conclusion for r in commit.get_check_runs(check_name="lint")] == ["success"]
    assert len(list(commit.get_check_runs(check_name="lint", filter="all"))) == 2
    with pytest.raises(GithubException) as err:
        repo.create_check_run(name="x", head_sha=sha, status="completed")
    assert err.value.status == 422
