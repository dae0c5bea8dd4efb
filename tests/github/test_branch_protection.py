"""Branch protection on merges, as GitHub applies it: who counts as a reviewer, who may merge,
who is exempt, and GitHub's own 405 messages; set and read through PyGithub."""

from __future__ import annotations

import pytest
from github import Github, GithubException

from sandbox.github import GitHubEmulator
from sandbox.github.models import Actors
from tests.github.conftest import WorkTree, settle


def _open(g: Github, work: WorkTree) -> tuple[int, str]:
    head = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    return g.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t").number, head


def _merge_refusal(g: Github, number: int, head: str) -> str:
    with pytest.raises(GithubException) as err:
        g.get_repo("acme/myapp").get_pull(number).merge(sha=head)
    assert err.value.status == 405
    assert err.value.data["documentation_url"] == (
        "https://docs.github.com/articles/about-protected-branches")
    return str(err.value.data["message"])


def test_reviews_by_users_without_write_access_do_not_count(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    emulator.protect_branch("staging", required_approving_review_count=1)
    emulator.set_permission("bob", "read")
    number, head = _open(as_alice, work)
    as_bob.get_repo("acme/myapp").get_pull(number).create_review(event="REQUEST_CHANGES",
                                                                 body="no")
    as_bob.get_repo("acme/myapp").get_pull(number).create_review(event="APPROVE")
    settle(emulator)
    assert as_alice.get_repo("acme/myapp").get_pull(number).mergeable_state == "blocked"
    assert _merge_refusal(as_alice, number, head) == (
        "At least 1 approving review is required by reviewers with write access.")
    emulator.set_permission("bob", "write")
    assert as_alice.get_repo("acme/myapp").get_pull(number).merge(sha=head).merged


def test_changes_requested_by_a_writer_block_with_githubs_message(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    emulator.protect_branch("staging", required_approving_review_count=0)
    number, head = _open(as_alice, work)
    as_bob.get_repo("acme/myapp").get_pull(number).create_review(event="REQUEST_CHANGES",
                                                                 body="no")
    assert _merge_refusal(as_alice, number, head) == "Changes have been requested."


def test_several_missing_checks_are_counted_and_a_failing_one_is_named(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    emulator.protect_branch("staging", required_status_checks=["build", "lint", "e2e"])
    number, head = _open(as_alice, work)
    assert _merge_refusal(as_alice, number, head) == (
        "3 of 3 required status checks are expected.")
    emulator.set_check(head, "build", "success")
    emulator.set_status(head, "lint", "success")
    assert _merge_refusal(as_alice, number, head) == 'Required status check "e2e" is expected.'
    emulator.set_check(head, "e2e", "timed_out")
    assert _merge_refusal(as_alice, number, head) == 'Required status check "e2e" is failing.'


def test_admins_are_exempt_unless_enforce_admins(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    emulator.set_permission("alice", "admin")
    emulator.protect_branch("staging", required_approving_review_count=1,
                            required_status_checks=["ci"], enforce_admins=True)
    number, head = _open(as_alice, work)
    assert _merge_refusal(as_alice, number, head).startswith("At least 1 approving review")
    emulator.protect_branch("staging", required_approving_review_count=1,
                            required_status_checks=["ci"], enforce_admins=False)
    settle(emulator)
    # GitHub still shows the pull request as blocked, but lets the admin merge it.
    assert as_alice.get_repo("acme/myapp").get_pull(number).mergeable_state == "blocked"
    assert as_alice.get_repo("acme/myapp").get_pull(number).merge(sha=head).merged


def test_push_restrictions_decide_who_may_merge(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    emulator.add_team("deployers", ["bob"])
    emulator.protect_branch("staging", restrictions=Actors(teams=("deployers",)))
    number, head = _open(as_alice, work)
    assert _merge_refusal(as_alice, number, head).startswith(
        "You're not authorized to push to this branch. Visit https://docs.github.com/")
    assert as_bob.get_repo("acme/myapp").get_pull(number).merge(sha=head).merged


def test_protection_set_with_pygithub_reads_back_restrictions_and_bypass_lists(
    as_alice: Github, emulator: GitHubEmulator
) -> None:
    emulator.add_team("platform", ["alice"])
    branch = as_alice.get_repo("acme/myapp").get_branch("prod")
    branch.edit_protection(
        strict=True, checks=["ci"], enforce_admins=True, required_approving_review_count=2,
        dismiss_stale_reviews=True, user_push_restrictions=["bob"],
        team_push_restrictions=["platform"], users_bypass_pull_request_allowances=["carol"],
    )
    protection = as_alice.get_repo("acme/myapp").get_branch("prod").get_protection()
    assert protection.required_status_checks.contexts == ["ci"]
    assert protection.required_status_checks.strict is True
    assert protection.enforce_admins is True
    reviews = protection.required_pull_request_reviews
    assert (reviews.required_approving_review_count, reviews.dismiss_stale_reviews) == (2, True)
    assert [u.login for u in protection.get_user_push_restrictions()] == ["bob"]
    assert [t.slug for t in protection.get_team_push_restrictions()] == ["platform"]
    prot = emulator.state.protections["prod"]
    assert prot.bypass_pull_request_allowances == Actors(users=("carol",))
    assert prot.restrictions == Actors(users=("bob",), teams=("platform",))
