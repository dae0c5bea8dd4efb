"""Pull requests via PyGithub: create, the 422s, list filters, mergeability, merge and guards."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from github import Github, GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from sandbox.github import GitHubEmulator
from tests.github.conftest import WorkTree, settle


def _repo(g: Github) -> Repository:
    return g.get_repo("acme/myapp")


def test_create_pull_returns_201_with_heads_and_urls(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = _repo(as_alice).create_pull(
        base="staging", head="dev", title="Promote dev to staging", body="why"
    )
    assert pr.number == 1
    assert pr.state == "open"
    assert (pr.base.ref, pr.head.ref, pr.head.sha) == ("staging", "dev", sha)
    assert pr.head.label == "acme:dev"
    assert pr.user.login == "alice"
    assert pr.url == f"{emulator.url}/repos/acme/myapp/pulls/1"
    assert pr.html_url == f"{emulator.url}/acme/myapp/pull/1"
    assert pr.merged is False
    assert pr.commits == 1 and pr.changed_files == 1


def test_create_pull_without_commits_is_422_no_commits_between(as_alice: Github) -> None:
    with pytest.raises(GithubException) as err:
        _repo(as_alice).create_pull(base="staging", head="dev", title="nothing")
    assert err.value.status == 422
    assert err.value.data["message"] == "Validation Failed"
    assert err.value.data["errors"][0] == {
        "resource": "PullRequest",
        "code": "custom",
        "message": "No commits between staging and dev",
    }


def test_create_pull_twice_is_422_already_exists(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = _repo(as_alice)
    repo.create_pull(base="staging", head="dev", title="first")
    with pytest.raises(GithubException) as err:
        repo.create_pull(base="staging", head="acme:dev", title="second")
    assert err.value.status == 422
    assert err.value.data["errors"][0]["message"] == "A pull request already exists for acme:dev."


def test_create_pull_with_missing_branch_is_422(as_alice: Github) -> None:
    with pytest.raises(GithubException) as err:
        _repo(as_alice).create_pull(base="staging", head="nope", title="x")
    assert err.value.status == 422
    assert err.value.data["errors"][0] == {
        "resource": "PullRequest",
        "field": "head",
        "code": "invalid",
    }
    with pytest.raises(GithubException) as err:
        _repo(as_alice).create_pull(base="nope", head="dev", title="x")
    assert err.value.data["errors"][0]["field"] == "base"


def test_get_pulls_filters_by_state_base_and_owner_head(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    work.commit("staging", {"s.txt": "s\n"}, "staging change")
    repo = _repo(as_alice)
    to_staging = repo.create_pull(base="staging", head="dev", title="dev->staging")
    to_prod = repo.create_pull(base="prod", head="staging", title="staging->prod")
    assert [p.number for p in repo.get_pulls(state="open")] == [to_prod.number, to_staging.number]
    assert [p.number for p in repo.get_pulls(base="staging")] == [to_staging.number]
    assert [p.number for p in repo.get_pulls(head="acme:staging")] == [to_prod.number]
    assert [p.number for p in repo.get_pulls(head="someone:staging")] == []
    to_prod.edit(state="closed")
    assert [p.number for p in repo.get_pulls(state="closed")] == [to_prod.number]
    assert [p.number for p in repo.get_pulls(state="open")] == [to_staging.number]
    assert len(list(repo.get_pulls(state="all"))) == 2


def test_edit_pull_updates_title_body_and_state(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = _repo(as_alice).create_pull(base="staging", head="dev", title="old")
    pr.edit(title="new", body="rollback plan: revert")
    again = _repo(as_alice).get_pull(pr.number)
    assert (again.title, again.body) == ("new", "rollback plan: revert")
    again.edit(state="closed")
    assert _repo(as_alice).get_pull(pr.number).state == "closed"
    again.edit(state="open")
    assert _repo(as_alice).get_pull(pr.number).state == "open"


def _opened_and_settled(g: Github, emulator: GitHubEmulator) -> PullRequest:
    """A pull request dev -> staging, read again once GitHub has computed its mergeability."""
    number = _repo(g).create_pull(base="staging", head="dev", title="t").number
    settle(emulator)
    return _repo(g).get_pull(number)


def test_mergeable_state_is_clean_without_protection(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = _opened_and_settled(as_alice, emulator)
    assert (pr.mergeable, pr.mergeable_state) == (True, "clean")


def test_mergeable_state_is_dirty_on_a_real_conflict(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    work.commit("dev", {"base/deployment.yaml": "replicas: 3\n"}, "dev replicas")
    work.commit("staging", {"base/deployment.yaml": "replicas: 5\n"}, "staging replicas")
    pr = _opened_and_settled(as_alice, emulator)
    assert (pr.mergeable, pr.mergeable_state) == (False, "dirty")
    with pytest.raises(GithubException) as err:
        pr.merge()
    assert err.value.status == 405
    assert err.value.data["message"] == "Pull Request is not mergeable"


def test_mergeable_state_is_blocked_until_required_review_and_check(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.protect_branch(
        "staging", required_approving_review_count=1, required_status_checks=["ci"]
    )
    pr = _opened_and_settled(as_alice, emulator)
    assert (pr.mergeable, pr.mergeable_state) == (True, "blocked")
    with pytest.raises(GithubException) as err:
        pr.merge(sha=sha)
    assert err.value.status == 405
    assert (
        err.value.data["message"]
        == "At least 1 approving review is required by reviewers with write access."
    )
    _repo(as_bob).get_pull(pr.number).create_review(event="APPROVE")
    assert _repo(as_alice).get_pull(pr.number).mergeable_state == "blocked"
    with pytest.raises(GithubException) as err:
        pr.merge(sha=sha)
    assert err.value.data["message"] == 'Required status check "ci" is expected.'
    emulator.set_check(sha, "ci", "failure")
    with pytest.raises(GithubException) as err:
        pr.merge(sha=sha)
    assert err.value.data["message"] == 'Required status check "ci" is failing.'
    emulator.set_check(sha, "ci", "success")
    assert _repo(as_alice).get_pull(pr.number).mergeable_state == "clean"
    assert pr.merge(sha=sha).merged is True


def test_changes_requested_blocks_until_the_reviewer_approves(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.protect_branch("staging", required_approving_review_count=1)
    pr = _repo(as_alice).create_pull(base="staging", head="dev", title="t")
    settle(emulator)
    bob_pr = _repo(as_bob).get_pull(pr.number)
    bob_pr.create_review(event="REQUEST_CHANGES", body="no")
    assert _repo(as_alice).get_pull(pr.number).mergeable_state == "blocked"
    bob_pr.create_review(event="COMMENT", body="thinking")
    assert _repo(as_alice).get_pull(pr.number).mergeable_state == "blocked"
    bob_pr.create_review(event="APPROVE")
    assert _repo(as_alice).get_pull(pr.number).mergeable_state == "clean"


def test_mergeable_state_is_unstable_with_a_failing_optional_check(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.set_status(sha, "lint", "failure")
    pr = _opened_and_settled(as_alice, emulator)
    assert (pr.mergeable, pr.mergeable_state) == (True, "unstable")


def test_mergeable_state_is_behind_when_strict_checks_and_base_moved(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    work.commit("staging", {"other.txt": "x\n"}, "staging moved")
    emulator.protect_branch("staging", required_status_checks=["ci"], strict=True)
    emulator.set_check(sha, "ci", "success")
    pr = _opened_and_settled(as_alice, emulator)
    assert pr.mergeable_state == "behind"


def test_merge_with_sha_guard_merges_with_a_real_merge_commit(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = _repo(as_alice)
    staging_before = repo.get_branch("staging").commit.sha
    pr = repo.create_pull(base="staging", head="dev", title="Promote")
    assert pr.is_merged() is False
    status = pr.merge(sha=sha, commit_title="Promote dev to staging", merge_method="merge")
    assert status.merged is True
    assert status.message == "Pull Request successfully merged"
    merged = repo.get_commit("staging")
    assert merged.sha == status.sha
    assert [p.sha for p in merged.parents] == [staging_before, sha]
    assert merged.commit.message.startswith("Promote dev to staging\n\nPromote")
    assert pr.is_merged() is True
    after = repo.get_pull(pr.number)
    assert (after.state, after.merged, after.merge_commit_sha) == ("closed", True, status.sha)
    assert after.merged_by.login == "alice"
    assert after.mergeable_state == "unknown"
    with pytest.raises(GithubException) as err:
        after.merge()
    assert err.value.status == 405


def test_merge_with_a_stale_sha_is_409_and_merges_nothing(as_alice: Github, work: WorkTree) -> None:
    old = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = _repo(as_alice)
    pr = repo.create_pull(base="staging", head="dev", title="Promote")
    work.commit("dev", {"app.txt": "v3\n"}, "Sneaky change")
    staging = repo.get_branch("staging").commit.sha
    with pytest.raises(GithubException) as err:
        pr.merge(sha=old)
    assert err.value.status == 409
    assert err.value.data["message"] == "Head branch was modified. Review and try the merge again."
    assert repo.get_branch("staging").commit.sha == staging
    assert pr.is_merged() is False


def test_merge_of_a_closed_pull_is_405(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = _repo(as_alice).create_pull(base="staging", head="dev", title="Promote")
    pr.edit(state="closed")
    with pytest.raises(GithubException) as err:
        pr.merge()
    assert err.value.status == 405


def test_squash_and_rebase_merges_are_linear(as_alice: Github, work: WorkTree) -> None:
    repo = _repo(as_alice)
    work.commit("dev", {"a.txt": "a\n"}, "Add a")
    work.commit("dev", {"b.txt": "b\n"}, "Add b")
    staging = repo.get_branch("staging").commit.sha
    squash = repo.create_pull(base="staging", head="dev", title="Squash it").merge(
        merge_method="squash"
    )
    squashed = repo.get_commit(squash.sha)
    assert [p.sha for p in squashed.parents] == [staging]
    assert squashed.commit.message.startswith("Squash it (#1)")
    assert {f.filename for f in squashed.files} == {"a.txt", "b.txt"}
    prod = repo.get_branch("prod").commit.sha
    rebased = repo.create_pull(base="prod", head="dev", title="Rebase it").merge(
        merge_method="rebase"
    )
    commits = list(repo.get_commits(sha="prod"))
    assert commits[0].sha == rebased.sha
    assert [c.commit.message for c in commits[:2]] == ["Add b", "Add a"]
    assert commits[2].sha == prod
    assert commits[0].commit.author.email == "alice@example.com"


def test_merge_with_unknown_method_is_422(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = _repo(as_alice).create_pull(base="staging", head="dev", title="Promote")
    with pytest.raises(GithubException) as err:
        pr.merge(merge_method="octopus")
    assert err.value.status == 422
    assert err.value.data["message"] == "Validation Failed"


def test_pull_commits_and_files_list_what_the_merge_brings(
    as_alice: Github, work: WorkTree
) -> None:
    c1 = work.commit("dev", {"a.txt": "a\n"}, "Add a")
    c2 = work.commit("dev", {"b.txt": "b\n"}, "Add b")
    pr = _repo(as_alice).create_pull(base="staging", head="dev", title="Promote")
    assert [c.sha for c in pr.get_commits()] == [c1, c2]
    assert sorted(f.filename for f in pr.get_files()) == ["a.txt", "b.txt"]


def test_concurrent_merges_of_one_pull_merge_it_exactly_once(
    as_alice: Github, as_bob: Github, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    number = _repo(as_alice).create_pull(base="staging", head="dev", title="Promote").number
    pulls = [_repo(g).get_pull(number) for g in (as_alice, as_bob)]

    def merge(pr: PullRequest) -> int:
        try:
            pr.merge(sha=sha)
            return 200
        except GithubException as exc:
            return exc.status

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(merge, pulls))
    assert codes == [200, 405]
    staging = _repo(as_alice).get_commit("staging")
    assert [p.sha for p in staging.parents][1] == sha
    assert len(staging.parents) == 2
