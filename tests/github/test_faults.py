"""GitHub's failures on demand: the merge race, lost answers, outages, and both rate limits
with GitHub's statuses, bodies and headers, on the emulator's clock."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from github import Github, GithubException, RateLimitExceededException

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from sandbox.github.models import user_id
from tests.github.conftest import ALICE, WorkTree, client_for, git


def _pull(g: Github, work: WorkTree) -> tuple[int, str]:
    head = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    return g.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t").number, head


def test_the_base_branch_race_is_405_and_a_retry_merges(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    number, head = _pull(as_alice, work)
    emulator.faults.merge_race()
    pr = as_alice.get_repo("acme/myapp").get_pull(number)
    with pytest.raises(GithubException) as err:
        pr.merge(sha=head)
    assert err.value.status == 405
    assert err.value.data["message"] == "Base branch was modified. Review and try the merge again."
    assert as_alice.get_repo("acme/myapp").get_pull(number).merged is False
    assert pr.merge(sha=head).merged is True


def test_a_lost_merge_answer_drops_the_connection_but_the_merge_happened(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    number, head = _pull(as_alice, work)
    emulator.faults.lose_response()
    pr = as_alice.get_repo("acme/myapp").get_pull(number)
    with pytest.raises(requests.exceptions.ConnectionError):
        pr.merge(sha=head)
    again = as_alice.get_repo("acme/myapp").get_pull(number)
    assert again.merged is True  # a re-read shows it
    with pytest.raises(GithubException) as err:
        again.merge(sha=head)  # and a blind retry gets 405
    assert err.value.status == 405


def test_a_lost_merge_answer_can_be_a_502(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    number, head = _pull(as_alice, work)
    emulator.faults.lose_response(how="502")
    with pytest.raises(GithubException) as err:
        as_alice.get_repo("acme/myapp").get_pull(number).merge(sha=head)
    assert err.value.status == 502
    assert as_alice.get_repo("acme/myapp").get_pull(number).merged is True


def test_an_outage_answers_5xx_to_the_api_and_git_until_it_ends(
    as_alice: Github, emulator: GitHubEmulator, clock: ManualClock, tmp_path: Path
) -> None:
    emulator.faults.outage(120, status=503)
    with pytest.raises(GithubException) as err:
        as_alice.get_repo("acme/myapp")
    assert err.value.status == 503
    with pytest.raises(AssertionError, match="503"):
        git(tmp_path, "clone", "-q", emulator.clone_url, str(tmp_path / "c"))
    clock.advance(119)
    assert requests.get(f"{emulator.url}/user", timeout=5,
                        headers={"Authorization": f"token {ALICE.token}"}).status_code == 503
    clock.advance(1)
    assert as_alice.get_repo("acme/myapp").full_name == "acme/myapp"


def test_the_secondary_rate_limit_is_403_with_retry_after_and_no_budget_headers(
    as_alice: Github, emulator: GitHubEmulator, clock: ManualClock
) -> None:
    emulator.faults.secondary_rate_limit(seconds=60)
    response = requests.get(f"{emulator.url}/repos/acme/myapp", timeout=5,
                            headers={"Authorization": f"token {ALICE.token}"})
    assert response.status_code == 403
    assert response.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert "secondary-rate-limits" in response.json()["documentation_url"]
    assert response.headers["retry-after"] == "60"
    assert "x-ratelimit-remaining" not in response.headers
    with pytest.raises(RateLimitExceededException):
        as_alice.get_repo("acme/myapp")
    clock.advance(45)
    again = requests.get(f"{emulator.url}/repos/acme/myapp", timeout=5,
                         headers={"Authorization": f"token {ALICE.token}"})
    assert again.headers["retry-after"] == "15"
    clock.advance(15)
    assert as_alice.get_repo("acme/myapp").name == "myapp"


def test_the_secondary_rate_limit_can_be_a_429_with_a_fixed_retry_after(
    emulator: GitHubEmulator,
) -> None:
    emulator.faults.secondary_rate_limit(seconds=10, status=429, retry_after=60)
    response = requests.post(f"{emulator.url}/repos/acme/myapp/pulls", timeout=5, json={},
                             headers={"Authorization": f"token {ALICE.token}"})
    assert (response.status_code, response.headers["retry-after"]) == (429, "60")


@pytest.mark.parametrize("status", [403, 429])
def test_an_exhausted_primary_budget_answers_with_remaining_zero_until_the_reset(
    bare_repo: Path, status: int
) -> None:
    clock = ManualClock()
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE], rate_limit=3, clock=clock,
                        rate_limit_status=status) as emu:
        g = client_for(emu, ALICE.token)
        g.get_repo("acme/myapp")
        g.get_repo("acme/myapp").get_branch("dev")  # 3 requests: the budget is spent
        with pytest.raises(GithubException) as err:
            g.get_repo("acme/myapp")
        assert err.value.status == status
        assert err.value.data["message"].startswith(
            f"API rate limit exceeded for user ID {user_id('alice')}. ")
        headers = {k.lower(): v for k, v in err.value.headers.items()}
        assert headers["x-ratelimit-remaining"] == "0"
        assert headers["x-ratelimit-used"] == "3"
        reset = int(headers["x-ratelimit-reset"])
        assert reset == int(clock.now()) + 3600
        clock.advance(reset - clock.now())
        assert g.get_repo("acme/myapp").name == "myapp"
        assert g.rate_limiting == (2, 3)
