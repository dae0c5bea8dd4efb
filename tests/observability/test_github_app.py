"""GitHub App auth against the emulator, end to end: PyGithub signs the App's JWT with a key
made here, trades it for an installation token, and the REST API accepts that token; the
running bot works the same way from GITHUB_APP_* settings."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth

from promotebot.wiring import Tuning, build
from sandbox.github import GitHubEmulator, GitHubUser
from sandbox.gitseed import run_git, seed_repository
from sandbox.world import World
from slackbot import logs
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.config import load_pipeline
from slackbot.errors import ForgeError, SettingsError
from slackbot.settings import load_settings
from tests.waiting import wait_for

APP_ID, INSTALLATION = 90210, 4242001


def _key() -> tuple[str, str]:
    """A fresh RSA key pair: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


KEY, PUBLIC = _key()


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubEmulator]:
    seeded = seed_repository(tmp_path / "myapp.git")
    with GitHubEmulator(seeded.path, "acme", "myapp",
                        [GitHubUser("dana", "ghp_sandbox_dana", "dana")]) as emulator:
        yield emulator


def _call(url: str, method: str, authorization: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None,
                                     headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_github_client_as_app_installation_reads_and_writes_as_the_app(
        github: GitHubEmulator, tmp_path: Path) -> None:
    installation = github.install_app(APP_ID, PUBLIC, INSTALLATION)
    client = github_client(github.url, app_id=APP_ID, private_key=KEY,
                           installation_id=INSTALLATION, fast=True)
    forge = GitHubForge(client)
    work = tmp_path / "work"
    run_git("clone", "--quiet", "--branch", "dev", github.clone_url, str(work))
    (work / "CHANGELOG.md").write_text("- via an installation token\n")
    run_git("add", "--all", cwd=work)
    run_git("-c", "user.name=dana", "-c", "user.email=dana@example.com", "commit", "--quiet",
            "-m", "Change", cwd=work)
    run_git("push", "--quiet", "origin", "dev", cwd=work)
    head = run_git("rev-parse", "HEAD", cwd=work)

    assert forge.ping()
    assert forge.branch_head("acme/myapp", "dev") == head
    pull = forge.open_pull("acme/myapp", "staging", "dev", "Promote", "body")
    assert pull.author == "promotebot[bot]"  # the App's own identity on the PR
    assert forge.token().startswith("ghs_")
    assert installation.minted == 1  # one token, reused while it is valid

    # GET /app with the App's JWT (not an installation token) names the App.
    status, app = _call(f"{github.url}/app", "GET",
                        f"Bearer {Auth.AppAuth(APP_ID, KEY).create_jwt()}")
    assert (status, app["id"], app["slug"]) == (200, APP_ID, "promotebot")


def test_app_jwt_from_another_key_or_an_installation_token_is_refused(
        github: GitHubEmulator) -> None:
    github.install_app(APP_ID, PUBLIC, INSTALLATION)
    stranger, _ = _key()
    forge = GitHubForge(github_client(github.url, app_id=APP_ID, private_key=stranger,
                                      installation_id=INSTALLATION, fast=True))
    with pytest.raises(ForgeError, match="401"):
        forge.branch_head("acme/myapp", "dev")
    wrong_app = Auth.AppAuth(APP_ID + 1, KEY).create_jwt()
    assert _call(f"{github.url}/app", "GET", f"Bearer {wrong_app}")[0] == 401
    tokens = f"{github.url}/app/installations/{INSTALLATION}/access_tokens"
    jwt = Auth.AppAuth(APP_ID, KEY).create_jwt()
    assert _call(tokens.replace(str(INSTALLATION), "1"), "POST", f"Bearer {jwt}")[0] == 404
    status, minted = _call(tokens, "POST", f"Bearer {jwt}")
    assert status == 201 and minted["token"].startswith("ghs_")
    # An installation token is not a JWT: the App endpoints refuse it.
    assert _call(f"{github.url}/app", "GET", f"token {minted['token']}")[0] == 401


def test_expired_installation_token_is_refused_and_pygithub_mints_a_new_one(
        github: GitHubEmulator) -> None:
    installation = github.install_app(APP_ID, PUBLIC, INSTALLATION, token_ttl_seconds=0)
    jwt = Auth.AppAuth(APP_ID, KEY).create_jwt()
    status, minted = _call(f"{github.url}/app/installations/{INSTALLATION}/access_tokens",
                           "POST", f"Bearer {jwt}")
    assert status == 201
    assert _call(f"{github.url}/repos/acme/myapp", "GET", f"token {minted['token']}")[0] == 401
    # Tokens that live 20 s are due for renewal at once in PyGithub's eyes (it renews 20 s
    # early): every request mints afresh, and every one is accepted.
    installation.token_ttl = 20
    forge = GitHubForge(github_client(github.url, app_id=APP_ID, private_key=KEY,
                                      installation_id=INSTALLATION, fast=True))
    before = installation.minted
    for _ in range(3):
        assert forge.branch_head("acme/myapp", "prod")
    assert installation.minted - before >= 3


def test_bot_runs_as_a_github_app_from_its_settings(tmp_path: Path, redis_url: str) -> None:
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        world.github.install_app(APP_ID, PUBLIC, INSTALLATION)
        env = {k: v for k, v in world.bot_environment.items() if k != "GITHUB_TOKEN"}
        key_file = tmp_path / "app.pem"
        key_file.write_text(KEY)
        env.update({"REDIS_URL": redis_url, "PROMOTEBOT_HOST": "127.0.0.1",
                    "PROMOTEBOT_PORT": "0", "GITHUB_APP_ID": str(APP_ID),
                    "GITHUB_APP_PRIVATE_KEY_FILE": str(key_file),
                    "GITHUB_APP_INSTALLATION_ID": str(INSTALLATION)})
        settings = load_settings(env)
        tuning = Tuning(github_throttle=False, watch_timeout_seconds=2,
                        redis_prefix=f"app{uuid.uuid4().hex[:8]}:")
        bot = build(settings, load_pipeline(None), tuning=tuning).start()
        try:
            # GitHub answered the App's installation token
            wait_for(lambda: bot.web.failing() == [], "every readiness probe to pass")
            assert bot.forge.branch_head("acme/myapp", "dev") == world.repo.branches["dev"]
            assert world.github.installation is not None
            assert world.github.installation.minted >= 1
            # Every line of the key is a secret the logs mask.
            redact = logs.Redactor(logs.settings_secrets(settings))
            body = "".join(KEY.splitlines()[1:-1])
            assert KEY.splitlines()[1] not in redact(f"leaked: {KEY.splitlines()[1]}")
            assert body[:40] not in redact(KEY)
        finally:
            bot.stop()


def test_an_installation_without_a_permission_the_bot_needs_is_named_at_start_up(
        tmp_path: Path, redis_url: str) -> None:
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        world.github.install_app(APP_ID, PUBLIC, INSTALLATION, permissions={
            "contents": "read", "pull_requests": "write", "checks": "read",
            "statuses": "read", "metadata": "read"})
        env = {k: v for k, v in world.bot_environment.items() if k != "GITHUB_TOKEN"}
        key_file = tmp_path / "app.pem"
        key_file.write_text(KEY)
        env.update({"REDIS_URL": redis_url, "PROMOTEBOT_HOST": "127.0.0.1",
                    "PROMOTEBOT_PORT": "0", "GITHUB_APP_ID": str(APP_ID),
                    "GITHUB_APP_PRIVATE_KEY_FILE": str(key_file),
                    "GITHUB_APP_INSTALLATION_ID": str(INSTALLATION)})
        tuning = Tuning(github_throttle=False, watch_timeout_seconds=2,
                        redis_prefix=f"app{uuid.uuid4().hex[:8]}:")
        bot = build(load_settings(env), load_pipeline(None), tuning=tuning)
        try:
            with pytest.raises(SettingsError) as refused:
                bot.start()
        finally:
            bot.stop()
        said = str(refused.value)
        assert "GITHUB_APP_INSTALLATION_ID" in said and "contents: write" in said
        assert "pull_requests" not in said  # only what is missing is named
        assert "Traceback" not in said and KEY.splitlines()[1] not in said
