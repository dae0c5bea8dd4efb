"""Who is who in the sandbox, for the user picker: each person's roles in the sandbox's access
policy (the pipeline's `roles`, a group's members read from the Slack emulator) and the envs
whose approvers name them. The pipeline is parsed once; group members are read on every
call (the emulator's groups may change). It changes nothing.
"""

from __future__ import annotations

from functools import cache

from sandbox.bot import sandbox_pipeline
from sandbox.world import World
from slackbot.pipeline import Pipeline

WORDS = {"oncall": "on-call"}  # how a role's key reads to a person


@cache
def _pipeline() -> Pipeline:
    return sandbox_pipeline()


def roles_by_user(world: World) -> dict[str, list[str]]:
    """Slack user id -> the role words the picker shows (e.g. ["stakeholder"]), in order."""
    members = {g.id: set(g.users) for g in world.slack.workspace.usergroups.values()}
    found: dict[str, list[str]] = {}

    def add(user: str, word: str) -> None:
        if word not in found.setdefault(user, []):
            found[user].append(word)

    for app in _pipeline().apps.values():
        for key, role in app.roles.items():
            for user in (*role.users, *members.get(role.group or "", ())):
                add(user, WORDS.get(key, key))
        for env in app.environments:
            for user in env.gates.approvers.users if env.gates.approvers else ():
                add(user, f"{env.name} approver")
    return found
