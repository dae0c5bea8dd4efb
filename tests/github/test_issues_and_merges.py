"""Issue comments and labels on pull requests, and server-side branch merges (POST /merges)."""

from __future__ import annotations

import pytest
from github import Github, GithubException

from tests.github.conftest import WorkTree


def test_issue_comments_are_posted_and_listed_by_their_authors(
    as_alice: Github, as_bob: Github, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    first = pr.create_issue_comment("Promotion requested by @alice")
    assert first.user.login == "alice"
    assert first.html_url.endswith(f"/acme/myapp/pull/{pr.number}#issuecomment-{first.id}")
    as_bob.get_repo("acme/myapp").get_pull(pr.number).create_issue_comment("Rollback plan: revert")
    comments = list(pr.get_issue_comments())
    assert [(c.user.login, c.body) for c in comments] == [
        ("alice", "Promotion requested by @alice"),
        ("bob", "Rollback plan: revert"),
    ]
    assert as_alice.get_repo("acme/myapp").get_pull(pr.number).comments == 2


def test_labels_are_added_listed_removed_and_cleared(as_alice: Github, work: WorkTree) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    pr.add_to_labels("promotion", "env:staging")
    pr.add_to_labels("promotion")
    assert [lab.name for lab in pr.get_labels()] == ["promotion", "env:staging"]
    assert [lab.name for lab in as_alice.get_repo("acme/myapp").get_pull(pr.number).labels] == [
        "promotion",
        "env:staging",
    ]
    pr.remove_from_labels("promotion")
    assert [lab.name for lab in pr.get_labels()] == ["env:staging"]
    with pytest.raises(GithubException) as err:
        pr.remove_from_labels("promotion")
    assert err.value.status == 404
    pr.delete_labels()
    assert list(pr.get_labels()) == []


def test_comments_on_an_unknown_issue_are_404(as_alice: Github) -> None:
    repo = as_alice.get_repo("acme/myapp")
    with pytest.raises(GithubException) as err:
        repo._requester.requestJsonAndCheck(
            "POST", f"{repo.url}/issues/99/comments", input={"body": "x"}
        )
    assert err.value.status == 404


def test_repo_merge_creates_a_merge_commit_201(as_alice: Github, work: WorkTree) -> None:
    prod_fix = work.commit("prod", {"hotfix.txt": "fix\n"}, "Hotfix on prod")
    repo = as_alice.get_repo("acme/myapp")
    staging = repo.get_branch("staging").commit.sha
    merged = repo.merge("staging", "prod", "Sync prod back into staging")
    assert merged is not None
    assert [p.sha for p in merged.parents] == [staging, prod_fix]
    assert merged.commit.message == "Sync prod back into staging"
    assert repo.get_branch("staging").commit.sha == merged.sha


def test_repo_merge_with_nothing_to_merge_is_204_none(as_alice: Github) -> None:
    repo = as_alice.get_repo("acme/myapp")
    before = repo.get_branch("staging").commit.sha
    assert repo.merge("staging", "prod") is None
    assert repo.get_branch("staging").commit.sha == before


def test_repo_merge_conflict_is_409_and_missing_branch_404(
    as_alice: Github, work: WorkTree
) -> None:
    work.commit("prod", {"base/deployment.yaml": "replicas: 9\n"}, "prod replicas")
    work.commit("staging", {"base/deployment.yaml": "replicas: 4\n"}, "staging replicas")
    repo = as_alice.get_repo("acme/myapp")
    with pytest.raises(GithubException) as err:
        repo.merge("staging", "prod")
    assert err.value.status == 409
    assert err.value.data["message"] == "Merge conflict"
    with pytest.raises(GithubException) as missing:
        repo.merge("nope", "prod")
    assert missing.value.status == 404
    with pytest.raises(GithubException) as missing_head:
        repo.merge("staging", "nope")
    assert missing_head.value.status == 404
