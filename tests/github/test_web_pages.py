"""The emulator's web pages: with `web_pages=True` (the sandbox's setting) the `html_url`s the
API hands out open readable HTML without a token, showing what GitHub's pages show (title,
body rendered, state, head and base, commits, checks, reviews, comments); the REST API keeps
asking for a token, and without `web_pages` nothing changes at all."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Github

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from tests.github.conftest import ALICE, BOB, BOT, CAROL, OWNER, REPO, WorkTree, client_for

BODY = """Promote dev to staging.

<!-- promotebot:plan -->
### Rollback plan

1. run `/rollback staging`
2. check the pods:

```
kubectl -n staging get pods <all>
```
<!-- /promotebot:plan -->"""


@pytest.fixture
def pages(bare_repo: Path, clock: ManualClock) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(bare_repo, OWNER, REPO, [ALICE, BOB, CAROL, BOT], clock=clock,
                        web_pages=True) as emu:
        yield emu


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], refused.read().decode()


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def opened_pull(emulator: GitHubEmulator, work: WorkTree) -> tuple[Github, int, str]:
    head = work.commit("dev", {"base/deployment.yaml": "replicas: 2\nimage: myapp:1.0.1\n"},
                       "Release myapp 1.0.1")
    bot = client_for(emulator, BOT.token)
    repo = bot.get_repo(f"{OWNER}/{REPO}")
    pull = repo.create_pull(title="P-1: promote myapp to staging", body=BODY,
                            head="dev", base="staging")
    pull.create_issue_comment("promotebot: P-1 is **awaiting gates**")
    repo.get_commit(head).create_status("success", context="ci", description="all green")
    client_for(emulator, BOB.token).get_repo(f"{OWNER}/{REPO}").get_pull(
        pull.number).create_review(event="APPROVE", body="Looks good")
    return bot, pull.number, head


def test_a_pull_requests_html_url_is_a_readable_page_without_a_token(
        pages: GitHubEmulator, work: WorkTree) -> None:
    bot, number, head = opened_pull(pages, work)
    pull = bot.get_repo(f"{OWNER}/{REPO}").get_pull(number)
    status, kind, page = get(pull.html_url)
    assert status == 200 and kind.startswith("text/html")
    shown = text_of(page)
    assert "P-1: promote myapp to staging #1" in shown
    assert "Open" in shown and "into staging from dev" in shown
    # the body as Markdown: headings, an ordered list, inline and fenced code, no comments
    assert "<h3>Rollback plan</h3>" in page
    assert "<ol><li>run <code>/rollback staging</code></li>" in page
    assert "<pre><code>kubectl -n staging get pods &lt;all&gt;</code></pre>" in page
    assert "promotebot:plan" not in page
    # commits, the check, the review and the bot's comment, each where GitHub's anchors say
    assert head[:7] in shown and "Release myapp 1.0.1" in shown
    assert "ci success: all green" in shown
    assert "bob approved these changes" in shown and "Looks good" in shown
    comment = pull.get_issue_comments()[0]
    anchor = comment.html_url.split("#", 1)[1]
    assert f'id="{anchor}"' in page
    assert "promotebot: P-1 is <strong>awaiting gates</strong>" in page


def test_commit_compare_and_repository_pages(pages: GitHubEmulator, work: WorkTree) -> None:
    bot, number, head = opened_pull(pages, work)
    repo = bot.get_repo(f"{OWNER}/{REPO}")
    status, _, page = get(repo.get_commit(head).html_url)
    assert status == 200
    assert "Release myapp 1.0.1" in text_of(page) and "image: myapp:1.0.1" in page
    status, _, page = get(repo.compare("staging", head).html_url)
    assert status == 200 and "Commits (1)" in text_of(page)
    status, _, page = get(repo.html_url)
    assert status == 200 and f"#{number} P-1: promote myapp to staging" in text_of(page)
    status, kind, page = get(f"{repo.html_url}/pull/99")
    assert status == 404 and kind.startswith("text/html") and "no pull request #99" in page


def test_the_rest_api_still_asks_for_a_token(pages: GitHubEmulator, work: WorkTree) -> None:
    _, number, _ = opened_pull(pages, work)
    status, kind, page = get(f"{pages.url}/repos/{OWNER}/{REPO}/pulls/{number}")
    assert status == 401 and kind.startswith("application/json") and "Bad credentials" in page


def test_without_web_pages_an_html_url_answers_as_before(
        emulator: GitHubEmulator, work: WorkTree) -> None:
    _, number, _ = opened_pull(emulator, work)
    status, kind, page = get(f"{emulator.url}/{OWNER}/{REPO}/pull/{number}")
    assert status == 401 and kind.startswith("application/json") and "Bad credentials" in page
