"""Every environment variable `promotebot serve` reads, with its meaning and default: the one
table `serve --help` prints (a test checks it against what slackbot.settings reads).

Words for the operator only; it must not read the environment itself (slackbot.settings does).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str
    default: str  # "required", or what an unset variable means


VARIABLES: tuple[Variable, ...] = (
    Variable("SLACK_BOT_TOKEN", "the Slack app's Bot User OAuth Token (xoxb-...)", "required"),
    Variable("SLACK_SIGNING_SECRET", "the Slack app's signing secret (Basic Information)",
             "required"),
    Variable("SLACK_APP_TOKEN", "an app-level token (xapp-...): Socket Mode instead of HTTP",
             "unset: HTTP mode"),
    Variable("SLACK_API_URL", "the Slack Web API's base URL", "https://slack.com/api/"),
    Variable("SLACK_RESPONSE_URL_HOSTS",
             "hosts besides hooks.slack.com a payload's response_url may name", "none"),
    Variable("GITHUB_TOKEN", "a GitHub token with write access to the pipeline's repositories",
             "required unless GITHUB_APP_*"),
    Variable("GITHUB_APP_ID", "the GitHub App's id (instead of GITHUB_TOKEN)", "unset"),
    Variable("GITHUB_APP_INSTALLATION_ID", "the GitHub App installation's id", "unset"),
    Variable("GITHUB_APP_PRIVATE_KEY", "the GitHub App's private key (PEM text)", "unset"),
    Variable("GITHUB_APP_PRIVATE_KEY_FILE", "a file holding the GitHub App's private key",
             "unset"),
    Variable("GITHUB_API_URL", "the GitHub REST API's base URL (GitHub Enterprise: "
             "https://HOST/api/v3)", "https://api.github.com"),
    Variable("GITHUB_WEBHOOK_SECRET", "the secret of the repository webhook to "
             "/github/webhook; set, GitHub's deliveries replace most polling",
             "unset: gates are polled, deliveries refused"),
    Variable("KUBE_API_URL", "the Kubernetes API of the cluster Flux runs in",
             "unset: in-cluster config, else KUBECONFIG"),
    Variable("REDIS_URL", "the Redis keeping records, locks and audit (redis://, rediss://, "
             "unix://)", "unset: an embedded in-process Redis"),
    Variable("REDIS_SENTINELS", "host:port,... of Redis Sentinels (instead of REDIS_URL)",
             "unset"),
    Variable("REDIS_SENTINEL_SERVICE", "the primary's name at the sentinels", "mymaster"),
    Variable("REDIS_PASSWORD", "the primary's password, through Sentinel", "unset"),
    Variable("REDIS_SENTINEL_PASSWORD", "the sentinels' own password", "unset"),
    Variable("PROMOTEBOT_REDIS_PERSISTENCE", "required: refuse a Redis that keeps nothing on "
             "disk; optional: only warn", "required"),
    Variable("PROMOTEBOT_PIPELINE", "the pipeline file (promotebot config init writes one)",
             "required"),
    Variable("PROMOTEBOT_HOST", "the address the HTTP server binds", "0.0.0.0"),
    Variable("PROMOTEBOT_PORT", "the HTTP server's port (0: any free port)", "3000"),
    Variable("PROMOTEBOT_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", "INFO"),
    Variable("PROMOTEBOT_LOG_FORMAT", "json (one object a line) or text", "json"),
    Variable("PROMOTEBOT_POLL_SECONDS", "how often waiting gates are read without webhooks",
             "30"),
    Variable("PROMOTEBOT_SAFETY_POLL_SECONDS", "with webhooks, how long GitHub's answers "
             "are trusted before they are read again", "1200"),
    Variable("PROMOTEBOT_LEASE_SECONDS", "the leader lease's time to live (a dead replica's "
             "duties wait this long)", "15"),
    Variable("PROMOTEBOT_FAILURE_WINDOW_HOURS", "a rollback or hotfix this soon after a "
             "deploy counts it as a failed change", "24"),
    Variable("PROMOTEBOT_STARTUP_WAIT_SECONDS", "how long start-up waits for an unreachable "
             "Slack, GitHub, cluster or Redis before it exits 2", "60"),
)


def help_text() -> str:
    """The table for `serve --help`: one variable a line, its meaning, then its default."""
    width = max(len(v.name) for v in VARIABLES)
    lines = [f"  {v.name:<{width}}  {v.meaning} (default: {v.default})" for v in VARIABLES]
    return "environment variables:\n" + "\n".join(lines)
