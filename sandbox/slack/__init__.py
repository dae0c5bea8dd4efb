"""The Slack emulator: Web API, response_url, and Slack's side of commands and interactions.

Start one with `SlackEmulator(...).start()`, point slack_sdk at `api_url` and set
`bot_request_url` to the bot's Request URL, or `app_token` for a Socket Mode app (the
websocket of `socketmode.py`); see `server.py` for the public methods.
This package must not import the bot (`handlers/`, `slackbot/`).
"""

from sandbox.slack.models import (
    APP_ID,
    BOT_ID,
    SLACK_LIMITS,
    TEAM_ID,
    Bucket,
    RateLimit,
    SlackChannel,
    SlackError,
    SlackUser,
    SlackUserGroup,
)
from sandbox.slack.server import SlackEmulator

__all__ = [
    "APP_ID",
    "BOT_ID",
    "SLACK_LIMITS",
    "TEAM_ID",
    "Bucket",
    "RateLimit",
    "SlackChannel",
    "SlackEmulator",
    "SlackError",
    "SlackUser",
    "SlackUserGroup",
]
