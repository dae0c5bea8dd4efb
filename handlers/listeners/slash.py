"""`/promote`: ack at once, parse the text, make one engine call, answer through respond().

Help and typos are answered in the ack itself; everything that needs the engine is answered
after it, as new ephemerals (never `replace_original` of the ack: Slack may apply the ack after
our response_url post, so replacing it would race). A recorded promotion is then driven forward
with engine.advance through `services.defer`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from handlers import blocks, commands, ids, messages
from handlers.replies import guarded, privately
from handlers.services import Services


def register(app: App, services: Services) -> None:
    def promote(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        handle(services, ack, command, respond)

    app.command(ids.COMMAND)(promote)


def handle(services: Services, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    user = str(command.get("user_id", ""))
    channel = str(command.get("channel_id", ""))
    parsed = commands.parse(str(command.get("text", "")), services.env_names, services.app_names)

    say = privately(respond)

    if isinstance(parsed, commands.Help):
        ack(response_type="ephemeral", **blocks.help_message())
    elif isinstance(parsed, commands.Invalid):
        ack(text=parsed.answer, response_type="ephemeral")
    elif isinstance(parsed, commands.Unlock):
        ack()
        guarded(say, "/promote unlock", lambda: _unlock(services, parsed, user, channel, respond))
    elif isinstance(parsed, commands.Status):
        ack(text=messages.working_status(parsed.app), response_type="ephemeral")

        def status() -> None:
            found = services.engine.status(parsed.app, channel)
            respond(
                response_type="ephemeral", replace_original=False, **blocks.status_message(found)
            )

        services.follow_up(say, "/promote status", status)
    elif isinstance(parsed, commands.Promote):
        ack(text=messages.working_promote(parsed.env, parsed.app), response_type="ephemeral")

        def request() -> None:
            record = services.engine.request(
                parsed.app, parsed.env, user, source=parsed.source, channel=channel
            )
            deploys = services.engine.app(record.app).channels.deploys
            say(messages.promotion_started(record, deploys))
            services.advance_later(record.id, say)

        services.follow_up(say, f"/promote {parsed.env}", request)
    elif isinstance(parsed, commands.Freeze | commands.Unfreeze):
        ack()
        guarded(say, "/promote freeze", lambda: _freeze(services, parsed, user, channel, respond))
    elif isinstance(parsed, commands.Cancel):
        ack()

        def cancel() -> None:
            record = services.engine.cancel(parsed.promotion_id, user)
            say(messages.cancelled(record))

        guarded(say, "/promote cancel", cancel)


def _freeze(
    services: Services,
    parsed: commands.Freeze | commands.Unfreeze,
    user: str,
    channel: str,
    respond: Respond,
) -> None:
    engine = services.engine
    if isinstance(parsed, commands.Freeze):
        block = engine.freeze(parsed.app, parsed.env, user, parsed.reason, channel)
        text = messages.frozen(block.app, block.env, user, block.reason)
    else:
        lifted = engine.unfreeze(parsed.app, parsed.env, user, channel)
        app = engine.app(parsed.app, channel)
        env = engine.env(app, parsed.env).name
        text = (
            messages.unfrozen(app.name, env, user) if lifted else messages.not_frozen(app.name, env)
        )
        if not lifted:
            respond(text=text, response_type="ephemeral")
            return
    respond(text=text, response_type="in_channel")
    services.refresh_home()


def _unlock(
    services: Services, parsed: commands.Unlock, user: str, channel: str, respond: Respond
) -> None:
    if services.incidents is None:
        respond(text=messages.incidents_unavailable(), response_type="ephemeral")
        return
    lifted = services.incidents.unlock(parsed.app, parsed.env, user, channel)
    app = services.engine.app(parsed.app, channel)
    env = services.engine.env(app, parsed.env).name
    if not lifted:
        respond(text=messages.not_held(app.name, env), response_type="ephemeral")
        return
    respond(text=messages.unlocked(app.name, env, user), response_type="in_channel")
    services.refresh_home()
