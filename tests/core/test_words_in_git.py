"""What the bot writes into GitHub reads as English: a count agrees with its noun, in the pull
request's title and in the gate lines of its status section."""

from __future__ import annotations

import pytest

from slackbot.plurals import counted, noun
from tests.core.conftest import DEVELOPER, World


@pytest.mark.parametrize(("ahead", "title"), [
    (1, "promote myapp to staging (1 commit)"),
    (3, "promote myapp to staging (3 commits)"),
])
def test_the_pull_request_title_counts_its_commits_in_english(world: World, ahead: int,
                                                              title: str) -> None:
    world.push_dev()
    world.forge.ahead[("staging", "dev")] = ahead
    promotion = world.core.commands.request("myapp", "staging", DEVELOPER)
    promotion = world.core.steps.advance(promotion.id)
    pull = world.forge.pulls[promotion.pr_number]
    assert world.forge.titles[pull.number] == f"{promotion.name}: {title}"
    assert f"### Commits ({ahead})" in pull.body


def test_the_status_section_agrees_with_how_many_reviews_are_needed(world: World) -> None:
    world.push_dev()
    promotion = world.core.steps.advance(
        world.core.commands.request("myapp", "staging", DEVELOPER).id)
    body = world.forge.pulls[promotion.pr_number].body
    assert "0 of 1 approving review" in body and "0 of 1 approving reviews" not in body


def test_the_helper_counts_one_none_and_many() -> None:
    assert [counted(n, "commit") for n in (0, 1, 2)] == ["0 commits", "1 commit", "2 commits"]
    assert noun(2, "person", "people") == "people" and noun(1, "person", "people") == "person"
