"""The Forge port on the real PyGithub client, against the GitHub emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.world import BOT_GITHUB_TOKEN, World, person
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.errors import HeadMoved, NotMergeable
from tests.adapters.conftest import push

REPO = "acme/myapp"


@pytest.fixture
def forge(world: World) -> GitHubForge:
    return GitHubForge(github_client(world.github.url, BOT_GITHUB_TOKEN, fast=True))


def test_branch_head_and_compare_follow_a_push(world: World, forge: GitHubForge,
                                               tmp_path: Path) -> None:
    assert forge.branch_head(REPO, "dev") == world.repo.sha
    assert forge.compare(REPO, "staging", "dev").ahead_by == 0
    sha = push(world, "dev", "apps/myapp/NOTES.md", "hello\n", "Add notes", tmp_path)
    assert forge.branch_head(REPO, "dev") == sha
    comparison = forge.compare(REPO, "staging", "dev")
    assert comparison.ahead_by == 1
    assert [c.sha for c in comparison.commits] == [sha]
    assert comparison.commits[0].message == "Add notes"
    assert comparison.files == ("apps/myapp/NOTES.md",)
    assert comparison.merge_base == world.repo.sha  # where dev left staging: the seed


def test_open_find_and_adopt_a_pull_request(world: World, forge: GitHubForge,
                                            tmp_path: Path) -> None:
    sha = push(world, "dev", "a.txt", "a\n", "a", tmp_path)
    assert forge.find_open_pull(REPO, "staging", "dev") is None
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "body")
    assert (pull.base, pull.head, pull.head_sha, pull.state) == ("staging", "dev", sha, "open")
    assert forge.find_open_pull(REPO, "staging", "dev") == pull
    assert not pull.adopted
    again = forge.open_pull(REPO, "staging", "dev", "Promote again", "body")  # GitHub's 422
    assert again.number == pull.number and again.adopted
    forge.update_pull_body(REPO, pull.number, "new body")
    assert forge.get_pull(REPO, pull.number).body == "new body"


def test_checks_and_reviews_on_the_head(world: World, forge: GitHubForge, tmp_path: Path) -> None:
    sha = push(world, "dev", "b.txt", "b\n", "b", tmp_path)
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "")
    assert forge.check_states(REPO, sha) == {}
    world.github.set_check(sha, "ci", None, status="in_progress")
    assert forge.check_states(REPO, sha) == {"ci": "pending"}
    world.github.set_check(sha, "ci", "success")
    world.github.set_status(sha, "lint", "failure")
    assert forge.check_states(REPO, sha) == {"ci": "success", "lint": "failure"}
    reviewer = person("reviewer")
    github_as_reviewer = github_client(world.github.url, reviewer.github_token, fast=True)
    github_as_reviewer.get_repo(REPO).get_pull(pull.number).create_review(event="APPROVE")
    [review] = forge.reviews(REPO, pull.number)
    assert (review.user, review.state, review.commit_sha) == ("riley", "APPROVED", sha)


def test_merge_with_the_sha_guard(world: World, forge: GitHubForge, tmp_path: Path) -> None:
    first = push(world, "dev", "c.txt", "c\n", "c", tmp_path)
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "")
    push(world, "dev", "d.txt", "d\n", "d", tmp_path)  # the head moves after "approval"
    with pytest.raises(HeadMoved):
        forge.merge_pull(REPO, pull.number, first, "Promote")
    head = forge.get_pull(REPO, pull.number).head_sha
    merge_sha = forge.merge_pull(REPO, pull.number, head, "Promote")
    assert forge.branch_head(REPO, "staging") == merge_sha
    merged = forge.get_pull(REPO, pull.number)
    assert merged.merged and merged.merge_sha == merge_sha
    forge.comment(REPO, pull.number, "deployed")


def test_conflicting_pull_request_is_not_mergeable(world: World, forge: GitHubForge,
                                                   tmp_path: Path) -> None:
    push(world, "staging", "same.txt", "staging side\n", "staging edit", tmp_path)
    head = push(world, "dev", "same.txt", "dev side\n", "dev edit", tmp_path)
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "")
    with pytest.raises(NotMergeable):
        forge.merge_pull(REPO, pull.number, head, "Promote")


def test_fast_forward_moves_a_branch_only_forward(world: World, forge: GitHubForge,
                                                  tmp_path: Path) -> None:
    sha = push(world, "prod", "a.txt", "a\n", "a", tmp_path)
    assert forge.fast_forward(REPO, "staging", sha)  # staging was prod's ancestor
    assert forge.branch_head(REPO, "staging") == sha
    mine = push(world, "dev", "b.txt", "b\n", "dev's own work", tmp_path)
    assert not forge.fast_forward(REPO, "dev", sha)  # dev holds work prod lacks: never forced
    assert forge.branch_head(REPO, "dev") == mine


def test_compare_tells_content_from_commits(world: World, forge: GitHubForge,
                                            tmp_path: Path) -> None:
    sha = push(world, "prod", "a.txt", "a\n", "a", tmp_path)
    assert forge.compare(REPO, "staging", "prod").changes_content
    assert forge.merge_branch(REPO, "staging", sha, "Sync prod into staging") is not None
    # staging has a merge commit prod lacks, but no file prod lacks: nothing to promote
    comparison = forge.compare(REPO, "prod", "staging")
    assert comparison.ahead_by == 1 and not comparison.changes_content
    assert comparison.base_tree == comparison.head_tree


def test_compare_gives_the_oldest_commits_committer_time(world: World, forge: GitHubForge,
                                                         tmp_path: Path) -> None:
    from datetime import datetime

    from sandbox.gitseed import run_git

    assert forge.compare(REPO, "staging", "dev").first_commit_at is None  # nothing ahead
    first = push(world, "dev", "a.txt", "a\n", "a", tmp_path / "one")
    push(world, "dev", "b.txt", "b\n", "b", tmp_path / "two")
    clone = next((tmp_path / "one").iterdir())
    said = run_git("show", "-s", "--format=%cI", first, cwd=clone)
    found = forge.compare(REPO, "staging", "dev").first_commit_at
    assert found is not None and found.utcoffset() is not None
    assert found == datetime.fromisoformat(said)


def test_compare_names_the_head_it_compared(world: World, forge: GitHubForge,
                                            tmp_path: Path) -> None:
    # nothing ahead: the head is the merge base
    nothing = forge.compare(REPO, "staging", "dev")
    assert nothing.ahead_by == 0 and nothing.head_sha == world.repo.sha
    side = push(world, "prod", "side.txt", "side\n", "side", tmp_path)
    merge = forge.merge_branch(REPO, "dev", side, "Sync prod into dev")
    assert merge is not None
    comparison = forge.compare(REPO, "staging", "dev")
    assert comparison.ahead_by == 2 and {c.sha for c in comparison.commits} == {side, merge}
    assert comparison.head_sha == merge == forge.branch_head(REPO, "dev")


def test_the_head_is_the_commit_no_listed_commit_descends_from() -> None:
    from slackbot.adapters.github import _head

    def commit(sha: str, *parents: str) -> dict[str, object]:
        return {"sha": sha, "parents": [{"sha": p} for p in parents]}

    # listed out of history's order (GitHub lists by date, and clocks differ): still the tip
    listed = [commit("m", "a", "s"), commit("s", "base"), commit("a", "base")]
    assert _head(3, listed, "base") == "m"
    assert _head(0, [], "base") == "base"
    assert _head(300, listed, "base") == ""  # more ahead than listed: cannot tell


def test_the_body_the_bot_wrote_needs_no_read_until_someone_edits_it(
        world: World, tmp_path: Path) -> None:
    from slackbot.webhooks import Change, body_digest

    seen: list[str] = []
    forge = GitHubForge(github_client(world.github.url, BOT_GITHUB_TOKEN, fast=True),
                        trust_seconds=3600, observe=seen.append)
    sha = push(world, "dev", "e.txt", "e\n", "e", tmp_path)
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "opened")
    forge.update_pull_body(REPO, pull.number, "the bot's section")
    forge.merge_pull(REPO, pull.number, sha, "Promote")  # a merge leaves the body as it was
    seen.clear()
    assert forge.pull_body(REPO, pull.number) == "the bot's section"
    assert "sent" not in seen
    # someone edits the body on GitHub: its delivery makes the next rewrite read it first
    github_as_reviewer = github_client(world.github.url, person("reviewer").github_token,
                                       fast=True)
    github_as_reviewer.get_repo(REPO).get_pull(pull.number).edit(body="a person's words")
    forge.refresh(REPO, Change("pull_request", "edited", REPO, pulls=frozenset({pull.number}),
                               body=body_digest("a person's words")))
    assert forge.pull_body(REPO, pull.number) == "a person's words"
    assert seen.count("sent") == 1


def test_a_new_pull_request_has_no_reviews_to_read(world: World, tmp_path: Path) -> None:
    from slackbot.webhooks import Change

    seen: list[str] = []
    forge = GitHubForge(github_client(world.github.url, BOT_GITHUB_TOKEN, fast=True),
                        trust_seconds=3600, observe=seen.append)
    push(world, "dev", "f.txt", "f\n", "f", tmp_path)
    pull = forge.open_pull(REPO, "staging", "dev", "Promote", "")
    seen.clear()
    assert forge.reviews(REPO, pull.number) == [] and "sent" not in seen
    github_as_reviewer = github_client(world.github.url, person("reviewer").github_token,
                                       fast=True)
    github_as_reviewer.get_repo(REPO).get_pull(pull.number).create_review(event="APPROVE")
    forge.refresh(REPO, Change("pull_request_review", "submitted", REPO,
                               pulls=frozenset({pull.number})))
    assert [r.state for r in forge.reviews(REPO, pull.number)] == ["APPROVED"]
