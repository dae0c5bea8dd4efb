"""What a promotion carries, on its record: the commits of the pinned head (subject, author,
ticket references), the count of changed files and the compare link; read from GitHub once
when the pull request opens and once more when its head moves, never per card render."""

from __future__ import annotations

import pytest

from slackbot import changes
from slackbot.adapters.redis_store import RedisStore
from slackbot.config import default_pipeline_text, parse_pipeline
from slackbot.events import EventKind
from slackbot.models import State
from slackbot.ports import CommitInfo
from tests.core.conftest import DEVELOPER, World, new_world


def _commits(world: World, count: int, prefix: str = "change") -> tuple[CommitInfo, ...]:
    return tuple(CommitInfo(f"{n:040x}", f"{prefix} {n}\n\nRefs OPS-{n}", "alice", login=True)
                 for n in range(1, count + 1))


def test_the_record_keeps_the_commits_tickets_and_compare_link_when_the_pull_opens(
        world: World) -> None:
    world.push_dev()
    world.forge.commit_lists[("staging", "dev")] = (
        CommitInfo("a" * 40, "PAY-12 fix the refund rounding\n\nalso touches BILL-7", "alice",
                   login=True),
        CommitInfo("b" * 40, "bump the chart", "Bob Smith"),
    )
    promotion = world.requested("staging")
    assert promotion.state is State.AWAITING_GATES
    listed = promotion.changes
    assert listed is not None
    assert [(c.subject, c.author, c.login, c.tickets) for c in listed.commits] == [
        ("PAY-12 fix the refund rounding", "alice", True, ("PAY-12", "BILL-7")),
        ("bump the chart", "Bob Smith", False, ()),
    ]
    assert (listed.total, listed.files, listed.head) == (2, 1, promotion.head_sha)
    assert listed.compare_url == (f"https://github.test/acme/myapp/compare/staging..."
                                  f"{promotion.head_sha}")
    assert listed.moved_from is None
    # the request's check that there is something to promote, then one comparison for the
    # pull request's body and the card; none per later step
    assert world.forge.compared.count(("staging", "dev")) == 2
    world.core.steps.advance(promotion.id)
    world.core.steps.advance(promotion.id)
    assert world.forge.compared.count(("staging", "dev")) == 2
    assert world.store.get(promotion.id).changes == listed  # the codec keeps it as it was


def test_a_new_head_reads_the_list_again_once_and_says_which_head_it_was(world: World) -> None:
    world.push_dev()
    promotion = world.requested("staging")
    old_head = promotion.head_sha
    new_head = world.push_dev()
    world.forge.commit_lists[("staging", "dev")] = _commits(world, 3)
    moved = world.core.steps.advance(promotion.id)
    assert moved.head_sha == new_head
    assert moved.changes is not None
    assert moved.changes.moved_from == old_head and moved.changes.head == new_head
    assert [c.subject for c in moved.changes.commits] == ["change 1", "change 2", "change 3"]
    assert world.forge.compared.count(("staging", "dev")) == 3  # request, opening, new head
    world.core.steps.advance(promotion.id)
    assert world.forge.compared.count(("staging", "dev")) == 3
    assert EventKind.HEAD_MOVED in [e.kind for e in world.store.events(promotion.id)]


def test_an_adopted_pull_request_gets_its_list_too(world: World) -> None:
    world.push_dev()
    first = world.requested("staging")
    world.core.commands.cancel(first.id, DEVELOPER)
    world.forge.commit_lists[("staging", "dev")] = _commits(world, 1)
    again = world.requested("staging")
    assert again.pr_number == first.pr_number  # the open pull request is adopted
    assert again.changes is not None and again.changes.total == 1


def test_only_the_newest_commits_are_kept_and_the_rest_counted(world: World) -> None:
    world.push_dev()
    world.forge.commit_lists[("staging", "dev")] = _commits(world, 60)
    listed = world.requested("staging").changes
    assert listed is not None
    assert len(listed.commits) == changes.KEPT and listed.total == 60
    assert listed.commits[-1].subject == "change 60" and listed.hidden == 60 - changes.KEPT


def test_an_apps_own_ticket_pattern_is_used(store: RedisStore) -> None:
    world = new_world(store, parse_pipeline(_pipeline_with("ticketPattern: '#[0-9]+'")))
    world.push_dev()
    world.forge.commit_lists[("staging", "dev")] = (
        CommitInfo("c" * 40, "fix the login (#42), not ABC-1", "carol"),)
    listed = world.requested("staging").changes
    assert listed is not None and listed.commits[0].tickets == ("#42",)


@pytest.mark.parametrize(("message", "found"), [
    ("ABC-123: fix", ("ABC-123",)),
    ("fix\n\nCloses ABC-1, ABC-1 and XY-22", ("ABC-1", "XY-22")),
    ("utf-8 and sha-256 are not tickets", ()),
    ("A-1 is too short a key", ()),
])
def test_default_ticket_references(message: str, found: tuple[str, ...]) -> None:
    assert changes.tickets(message) == found


def _pipeline_with(line: str) -> str:
    text = default_pipeline_text()
    marker = "    repository:"
    assert marker in text
    return text.replace(marker, f"    {line}\n{marker}", 1)
