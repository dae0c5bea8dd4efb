"""Repository, branches, refs, commits and compare through the real PyGithub client."""

from __future__ import annotations

import pytest
from github import Github, GithubException, UnknownObjectException

from sandbox.github import GitHubEmulator
from tests.github.conftest import OWNER, REPO, WorkTree


def test_get_repo_returns_urls_pointing_at_the_emulator(
    as_alice: Github, emulator: GitHubEmulator
) -> None:
    repo = as_alice.get_repo(f"{OWNER}/{REPO}")
    assert repo.full_name == "acme/myapp"
    assert repo.url == f"{emulator.url}/repos/acme/myapp"
    assert repo.clone_url == f"{emulator.url}/acme/myapp.git"
    assert repo.default_branch == "main"
    assert repo.owner.login == "acme"


def test_get_user_returns_the_tokens_user(as_alice: Github, as_bob: Github) -> None:
    assert as_alice.get_user().login == "alice"
    assert as_bob.get_user().login == "bob"


def test_unknown_repository_is_not_found(as_alice: Github) -> None:
    with pytest.raises(UnknownObjectException):
        as_alice.get_repo("acme/other")


def test_branches_list_and_get_report_head_and_protection(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.protect_branch("staging", required_approving_review_count=1)
    repo = as_alice.get_repo("acme/myapp")
    branches = {b.name: b for b in repo.get_branches()}
    assert set(branches) == {"main", "dev", "staging", "prod"}
    assert branches["dev"].commit.sha == sha
    assert branches["staging"].protected is True
    assert branches["dev"].protected is False
    dev = repo.get_branch("dev")
    assert dev.commit.sha == sha
    assert dev.commit.commit.message == "Bump app"
    assert dev.protection_url == f"{emulator.url}/repos/acme/myapp/branches/dev/protection"
    with pytest.raises(UnknownObjectException):
        repo.get_branch("nope")


def test_branch_protection_set_through_the_api_is_read_back(as_alice: Github) -> None:
    branch = as_alice.get_repo("acme/myapp").get_branch("staging")
    with pytest.raises(GithubException) as missing:
        branch.get_protection()
    assert missing.value.status == 404
    assert missing.value.data["message"] == "Branch not protected"
    branch.edit_protection(required_approving_review_count=2, contexts=["ci/build"], strict=True)
    branch = as_alice.get_repo("acme/myapp").get_branch("staging")
    assert branch.protected is True
    protection = branch.get_protection()
    assert protection.required_status_checks.contexts == ["ci/build"]
    assert protection.required_status_checks.strict is True
    reviews = branch.get_required_pull_request_reviews()
    assert reviews.required_approving_review_count == 2
    branch.remove_protection()
    assert as_alice.get_repo("acme/myapp").get_branch("staging").protected is False


def test_git_refs_get_create_update_and_delete(as_alice: Github, work: WorkTree) -> None:
    repo = as_alice.get_repo("acme/myapp")
    dev = repo.get_git_ref("heads/dev")
    assert dev.ref == "refs/heads/dev"
    ref = repo.create_git_ref("refs/heads/hotfix/x", dev.object.sha)
    assert ref.object.sha == dev.object.sha
    assert repo.get_branch("hotfix/x").commit.sha == dev.object.sha
    with pytest.raises(GithubException) as exists:
        repo.create_git_ref("refs/heads/hotfix/x", dev.object.sha)
    assert exists.value.status == 422
    assert exists.value.data["message"] == "Reference already exists"
    newer = work.commit("dev", {"a.txt": "a\n"}, "Add a")
    ref.edit(newer)
    assert repo.get_git_ref("heads/hotfix/x").object.sha == newer
    with pytest.raises(GithubException) as not_ff:
        ref.edit(dev.object.sha)
    assert not_ff.value.status == 422
    assert not_ff.value.data["message"] == "Update is not a fast forward"
    ref.edit(dev.object.sha, force=True)
    assert repo.get_branch("hotfix/x").commit.sha == dev.object.sha
    ref.delete()
    with pytest.raises(UnknownObjectException):
        repo.get_git_ref("heads/hotfix/x")


def test_get_commit_by_sha_and_branch_gives_files_and_parents(
    as_alice: Github, work: WorkTree
) -> None:
    parent = work.commit("dev", {"a.txt": "one\ntwo\n"}, "Add a")
    sha = work.commit("dev", {"a.txt": "one\n2\n", "README.md": None}, "Change a, drop readme")
    repo = as_alice.get_repo("acme/myapp")
    for ref in (sha, "dev", "heads/dev"):
        commit = repo.get_commit(ref)
        assert commit.sha == sha
    assert [p.sha for p in commit.parents] == [parent]
    assert commit.commit.author.email == "alice@example.com"
    assert commit.author.login == "alice"
    files = {f.filename: f for f in commit.files}
    assert files["a.txt"].status == "modified"
    assert (files["a.txt"].additions, files["a.txt"].deletions, files["a.txt"].changes) == (1, 1, 2)
    assert "+2" in files["a.txt"].patch
    assert files["README.md"].status == "removed"
    assert commit.url.endswith(f"/repos/acme/myapp/commits/{sha}")


def test_get_commits_filters_by_sha(as_alice: Github, work: WorkTree) -> None:
    first = work.commit("dev", {"a.txt": "1\n"}, "one")
    second = work.commit("dev", {"a.txt": "2\n"}, "two")
    repo = as_alice.get_repo("acme/myapp")
    dev_shas = [c.sha for c in repo.get_commits(sha="dev")]
    assert dev_shas[:2] == [second, first]
    assert first not in [c.sha for c in repo.get_commits(sha="staging")]


def test_compare_reports_ahead_behind_commits_and_files(as_alice: Github, work: WorkTree) -> None:
    c1 = work.commit("dev", {"overlays/dev/app.yaml": "image: 1.1\n"}, "Bump dev image")
    c2 = work.commit(
        "dev", {"base/deployment.yaml": "replicas: 2\nimage: myapp:1.0.0\n"}, "Two replicas"
    )
    s1 = work.commit("staging", {"staging.txt": "s\n"}, "Staging only")
    repo = as_alice.get_repo("acme/myapp")
    cmp = repo.compare("staging", "dev")
    assert cmp.status == "diverged"
    assert (cmp.ahead_by, cmp.behind_by, cmp.total_commits) == (2, 1, 2)
    assert [c.sha for c in cmp.commits] == [c1, c2]
    files = {f.filename: f for f in cmp.files}
    assert set(files) == {"overlays/dev/app.yaml", "base/deployment.yaml"}
    assert files["overlays/dev/app.yaml"].status == "added"
    assert files["base/deployment.yaml"].patch.startswith("@@")
    assert cmp.merge_base_commit.sha != s1
    assert cmp.base_commit.sha == s1
    assert cmp.url.endswith("/repos/acme/myapp/compare/staging...dev")
    assert repo.compare("prod", "prod").status == "identical"
    assert repo.compare("dev", "main").status == "behind"
    assert repo.compare("main", "dev").status == "ahead"
    with pytest.raises(UnknownObjectException):
        repo.compare("main", "nope")
