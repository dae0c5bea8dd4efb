"""Names that cannot be confused (issue 15, point 6), through the real bot on the emulated
world: records are P-12, R-3, H-2 in Slack, in pull request titles and bodies and in merge
commits, `#N` only ever a pull request; the pull request lists commits with their authors and
the tickets their messages name, and keeps one promotebot section up to date with the gates,
approvals and reviews by name, the failure, and the deploy."""

from __future__ import annotations

from handlers import ids
from sandbox.gitseed import run_git
from slackbot.engine.writing import SECTION_START
from slackbot.models import State
from tests.e2e.conftest import DEV, Live, card_actions, wait_for
from tests.e2e.story import promote_prod, push_files
from tests.e2e.test_incidents import ephemeral


def test_records_and_pull_requests_have_names_of_their_own(live: Live) -> None:
    first = push_files(live, "staging", {"apps/myapp/NOTES.md": "one\n"},
                       "Faster checkout (ABC-123)\n\nCloses #45 and acme/myapp#46.")
    push_files(live, "staging", {"apps/myapp/MORE.md": "two\n"}, "Tidy the config (UTF-8 only)")
    live.wait_deployed("staging", live.bot.forge.branch_head("acme/myapp", "staging"))
    record = promote_prod(live)
    name = record.name
    assert name == f"P-{record.id}"
    pull = live.world.github.pull_request(record.pr_number)
    assert pull["title"] == f"{name}: promote myapp to prod (2 commits)"
    body = wait_for(lambda: (b := live.world.github.pull_request(record.pr_number)["body"])
                    and f"### promotebot: {name} is deployed" in b and b,
                    "the pull request's section to say it deployed")
    assert f"Promotion {name} of `myapp` from `staging` to `prod`, requested by dana" in body
    assert f"- {first[:7]} Faster checkout (ABC-123) (@dana)" in body, body
    assert "### Tickets (3)\n- ABC-123\n- #45\n- acme/myapp#46\n" in body  # not UTF-8
    assert body.count(SECTION_START) == 1  # one section, rewritten in place
    assert "- [x] 1 of 1 approving review (@riley)" in body
    assert "- [x] 1 of 1 stakeholder approval (sam)" in body
    assert "- [x] rollback plan written" in body
    assert f"Deployed: `prod` applied prod@{record.merge_sha[:7]} and rolled out." in body
    assert "U0" not in body  # Slack ids never reach GitHub
    subject = run_git("--git-dir", str(live.world.repo.path), "log", "-1", "--format=%s",
                      record.merge_sha)
    assert subject == (f"Promote myapp to prod ({record.short_sha}) [{name}] "
                       f"(#{record.pr_number})")  # GitHub links #N: the pull request itself
    assert live.card(record.id)["blocks"][0]["text"]["text"] == f"Promotion {name}: myapp → prod"

    live.command(DEV, f"/promote cancel #{record.pr_number}")
    ephemeral(live, DEV, f"`#{record.pr_number}` is how GitHub names a pull request")
    live.command(DEV, f"/promote cancel H-{record.id}")
    ephemeral(live, DEV, f"there is no H-{record.id}: record {record.id} is {name}, a promotion")


def test_the_pull_request_says_why_a_promotion_failed(live: Live) -> None:
    change = push_files(live, "dev", {"apps/myapp/NOTES.md": "three\n"}, "Notes (OPS-9)")
    live.wait_deployed("dev", change)
    live.command(DEV, "/promote staging")
    record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    live.world.github.set_check(record.head_sha, "ci", "failure")
    failed = live.wait_state(record.id, State.FAILED)
    assert failed.merge_sha is None and failed.name == f"P-{failed.id}"
    body = wait_for(lambda: (b := live.world.github.pull_request(failed.pr_number)["body"])
                    and f"### promotebot: {failed.name} is failed" in b and b,
                    "the pull request's section to say it failed")
    assert "- Notes (OPS-9) (@dana)" in body.replace(f"{change[:7]} ", "")
    assert "### Tickets (1)\n- OPS-9\n" in body
    assert "- [!] check `ci`: failed" in body and "\nFailed (ci)" in body, body
    assert "Merged as" not in body and "Deployed:" not in body
    assert body.count(SECTION_START) == 1
    # nothing merged, so nothing to roll back: the card offers Retry, and no Rollback
    card = wait_for(lambda: ids.RETRY in (a := card_actions(live.card(failed.id))) and a,
                    "the failed card's buttons")
    assert ids.ROLLBACK not in card
