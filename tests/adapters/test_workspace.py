"""The Workspace port on real git (GitPython), against the GitHub emulator's smart HTTP: the
revert commit's parent and content, first-parent history, a moved branch refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.gitseed import run_git
from sandbox.world import BOT_GITHUB_TOKEN, World
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.adapters.workspace import GitWorkspace
from slackbot.errors import HeadMoved, MergeConflict
from tests.adapters.conftest import push

REPO = "acme/myapp"


@pytest.fixture
def workspace(world: World, tmp_path: Path) -> GitWorkspace:
    forge = GitHubForge(github_client(world.github.url, BOT_GITHUB_TOKEN, fast=True))
    return GitWorkspace(forge.clone_url, forge.token, root=tmp_path / "ws")


def tree(world: World, sha: str) -> str:
    return run_git("--git-dir", str(world.repo.path), "rev-parse", f"{sha}^{{tree}}")


def test_first_parent_history_lists_the_branch_heads_newest_first(
        world: World, workspace: GitWorkspace, tmp_path: Path) -> None:
    a = push(world, "dev", "a.txt", "a\n", "first", tmp_path)
    b = push(world, "dev", "b.txt", "b\n", "second", tmp_path)
    history = workspace.first_parent_history(REPO, "dev", 10)
    assert [c.sha for c in history] == [b, a, world.repo.sha]
    assert [c.message for c in history[:2]] == ["second", "first"]


def test_revert_to_pushes_a_child_of_the_head_with_the_targets_content(
        world: World, workspace: GitWorkspace, tmp_path: Path) -> None:
    before = push(world, "prod", "a.txt", "good\n", "good", tmp_path)
    bad = push(world, "prod", "a.txt", "bad\n", "bad", tmp_path)
    sha = workspace.revert_to(REPO, "prod", before, "Roll back prod")
    git_dir = str(world.repo.path)
    assert run_git("--git-dir", git_dir, "rev-parse", "refs/heads/prod") == sha
    assert run_git("--git-dir", git_dir, "rev-parse", f"{sha}^") == bad
    assert tree(world, sha) == tree(world, before)
    assert run_git("--git-dir", git_dir, "log", "-1", "--format=%an %s", sha) == (
        "promotebot Roll back prod")


def test_revert_to_a_new_branch_leaves_the_base_alone(
        world: World, workspace: GitWorkspace, tmp_path: Path) -> None:
    before = push(world, "staging", "a.txt", "good\n", "good", tmp_path)
    bad = push(world, "staging", "a.txt", "bad\n", "bad", tmp_path)
    sha = workspace.revert_to(REPO, "staging", before, "Roll back", new_branch="rollback/x")
    git_dir = str(world.repo.path)
    assert run_git("--git-dir", git_dir, "rev-parse", "refs/heads/staging") == bad
    assert run_git("--git-dir", git_dir, "rev-parse", "refs/heads/rollback/x") == sha


def test_a_branch_that_moved_is_never_overwritten(
        world: World, workspace: GitWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = push(world, "dev", "a.txt", "good\n", "good", tmp_path)
    push(world, "dev", "a.txt", "bad\n", "bad", tmp_path)
    real_fetch = workspace._fetch

    def fetch_then_someone_pushes(repo, branch):  # type: ignore[no-untyped-def]
        head = real_fetch(repo, branch)
        push(world, "dev", "c.txt", "c\n", "racing push", tmp_path)
        return head

    monkeypatch.setattr(workspace, "_fetch", fetch_then_someone_pushes)
    with pytest.raises(HeadMoved):
        workspace.revert_to(REPO, "dev", before, "Roll back dev")
    assert run_git("--git-dir", str(world.repo.path), "log", "-1", "--format=%s",
                   "refs/heads/dev") == "racing push"


def files_of(world: World, rev: str) -> dict[str, str]:
    git_dir = str(world.repo.path)
    names = run_git("--git-dir", git_dir, "ls-tree", "-r", "--name-only", rev).split()
    return {n: run_git("--git-dir", git_dir, "show", f"{rev}:{n}") for n in names
            if n.endswith(".txt")}


def test_apply_change_makes_a_revert_again_on_another_branch_keeping_its_own_work(
        world: World, workspace: GitWorkspace, tmp_path: Path) -> None:
    feature = push(world, "prod", "a.txt", "feature\n", "Feature A", tmp_path)
    revert = workspace.revert_to(REPO, "prod", world.repo.sha, "Roll back prod")
    push(world, "dev", "a.txt", "feature\n", "Feature A on dev", tmp_path)
    dev_work = push(world, "dev", "b.txt", "newer\n", "dev's own work", tmp_path)
    applied = workspace.apply_change(REPO, "dev", feature, revert, "Carry the revert down")
    assert applied is not None and applied.files == ("a.txt",)
    git_dir = str(world.repo.path)
    assert run_git("--git-dir", git_dir, "rev-parse", "refs/heads/dev") == applied.sha
    assert run_git("--git-dir", git_dir, "rev-parse", f"{applied.sha}^") == dev_work
    assert files_of(world, applied.sha) == {"b.txt": "newer"}  # A removed, dev's work kept
    # once there, applying it again changes nothing: None, and nothing pushed
    assert workspace.apply_change(REPO, "dev", feature, revert, "again") is None
    # undone: the change from the revert back to its parent brings A back as a new commit
    undo = workspace.apply_change(REPO, "dev", revert, feature, "Re-apply A")
    assert undo is not None and files_of(world, undo.sha) == {"a.txt": "feature",
                                                              "b.txt": "newer"}


def test_apply_change_that_conflicts_raises_and_pushes_nothing(
        world: World, workspace: GitWorkspace, tmp_path: Path) -> None:
    base = push(world, "prod", "a.txt", "one\n", "one", tmp_path)
    change = push(world, "prod", "a.txt", "two\n", "two", tmp_path)
    mine = push(world, "dev", "a.txt", "mine\n", "a different edit", tmp_path)
    with pytest.raises(MergeConflict):
        workspace.apply_change(REPO, "dev", base, change, "will not apply")
    assert run_git("--git-dir", str(world.repo.path), "rev-parse", "refs/heads/dev") == mine


def test_changes_lists_commits_without_merges_and_contains_checks_ancestry(
        world: World, workspace: GitWorkspace, tmp_path: Path) -> None:
    a = push(world, "dev", "a.txt", "a\n", "Feature A (ABC-1)", tmp_path)
    b = push(world, "dev", "b.txt", "b\n", "Feature B", tmp_path)
    found = workspace.changes(REPO, world.repo.sha, "dev")
    assert [(c.sha, c.message) for c in found] == [(a, "Feature A (ABC-1)"), (b, "Feature B")]
    assert workspace.contains(REPO, "dev", (a, b))
    assert not workspace.contains(REPO, "staging", (a,))
    assert workspace.contains(REPO, "staging", ())
