"""Process settings: read once from a mapping, every problem in one error, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbot.errors import PromotebotError, SettingsError
from slackbot.settings import GitHubApp, GitHubToken, Secret, Settings, load_settings

BOT = "xoxb-BOTSECRET-1234"
SIGNING = "SIGNINGSECRET5678"
GH = "ghp_GITHUBSECRET9999"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nPEMSECRETBODY\n-----END RSA PRIVATE KEY-----\n"
SECRETS = (BOT, SIGNING, GH, "PEMSECRETBODY", "xapp-APPSECRET", "HOOKSECRET", "REDISPASSWORD")


def _minimal(**extra: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": SIGNING, "GITHUB_TOKEN": GH, **extra}


def _problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert isinstance(caught.value, PromotebotError)
    return caught.value.problems


def test_minimal_environment_gets_the_documented_defaults() -> None:
    settings = load_settings(_minimal())
    assert settings.slack_bot_token.reveal() == BOT
    assert settings.slack_signing_secret.reveal() == SIGNING
    assert settings.github_auth == GitHubToken(Secret(GH))
    assert settings.slack_app_token is None and settings.slack_mode == "http"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.github_api_url == "https://api.github.com"
    assert settings.github_webhook_secret is None
    assert settings.kube_api_url is None
    assert settings.redis_url is None
    assert settings.pipeline_path is None
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    assert settings.log_level == "INFO"
    assert settings.poll_seconds == 30.0


def test_every_variable_is_read_when_set(tmp_path: Path) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("apps: {}\n")
    settings = load_settings(
        _minimal(
            SLACK_APP_TOKEN="xapp-APPSECRET",
            SLACK_API_URL="http://127.0.0.1:8001/api",
            GITHUB_API_URL="http://127.0.0.1:8002/",
            GITHUB_WEBHOOK_SECRET="HOOKSECRET",
            KUBE_API_URL="http://127.0.0.1:8003",
            REDIS_URL="redis://:REDISPASSWORD@127.0.0.1:6379/0",
            PROMOTEBOT_PIPELINE=str(pipeline),
            PROMOTEBOT_HOST="127.0.0.1",
            PROMOTEBOT_PORT="0",
            PROMOTEBOT_LOG_LEVEL="debug",
            PROMOTEBOT_POLL_SECONDS="0.5",
        )
    )
    assert settings.slack_mode == "socket"
    assert settings.slack_api_url == "http://127.0.0.1:8001/api/"
    assert settings.github_api_url == "http://127.0.0.1:8002"
    assert settings.github_webhook_secret == Secret("HOOKSECRET")
    assert settings.kube_api_url == "http://127.0.0.1:8003"
    assert settings.redis_url is not None
    assert settings.redis_url.reveal() == "redis://:REDISPASSWORD@127.0.0.1:6379/0"
    assert settings.pipeline_path == pipeline
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 0, "DEBUG")
    assert settings.poll_seconds == 0.5
    for text in (repr(settings), str(settings)):
        for secret in SECRETS:
            assert secret not in text
        assert "**********" in text


def test_every_problem_is_named_in_one_error(tmp_path: Path) -> None:
    problems = _problems(
        {
            "SLACK_APP_TOKEN": "xoxb-not-an-app-token",
            "SLACK_API_URL": "slack.com/api",
            "GITHUB_API_URL": "ftp://github",
            "KUBE_API_URL": "localhost",
            "PROMOTEBOT_PIPELINE": str(tmp_path / "absent.yaml"),
            "PROMOTEBOT_PORT": "70000",
            "PROMOTEBOT_LOG_LEVEL": "LOUD",
            "PROMOTEBOT_POLL_SECONDS": "-3",
        }
    )
    assert problems == [
        "SLACK_BOT_TOKEN: missing; the bot token (xoxb-...) of the Slack app",
        "SLACK_SIGNING_SECRET: missing; the signing secret from the Slack app's Basic Information",
        "SLACK_APP_TOKEN: expected a token starting with xapp- (value not shown)",
        "SLACK_API_URL: expected an http(s) URL like https://host/path, got 'slack.com/api'",
        "GITHUB_TOKEN: missing; set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY "
        "(or GITHUB_APP_PRIVATE_KEY_FILE) and GITHUB_APP_INSTALLATION_ID",
        "GITHUB_API_URL: expected an http(s) URL like https://host/path, got 'ftp://github'",
        "KUBE_API_URL: expected an http(s) URL like https://host/path, got 'localhost'",
        f"PROMOTEBOT_PIPELINE: expected the path of a pipeline file, got "
        f"{str(tmp_path / 'absent.yaml')!r} (no such file)",
        "PROMOTEBOT_PORT: expected a port number 1-65535 (0: any free port), got '70000'",
        "PROMOTEBOT_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'",
        "PROMOTEBOT_POLL_SECONDS: expected a positive number of seconds like 30, got '-3'",
    ]


def test_bad_secrets_are_named_but_never_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxp-BOTSECRET-user-token",
                "SLACK_SIGNING_SECRET": SIGNING,
                "SLACK_APP_TOKEN": "APPSECRET",
                "GITHUB_APP_ID": "12",
                "GITHUB_APP_INSTALLATION_ID": "34",
                "GITHUB_APP_PRIVATE_KEY": "PEMSECRETBODY",
                "REDIS_URL": "http://:REDISPASSWORD@127.0.0.1:6379",
            }
        )
    message = str(caught.value)
    for secret in (*SECRETS, "BOTSECRET", "APPSECRET"):
        assert secret not in message
    assert caught.value.problems == [
        "SLACK_BOT_TOKEN: expected a token starting with xoxb- (value not shown)",
        "SLACK_APP_TOKEN: expected a token starting with xapp- (value not shown)",
        "GITHUB_APP_PRIVATE_KEY: expected a PEM private key (-----BEGIN ... PRIVATE KEY-----) "
        "(value not shown)",
        "REDIS_URL: expected a URL like redis://host:6379/0 (or rediss://, unix://) "
        "(value not shown)",
    ]


def test_github_app_auth_reads_the_key_from_a_file(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT,
            "SLACK_SIGNING_SECRET": SIGNING,
            "GITHUB_APP_ID": "123",
            "GITHUB_APP_INSTALLATION_ID": "456",
            "GITHUB_APP_PRIVATE_KEY_FILE": str(key),
        }
    )
    assert settings.github_auth == GitHubApp(123, Secret(PEM), 456)
    assert "PEMSECRETBODY" not in repr(settings)


def test_github_app_key_pasted_with_escaped_newlines_is_accepted() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT,
            "SLACK_SIGNING_SECRET": SIGNING,
            "GITHUB_APP_ID": "1",
            "GITHUB_APP_INSTALLATION_ID": "2",
            "GITHUB_APP_PRIVATE_KEY": PEM.strip().replace("\n", "\\n"),
        }
    )
    assert isinstance(settings.github_auth, GitHubApp)
    assert settings.github_auth.private_key.reveal() == PEM


def test_github_app_auth_names_each_missing_part(tmp_path: Path) -> None:
    assert _problems(
        {"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": SIGNING, "GITHUB_APP_ID": "abc"}
    ) == [
        "GITHUB_APP_ID: expected a positive whole number, got 'abc'",
        "GITHUB_APP_INSTALLATION_ID: missing; a GitHub App needs its app id and installation id",
        "GITHUB_APP_PRIVATE_KEY: missing; set it (PEM text) or GITHUB_APP_PRIVATE_KEY_FILE",
    ]
    assert _problems(
        {
            "SLACK_BOT_TOKEN": BOT,
            "SLACK_SIGNING_SECRET": SIGNING,
            "GITHUB_APP_ID": "1",
            "GITHUB_APP_INSTALLATION_ID": "2",
            "GITHUB_APP_PRIVATE_KEY_FILE": str(tmp_path / "none.pem"),
        }
    ) == [
        f"GITHUB_APP_PRIVATE_KEY_FILE: expected a readable PEM file, got "
        f"{str(tmp_path / 'none.pem')!r} (No such file or directory)",
    ]


def test_both_github_auth_modes_at_once_is_a_problem() -> None:
    assert _problems(_minimal(GITHUB_APP_ID="1")) == [
        "GITHUB_TOKEN: set either GITHUB_TOKEN or the GITHUB_APP_* variables, not both "
        "(also set: GITHUB_APP_ID)"
    ]


def test_blank_variables_count_as_unset() -> None:
    settings = load_settings(_minimal(REDIS_URL="", PROMOTEBOT_PORT="  ", SLACK_APP_TOKEN=""))
    assert (settings.redis_url, settings.port, settings.slack_app_token) == (None, 3000, None)
    assert _problems(_minimal(SLACK_BOT_TOKEN=" ")) == [
        "SLACK_BOT_TOKEN: missing; the bot token (xoxb-...) of the Slack app"
    ]


def test_secret_masks_itself_and_compares_by_value() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == str(secret) == f"{secret}" == "**********"
    assert secret.reveal() == "hunter2"
    assert secret == Secret("hunter2") and secret != Secret("hunter3")
    assert len({secret, Secret("hunter2")}) == 1


def test_settings_are_frozen() -> None:
    settings = load_settings(_minimal())
    assert isinstance(settings, Settings)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_response_url_hosts_default_to_none_and_are_read_as_host_or_host_port() -> None:
    assert load_settings(_minimal()).response_url_hosts == ()
    settings = load_settings(_minimal(
        SLACK_RESPONSE_URL_HOSTS=" 127.0.0.1:8001, Slack.Example.com ,,127.0.0.1:8001"))
    assert settings.response_url_hosts == ("127.0.0.1:8001", "slack.example.com")


@pytest.mark.parametrize("value", [
    "http://127.0.0.1:8001", "127.0.0.1:8001/response", "evil.example@hooks.slack.com",
    "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:port", "host name", "[::1]:8001",
    "127.0.0.1:٨٠", "hooks.slack.com?x=1"])
def test_a_response_url_host_with_a_scheme_path_or_bad_port_is_named(value: str) -> None:
    [problem] = _problems(_minimal(SLACK_RESPONSE_URL_HOSTS=f"ok.example, {value}"))
    assert problem.startswith("SLACK_RESPONSE_URL_HOSTS: expected comma-separated hosts")
    assert repr(f"ok.example, {value}") in problem


def test_redis_sentinels_service_passwords_lease_and_persistence_are_read() -> None:
    settings = load_settings(_minimal(
        REDIS_SENTINELS="sentinel-0:26379, sentinel-1:26380,sentinel-2",
        REDIS_SENTINEL_SERVICE="promotebot", REDIS_PASSWORD="REDISPASSWORD",
        REDIS_SENTINEL_PASSWORD="SENTINELPASSWORD", PROMOTEBOT_REDIS_PERSISTENCE="optional",
        PROMOTEBOT_LEASE_SECONDS="5"))
    assert settings.redis_sentinels == (("sentinel-0", 26379), ("sentinel-1", 26380),
                                        ("sentinel-2", 26379))
    assert settings.redis_sentinel_service == "promotebot"
    assert settings.redis_password is not None
    assert settings.redis_password.reveal() == "REDISPASSWORD"
    assert "REDISPASSWORD" not in repr(settings) and "SENTINELPASSWORD" not in repr(settings)
    assert (settings.redis_persistence, settings.lease_seconds) == ("optional", 5.0)
    defaults = load_settings(_minimal())
    assert (defaults.redis_sentinels, defaults.redis_sentinel_service) == ((), "mymaster")
    assert (defaults.redis_persistence, defaults.lease_seconds) == ("required", 15.0)


@pytest.mark.parametrize(("extra", "named"), [
    ({"REDIS_SENTINELS": "sentinel-0:notaport"}, "REDIS_SENTINELS"),
    ({"REDIS_SENTINELS": " , "}, "REDIS_SENTINELS"),
    ({"REDIS_SENTINELS": "s:26379", "REDIS_URL": "redis://r:6379/0"}, "REDIS_SENTINELS"),
    ({"PROMOTEBOT_REDIS_PERSISTENCE": "sometimes"}, "PROMOTEBOT_REDIS_PERSISTENCE"),
    ({"PROMOTEBOT_LEASE_SECONDS": "0.1"}, "PROMOTEBOT_LEASE_SECONDS"),
])
def test_bad_redis_and_lease_settings_are_named(extra: dict[str, str], named: str) -> None:
    problems = _problems(_minimal(**extra))
    assert any(p.startswith(named) for p in problems), problems


def test_the_failure_window_of_the_delivery_figures_is_read_and_checked() -> None:
    assert load_settings(_minimal()).failure_window_hours == 24.0
    assert load_settings(_minimal(PROMOTEBOT_FAILURE_WINDOW_HOURS="6")).failure_window_hours == 6
    for bad in ("0", "-3", "soon", "nan", "1000"):
        problems = _problems(_minimal(PROMOTEBOT_FAILURE_WINDOW_HOURS=bad))
        assert any(p.startswith("PROMOTEBOT_FAILURE_WINDOW_HOURS") for p in problems), bad
