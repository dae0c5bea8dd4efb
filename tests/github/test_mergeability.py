"""Mergeability as GitHub computes it: null for a moment after a pull request opens or either
of its branches moves, then the real answer with the test merge commit."""

from __future__ import annotations

from pathlib import Path

from github import Github

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from tests.github.conftest import ALICE, WorkTree, client_for, git, settle


def test_new_pull_request_is_null_then_computed_with_its_test_merge_commit(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    head = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = as_alice.get_repo("acme/myapp")
    created = repo.create_pull(base="staging", head="dev", title="Promote")
    assert (created.mergeable, created.mergeable_state) == (None, "unknown")
    assert repo.get_pull(created.number).mergeable is None  # still computing
    settle(emulator)
    pr = repo.get_pull(created.number)
    assert (pr.mergeable, pr.mergeable_state) == (True, "clean")
    test_merge = repo.get_commit(pr.merge_commit_sha)
    staging = repo.get_branch("staging").commit.sha
    assert [p.sha for p in test_merge.parents] == [staging, head]
    assert git(work.path, "ls-remote", "origin", f"refs/pull/{pr.number}/merge").startswith(
        pr.merge_commit_sha
    )


def test_a_push_to_the_head_or_the_base_makes_it_null_again(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    repo = as_alice.get_repo("acme/myapp")
    number = repo.create_pull(base="staging", head="dev", title="Promote").number
    settle(emulator)
    assert repo.get_pull(number).mergeable is True
    work.commit("dev", {"app.txt": "v3\n"}, "Another change")
    assert repo.get_pull(number).mergeable_state == "unknown"
    settle(emulator)
    first = repo.get_pull(number)
    assert first.mergeable is True
    work.commit("staging", {"app.txt": "staging edit\n"}, "Conflicting edit on staging")
    assert repo.get_pull(number).mergeable is None
    settle(emulator)
    assert (repo.get_pull(number).mergeable, repo.get_pull(number).mergeable_state) == (
        False,
        "dirty",
    )


def test_a_merge_while_mergeability_is_computed_goes_ahead(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    head = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    assert pr.mergeable is None
    assert pr.merge(sha=head).merged is True


def test_the_moment_is_configurable_and_zero_means_at_once(bare_repo: Path, tmp_path: Path) -> None:
    clock = ManualClock()
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE], clock=clock,
                        mergeability_delay=30) as slow:
        WorkTree(tmp_path / "w1", bare_repo).commit("dev", {"a.txt": "a\n"}, "a")
        g = client_for(slow, ALICE.token)
        repo = g.get_repo("acme/myapp")
        number = repo.create_pull(base="staging", head="dev", title="t").number
        clock.advance(29)
        assert repo.get_pull(number).mergeable is None
        clock.advance(1)
        assert repo.get_pull(number).mergeable is True
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE], clock=clock,
                        mergeability_delay=0) as quick:
        g = client_for(quick, ALICE.token)
        repo = g.get_repo("acme/myapp")
        number = repo.create_pull(base="prod", head="dev", title="t").number
        assert repo.get_pull(number).mergeable is True
