"""The Slack workspace as one person sees it: channels, messages with their threads, that
person's ephemeral messages, open modals and App Home, in Slack's own JSON shapes; each user
with their roles in the sandbox's access policy (roles.py), for the user picker.

The page renders these shapes itself (Block Kit in the browser), so this module only selects
and orders. It reads the emulator's state and must not change it.
"""

from __future__ import annotations

from typing import Any

from sandbox.slack.models import SLACKBOT_USER_ID
from sandbox.webui.roles import roles_by_user
from sandbox.world import World

Json = dict[str, Any]


def _ts_key(message: Json) -> float:
    try:
        return float(message.get("ts") or 0)
    except (TypeError, ValueError):
        return 0.0


def slack_view(world: World, user: str) -> Json:
    """Every channel with its messages and threads, and `user`'s ephemerals, modals and Home.

    Ephemerals are merged into their channel by ts (threaded ones into their thread), marked
    with `subtype: "ephemeral"` as Slack's client shows them.
    """
    state = world.slack.state()
    roles = roles_by_user(world)
    mine = [m for m in (state.get("ephemerals") or {}).get(user, [])]
    channels = []
    for channel in state["channels"]:
        if channel.get("is_im") and user not in channel["members"]:
            continue  # someone else's direct messages with the bot
        messages = list(channel["messages"])
        threads: dict[str, list[Json]] = {k: list(v) for k, v in channel["threads"].items()}
        for ephemeral in mine:
            if ephemeral.get("channel") != channel["id"]:
                continue
            parent = ephemeral.get("thread_ts")
            if parent and any(m.get("ts") == parent for m in channel["messages"]):
                threads.setdefault(parent, []).append(ephemeral)
            else:
                messages.append(ephemeral)
        messages.sort(key=_ts_key)
        for replies in threads.values():
            replies.sort(key=_ts_key)
        channels.append(
            {
                "id": channel["id"],
                "name": "promotebot (direct)" if channel.get("is_im") else channel["name"],
                "is_member": user in channel["members"],
                "messages": messages,
                "threads": threads,
            }
        )
    return {
        "bot_user_id": state["bot_user_id"],
        "bot_connected": bool(state.get("bot_request_url") or state.get("socket_connections")),
        "users": [
            {
                "id": u["id"],
                "name": u["name"],
                "real_name": u.get("real_name") or u["name"],
                "is_bot": bool(u.get("is_bot")),
                "roles": roles.get(u["id"], []),
            }
            for u in state["users"]
        ]
        + [{"id": SLACKBOT_USER_ID, "name": "Slackbot", "real_name": "Slackbot", "is_bot": True,
            "roles": []}],
        "usergroups": [{"id": g["id"], "handle": g["handle"]} for g in state["usergroups"]],
        "channels": channels,
        "views": (state.get("views") or {}).get(user, []),
        "home": (state.get("home") or {}).get(user),
    }
