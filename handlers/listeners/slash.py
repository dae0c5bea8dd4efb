"""`/promote`: ack at once, parse the text, then one core call on the bot's workers, answered
through respond().

Help and typos are answered in the ack itself (the answer is immediate; help is followed by
what this person may do, per env, from the access policy, as a new ephemeral). So is a status
while what GitHub and the cluster said is fresh (the store is then the only service it reads).
Everything else that needs the core acks with no message and is answered once, by a `Reply`:
the answer alone, or "On it…" when it is slow, then replaced by the answer
(handlers/replies.py). An "On it…" in the ack could show after the answer, since Slack applies
acks asynchronously; the ack itself is never replaced.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from handlers import blocks, commands, ids, stats
from handlers.messages import access, answers
from handlers.messages import stats as stats_words
from handlers.replies import Reply, privately
from handlers.services import Services
from slackbot import dora
from slackbot.engine.queueing import InLine
from slackbot.errors import DomainError, StoreUnavailable
from slackbot.status import AppStatus


def register(app: App, services: Services) -> None:
    def promote(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        handle(services, ack, command, respond)

    app.command(ids.COMMAND)(promote)


def handle(services: Services, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    user = str(command.get("user_id", ""))
    channel = str(command.get("channel_id", ""))
    parsed = commands.parse(str(command.get("text", "")), services.env_names, services.app_names)
    core = services.core
    say = privately(respond)

    if isinstance(parsed, commands.Help):
        ack(response_type="ephemeral", **blocks.help_message())

        def may_do() -> None:  # who may do what reads user groups: after the ack
            sections = [(app, core.access.grants(app, user))
                        for app in services.pipeline.apps.values()]
            respond(text=access.grants_message(user, sections), response_type="ephemeral",
                    replace_original=False)

        services.run(("help", user), say, "/promote help", may_do)
    elif isinstance(parsed, commands.Invalid):
        ack(text=parsed.answer, response_type="ephemeral")
    elif isinstance(parsed, commands.Status):
        known = _known_status(services, parsed.app, channel)
        if known is not None:  # GitHub's and the cluster's answers are fresh: the ack says it
            ack(response_type="ephemeral", **blocks.status_message(known))
            return
        ack()
        reply = Reply(respond, answers.working_status(parsed.app)).start()

        def status() -> None:
            reply.message(blocks.status_message(core.status.read(parsed.app, channel)))

        services.run(("status", user), reply, "/promote status", status)
    elif isinstance(parsed, commands.Stats):
        ack()
        reply = Reply(respond, stats_words.working(parsed.app)).start()

        def delivery() -> None:
            if parsed.app is not None:
                core.lookup.app(parsed.app)  # an unknown app is refused with the closest one
            figures = services.delivery
            rows = figures.figures(parsed.app, fresh=True) if figures else ()
            window = figures.failure_window if figures else dora.FAILURE_WINDOW
            reply.message(stats.stats_message(rows, parsed.app, window))

        services.run(("stats", user), reply, "/promote stats", delivery)
    elif isinstance(parsed, commands.Promote):
        ack()
        reply = Reply(respond, answers.working_promote(parsed.env, parsed.app)).start()

        def request() -> None:
            started = core.queue.request(parsed.app, parsed.env, user, source=parsed.source,
                                         channel=channel)
            if isinstance(started, InLine):  # the env is busy: the request waits in line
                reply(answers.queued(started, services.deploys_channel(started.entry.app)))
                return
            reply(answers.promotion_started(started, services.deploys_channel(started.app)))

        services.run(("env", parsed.app or channel, parsed.env), reply, f"/promote {parsed.env}",
                     request)
    elif isinstance(parsed, commands.Freeze | commands.Unfreeze):
        ack()
        reply = Reply(respond, answers.working("freezing" if isinstance(
            parsed, commands.Freeze) else "unfreezing")).start()
        services.run(("env", parsed.app or channel, parsed.env), reply, "/promote freeze",
                     lambda: _freeze(services, parsed, user, channel, reply))
    elif isinstance(parsed, commands.Unlock):
        ack()
        reply = Reply(respond, answers.working("lifting the hold")).start()
        services.run(("env", parsed.app or channel, parsed.env), reply, "/promote unlock",
                     lambda: _unlock(services, parsed, user, channel, reply))
    elif isinstance(parsed, commands.Leave):
        ack()

        def leave() -> None:
            say(answers.left_queue(core.queue.leave(parsed.app, parsed.env, user, channel)))

        services.run(("env", parsed.app or channel, parsed.env), say, "/promote leave", leave)
    elif isinstance(parsed, commands.FreezeWide | commands.UnfreezeWide):
        ack()
        services.run(("freeze", parsed.app or commands.EVERY_APP), say, "/promote freeze",
                     lambda: _freeze_wide(services, parsed, user, channel, respond))
    elif isinstance(parsed, commands.Cancel):
        ack()
        reply = Reply(respond, answers.working("cancelling")).start()

        def cancel() -> None:
            core.records.named(parsed.promotion_id, parsed.kind)
            reply(answers.cancelled(core.commands.cancel(parsed.promotion_id, user, channel)))

        services.run(parsed.promotion_id, reply, "/promote cancel", cancel)


def _freeze(services: Services, parsed: commands.Freeze | commands.Unfreeze, user: str,
            channel: str, reply: Reply) -> None:
    holds, lookup = services.core.holds, services.core.lookup
    if isinstance(parsed, commands.Freeze):
        done = holds.freezing(parsed.app, parsed.env, user, parsed.reason, channel)
        block = done.block
        if done.unchanged:  # the owner's repeat: said to them alone, nothing changed
            reply(answers.already_frozen(block))
            return
        text = (answers.freeze_reason_changed(block) if done.repeated is not None
                else answers.frozen(block.app, block.env, user, block.reason))
    else:
        lifted = holds.unfreeze(parsed.app, parsed.env, user, channel)
        app, env = lookup.app_env(parsed.app, parsed.env, channel)
        if not lifted:
            wider = services.core.freezes.wider(app.name, env.name)
            reply(answers.frozen_wider(app.name, env.name, wider) if wider
                  else answers.not_frozen(app.name, env.name))
            return
        text = answers.unfrozen(app.name, env.name, user)
    reply.message({"text": text}, in_channel=True)
    services.refresh_home()


def _freeze_wide(services: Services, parsed: commands.FreezeWide | commands.UnfreezeWide,
                 user: str, channel: str, respond: Respond) -> None:
    freezes = services.core.freezes
    if isinstance(parsed, commands.FreezeWide):
        done = freezes.freezing(parsed.app, user, parsed.reason, channel)
        if done.unchanged:  # the owner's repeat: said to them alone, nothing changed
            respond(text=answers.already_frozen(done.block), response_type="ephemeral")
            return
        text = (answers.freeze_reason_changed(done.block) if done.repeated is not None
                else answers.frozen_wide(done.block, user))
    elif freezes.unfreeze(parsed.app, user, channel):
        text = answers.unfrozen_wide(parsed.app, user)
    else:
        respond(text=answers.not_frozen_wide(parsed.app), response_type="ephemeral")
        return
    respond(text=text, response_type="in_channel")
    services.refresh_home()


def _unlock(services: Services, parsed: commands.Unlock, user: str, channel: str,
            reply: Reply) -> None:
    lifted = services.core.holds.unlock(parsed.app, parsed.env, user, channel)
    app, env = services.core.lookup.app_env(parsed.app, parsed.env, channel)
    if not lifted:
        reply(answers.not_held(app.name, env.name))
        return
    reply.message({"text": answers.unlocked(app.name, env.name, user)}, in_channel=True)
    services.refresh_home()


def _known_status(services: Services, app: str | None, channel: str) -> AppStatus | None:
    """The status without asking GitHub or the cluster, or None: then the workers read it,
    and an unknown app, or a store that does not answer, is said as any other answer is."""
    try:
        return services.core.status.read_known(app, channel)
    except (DomainError, StoreUnavailable):
        return None
