"""Posts the dev deploy reports (slackbot/devdeploys.py) to an app's deploys channel: one
message per app and UTC day, kept up to date, with each revision as a reply in its thread, so
a day of pushes is one message in the channel, not a flood.

Where the day's message is lives in the store (so another replica, after a failover, threads
under it). A Slack error raises to the core, which then reports the revision again later.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from handlers import blocks
from handlers.messages import devdeploys as words
from slackbot.devdeploys import DevDeploy
from slackbot.ports import Store

KEPT_SECONDS = 3 * 24 * 3600


class DevDeployReporter:
    def __init__(self, client: WebClient, store: Store):
        self._client = client
        self._store = store

    def __call__(self, deploy: DevDeploy) -> None:
        key = f"dev-deploy:day:{deploy.app}:{deploy.day.isoformat()}"
        reply = blocks.message(words.fallback(deploy), [blocks.section(words.report(deploy))])
        known = self._store.recall(key)
        if known is None:
            posted = self._client.chat_postMessage(
                channel=deploy.channel, **_day_message(deploy, 1))
            channel, ts, count = str(posted["channel"]), str(posted["ts"]), 1
        else:
            channel, ts, seen = known.split(":", 2)
            count = int(seen) + 1
            self._client.chat_update(channel=channel, ts=ts, **_day_message(deploy, count))
        self._store.remember(key, f"{channel}:{ts}:{count}", KEPT_SECONDS)
        self._client.chat_postMessage(channel=channel, thread_ts=ts, **reply)


def _day_message(deploy: DevDeploy, count: int) -> dict[str, Any]:
    facts = (deploy.app, deploy.env, deploy.day, count, deploy)
    return blocks.message(words.day_fallback(*facts),
                          [blocks.section(words.day_summary(*facts))])
