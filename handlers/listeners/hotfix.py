"""`/hotfix start|promote <name> [app]` and `/hotfix help`: ack at once, parse, one core call.

`start` answers in the channel with what to do next (push the fix, then promote); `promote`
records the hotfix, whose card the notifier posts in the channel it was asked from (with a line
in the deploys channel); the runner drives it like a promotion. Names, existing branches and
gates are the core's to judge (slackbot/engine/incidents.py).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from handlers import blocks, ids
from handlers.commands import Help, Invalid
from handlers.incident_commands import HotfixPromote, HotfixStart, parse_hotfix
from handlers.messages import answers
from handlers.replies import Reply
from handlers.services import Services


def register(app: App, services: Services) -> None:
    def hotfix(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        handle(services, ack, command, respond)

    app.command(ids.HOTFIX_COMMAND)(hotfix)


def handle(services: Services, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    user = str(command.get("user_id", ""))
    channel = str(command.get("channel_id", ""))
    parsed = parse_hotfix(str(command.get("text", "")), services.app_names)

    if isinstance(parsed, Help):
        ack(response_type="ephemeral", **blocks.hotfix_help_message())
        return
    if isinstance(parsed, Invalid):
        ack(text=parsed.answer, response_type="ephemeral")
        return
    core = services.core
    if isinstance(parsed, HotfixStart):
        ack()
        reply = Reply(respond, answers.working_hotfix("starting", parsed.name)).start()

        def start() -> None:
            branch, sha = core.incidents.hotfix_start(parsed.app, parsed.name, user, channel)
            app = core.lookup.app(parsed.app, channel)
            text = answers.hotfix_branched(app.name, branch, sha, app.environments[-1].branch,
                                           parsed.name, user)
            reply.message({"text": text}, in_channel=True)

        services.run(("hotfix", parsed.name), reply, "/hotfix start", start)
    elif isinstance(parsed, HotfixPromote):
        ack()
        reply = Reply(respond, answers.working_hotfix("promoting", parsed.name)).start()

        def promote() -> None:
            record = core.incidents.hotfix_promote(parsed.app, parsed.name, user, channel)
            reply(answers.hotfix_started(record, services.card_channel(record)))

        services.run(("hotfix", parsed.name), reply, "/hotfix promote", promote)
