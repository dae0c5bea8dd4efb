"""The card shows what is approved: the newest commits of the pinned head (subject, author,
tickets), the count of changed files and the compare link, collapsed within Block Kit's
limits; and, through the real Bolt app, the list on the card of a promotion."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from handlers import blocks, ids
from handlers.messages import changes as words
from slackbot.changes import Changes, CommitSummary
from slackbot.models import Kind, Promotion, State
from slackbot.pipeline import Gates
from slackbot.ports import CommitInfo
from tests.handlers.conftest import Edge

URL = "https://github.test/acme/myapp/compare/1111111...2222222"


def _record(listed: Changes) -> Promotion:
    return Promotion(1, Kind.PROMOTION, "myapp", "staging", "dev", "staging", "U1",
                     datetime(2026, 11, 25, 12, tzinfo=UTC), state=State.AWAITING_GATES,
                     head_sha="2" * 40, pr_number=7,
                     pr_url="https://github.test/acme/myapp/pull/7", changes=listed)


def _changes_block(message: dict) -> dict:
    return next(b for b in message["blocks"] if b.get("block_id") == ids.CARD_CHANGES)


def test_sixty_commits_fit_block_kits_limits_and_the_rest_is_behind_the_link() -> None:
    commits = tuple(CommitSummary(f"{n:040x}", f"change number {n} " + "x" * 300, "alice" * 30,
                                  True, ("OPS-1", "OPS-2", "OPS-3"))
                    for n in range(41, 61))  # the newest 20 the core keeps
    message = blocks.card(_record(Changes(commits, 60, 280, URL, "2" * 40)), [], Gates())
    block = _changes_block(message)
    text = block["text"]["text"]
    assert len(message["blocks"]) <= blocks.MESSAGE_BLOCKS_MAX
    assert len(text) <= blocks.SECTION_MAX
    parsed = Block.parse(block)
    assert parsed is not None
    parsed.validate_json()
    assert "60 commits, 280 files changed" in text
    assert text.count("• ") == words.SHOWN
    assert text.index("change number 60") < text.index("change number 59")  # newest first
    assert "change number 55" not in text
    assert f"…and {60 - words.SHOWN} more: <{URL}|see them all on GitHub>" in text


def test_a_hostile_subject_or_author_cannot_mention_link_or_broadcast() -> None:
    hostile = CommitSummary("a" * 40, "<!channel> see <https://evil.test|docs> & <@U999>",
                            "<!here>", False, ())
    text = _changes_block(blocks.card(_record(Changes((hostile,), 1, 1, URL, "2" * 40)), [],
                                      Gates()))["text"]["text"]
    assert "<!channel>" not in text and "<!here>" not in text and "<@U999>" not in text
    assert "<https://evil.test" not in text
    assert "&lt;!channel&gt; see &lt;https://evil.test|docs&gt; &amp; &lt;@U999&gt;" in text
    assert "(&lt;!here&gt;)" in text


def test_a_moved_head_is_said_and_a_ticket_only_in_the_body_is_added() -> None:
    commit = CommitSummary("a" * 40, "fix the refund rounding", "alice", True, ("PAY-12",))
    listed = Changes((commit,), 1, 2, URL, "2" * 40, moved_from="3" * 40)
    text = _changes_block(blocks.card(_record(listed), [], Gates()))["text"]["text"]
    assert "New head `2222222` (was `3333333`)" in text
    assert "• `aaaaaaa` fix the refund rounding `PAY-12` (alice)" in text
    assert "…and" not in text


def test_the_card_of_a_promotion_lists_its_commits(edge: Edge) -> None:
    edge.forge.commit_lists[("staging", "dev")] = (
        CommitInfo("d" * 40, "PAY-7 <b>bold</b> refunds", "alice", login=True),)
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    text = _changes_block(edge.card_of(1))["text"]["text"]
    assert "1 commit, 1 file changed" in text
    assert "• `ddddddd` PAY-7 &lt;b&gt;bold&lt;/b&gt; refunds (alice)" in text
    assert "/compare/staging..." in text
