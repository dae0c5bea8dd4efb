"""Transport contract: auth, rate-limit headers, errors and pagination (requests, PyGithub)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from github import Auth, BadCredentialsException, Github

from sandbox.github import GitHubEmulator
from tests.github.conftest import ALICE, WorkTree


def _auth(token: str = ALICE.token, scheme: str = "token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def test_missing_or_bad_token_is_401_bad_credentials(emulator: GitHubEmulator) -> None:
    for headers in ({}, _auth("wrong"), {"Authorization": "Basic abc"}):
        response = requests.get(f"{emulator.url}/repos/acme/myapp", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["message"] == "Bad credentials"
        assert "documentation_url" in response.json()
    g = Github(
        auth=Auth.Token("wrong"),
        base_url=emulator.url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    with pytest.raises(BadCredentialsException):
        g.get_repo("acme/myapp")
    g.close()


def test_bearer_and_token_schemes_both_authenticate(emulator: GitHubEmulator) -> None:
    for scheme in ("token", "Bearer"):
        response = requests.get(f"{emulator.url}/user", headers=_auth(scheme=scheme), timeout=5)
        assert response.status_code == 200
        assert response.json()["login"] == "alice"


def test_every_response_carries_rate_limit_headers(
    emulator: GitHubEmulator, as_alice: Github
) -> None:
    ok = requests.get(f"{emulator.url}/repos/acme/myapp", headers=_auth(), timeout=5)
    missing = requests.get(f"{emulator.url}/repos/acme/myapp/pulls/42", headers=_auth(), timeout=5)
    for response in (ok, missing):
        assert response.headers["x-ratelimit-limit"] == "5000"
        assert response.headers["x-ratelimit-resource"] == "core"
        assert int(response.headers["x-ratelimit-reset"]) > time.time()
    assert (
        int(ok.headers["x-ratelimit-remaining"]) - int(missing.headers["x-ratelimit-remaining"])
        == 1
    )
    assert int(missing.headers["x-ratelimit-used"]) == 2
    as_alice.get_repo("acme/myapp")
    remaining, limit = as_alice.rate_limiting
    assert (remaining, limit) == (4997, 5000)
    assert as_alice.rate_limiting_resettime > time.time()
    overview = as_alice.get_rate_limit()
    assert overview.resources.core.limit == 5000
    assert overview.resources.core.remaining == 4997


def test_exhausted_rate_limit_is_403_rate_limit_exceeded(bare_repo: Path) -> None:
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE], rate_limit=2) as emu:
        codes = [
            requests.get(f"{emu.url}/user", headers=_auth(), timeout=5).status_code
            for _ in range(3)
        ]
        last = requests.get(f"{emu.url}/user", headers=_auth(), timeout=5)
    assert codes == [200, 200, 403]
    assert last.json()["message"].startswith("API rate limit exceeded")
    assert last.headers["x-ratelimit-remaining"] == "0"


def test_unknown_endpoint_is_404_not_found(emulator: GitHubEmulator) -> None:
    for method, path in (
        ("GET", "/repos/acme/myapp/wat"),
        ("POST", "/nothing"),
        ("DELETE", "/repos/acme/myapp"),
    ):
        response = requests.request(method, f"{emulator.url}{path}", headers=_auth(), timeout=5)
        assert response.status_code == 404
        assert response.json()["message"] == "Not Found"
        assert response.json()["documentation_url"].startswith("https://docs.github.com")


def test_malformed_json_body_is_400_problems_parsing_json(emulator: GitHubEmulator) -> None:
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        response = requests.post(
            f"{emulator.url}/repos/acme/myapp/pulls", data=body, headers=_auth(), timeout=5
        )
        assert response.status_code == 400
        assert response.json()["message"] == "Problems parsing JSON"


def test_invalid_arguments_are_422_validation_failed_with_errors(emulator: GitHubEmulator) -> None:
    response = requests.post(
        f"{emulator.url}/repos/acme/myapp/pulls",
        json={"base": "staging"},
        headers=_auth(),
        timeout=5,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"] == [{"resource": "PullRequest", "field": "head", "code": "missing_field"}]
    wrong_type = requests.post(
        f"{emulator.url}/repos/acme/myapp/pulls",
        json={"base": 1, "head": "dev", "title": "x"},
        headers=_auth(),
        timeout=5,
    )
    assert wrong_type.status_code == 422


def test_server_survives_hostile_requests(emulator: GitHubEmulator) -> None:
    junk = [
        ("GET", "/repos/acme/myapp/pulls/99999999999999999999"),
        ("GET", "/repos/acme/myapp/commits/--output=x"),
        ("GET", "/repos/acme/myapp/compare/..."),
        ("PATCH", "/repos/acme/myapp/git/refs/heads/dev"),
        ("PUT", "/repos/acme/myapp/pulls/1/merge"),
        ("GET", "/repos/acme/myapp/pulls?per_page=abc"),
    ]
    for method, path in junk:
        response = requests.request(method, f"{emulator.url}{path}", headers=_auth(), timeout=5)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert "message" in response.json()
    assert requests.get(f"{emulator.url}/user", headers=_auth(), timeout=5).status_code == 200


def test_lists_paginate_with_link_headers_pygithub_follows(
    as_alice: Github, work: WorkTree
) -> None:
    for n in range(35):
        work.branch(f"feature/{n:02d}", "main")
    repo = as_alice.get_repo("acme/myapp")
    response = requests.get(
        f"{repo.url}/branches", headers=_auth(), params={"per_page": 10}, timeout=5
    )
    assert len(response.json()) == 10
    assert 'rel="next"' in response.headers["Link"]
    assert len(list(repo.get_branches())) == 39


def test_internal_failure_is_a_json_500_and_the_server_keeps_serving(
    emulator: GitHubEmulator, bare_repo: Path
) -> None:
    hidden = bare_repo.with_name("moved.git")
    bare_repo.rename(hidden)
    try:
        broken = requests.get(
            f"{emulator.url}/repos/acme/myapp/branches", headers=_auth(), timeout=5
        )
    finally:
        hidden.rename(bare_repo)
    assert broken.status_code == 500
    assert broken.json()["message"] == "Server Error"
    healed = requests.get(f"{emulator.url}/repos/acme/myapp/branches", headers=_auth(), timeout=5)
    assert healed.status_code == 200
