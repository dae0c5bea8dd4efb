"""`/rollback` and its dialog: ack at once, then either start the rollback (`to <revision>`) or
open the dialog of the env's past revisions and start it when one is chosen.

The dialog is opened with the trigger_id before anything slow (Slack allows 3 s), showing a
loading state, then updated with the choices the core lists. The Rollback button of a failed
card opens the same dialog (buttons.py calls `open_choices`). Who may roll back, and how, is
the core's decision (slackbot/engine/incidents.py); its refusals are shown in words. The
dialog's first view opens on the listeners' pool (`services.soon`: the trigger lives 3 s, and
no record's work is ahead of it there); everything after runs on the bot's workers.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from handlers import blocks, ids
from handlers.background import reference
from handlers.commands import Help, Invalid
from handlers.incident_commands import Rollback, Undo, parse_rollback
from handlers.messages import answers, views
from handlers.payloads import RollbackMeta
from handlers.replies import Reply, RichSay, Say, guarded, privately
from handlers.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def rollback(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        handle(services, ack, command, respond, client)

    def chosen(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submitted(services, ack, body, view, client)

    app.command(ids.ROLLBACK_COMMAND)(rollback)
    app.view(ids.ROLLBACK_VIEW)(chosen)


def handle(
    services: Services, ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    user = str(command.get("user_id", ""))
    channel = str(command.get("channel_id", ""))
    parsed = parse_rollback(str(command.get("text", "")), services.app_names)

    say = privately(respond)

    if isinstance(parsed, Help):
        ack(response_type="ephemeral", **blocks.rollback_help_message())
        return
    if isinstance(parsed, Invalid):
        ack(text=parsed.answer, response_type="ephemeral")
        return
    if isinstance(parsed, Undo):
        ack()
        reply = Reply(respond, answers.working("re-applying what it removed")).start()
        undo(services, user, channel, parsed, reply)
        return
    if parsed.to is None:
        ack()  # the dialog is the answer, opened off the request's thread
        trigger = str(command.get("trigger_id", ""))
        services.soon(lambda: open_choices(services, client, trigger, channel, parsed, say, user))
        return
    ack()
    reply = Reply(respond, answers.working_rollback(parsed.env, parsed.app)).start()
    start(services, user, channel, parsed, parsed.to, parsed.reason, reply)


def undo(services: Services, user: str, channel: str, parsed: Undo, reply: Reply) -> None:
    """`/rollback undo R-3`: the change a rollback removed, re-applied on the first env."""
    incidents = services.core.incidents

    def work() -> None:
        record = incidents.undo(parsed.promotion_id, user, parsed.kind, channel)
        reply(answers.rollback_started(record, services.card_channel(record)))

    services.run(parsed.promotion_id, reply, "/rollback undo", work)


def start(
    services: Services,
    user: str,
    channel: str | None,
    parsed: Rollback,
    to: str,
    reason: str,
    say: Say,
) -> None:
    """One core call: the rollback recorded (and its hold placed), then driven forward."""
    incidents = services.core.incidents

    def work() -> None:
        record = incidents.rollback(
            parsed.app,
            parsed.env,
            user,
            to=to,
            emergency=parsed.emergency,
            channel=channel,
            reason=reason,
        )
        said = answers.rollback_started(record, services.card_channel(record))
        root = incidents.blocked_by(record) if parsed.emergency else None
        if root is not None and isinstance(say, RichSay):
            say.message(blocks.chain_message(record, root, said))
        elif root is not None:
            say(f"{said}\n{answers.chain_waits(record, root.env, root.reason, root.message)}")
        else:
            say(said)

    services.run(("env", parsed.app or channel, parsed.env), say, f"/rollback {parsed.env}",
                 work)


def open_choices(
    services: Services,
    client: WebClient,
    trigger_id: str,
    channel: str | None,
    parsed: Rollback,
    say: Say,
    user: str = "",
) -> None:
    """Open the dialog at once (loading), then fill it with the env's past revisions, or
    with the reason this user may not roll this env back here."""
    core = services.core
    found: list[RollbackMeta] = []

    def resolve() -> None:  # names only, no I/O: a typo is answered before any dialog
        app, env = core.lookup.app_env(parsed.app, parsed.env, channel)
        found.append(RollbackMeta(app.name, env.name, channel, parsed.emergency))

    if not guarded(say, "/rollback", resolve):
        return
    meta = found[0]
    opened: list[str] = []

    def open_now() -> None:
        loading = blocks.rollback_loading_modal(meta)
        response = client.views_open(trigger_id=trigger_id, view=loading)
        opened.append(str(response["view"]["id"]))

    if not guarded(say, "/rollback dialog", open_now):
        return
    view_id = opened[0]

    def show(text: str) -> None:
        _update(client, view_id, blocks.rollback_notice_modal(meta, text))

    def fill() -> None:
        core.incidents.check_rollback(meta.app, meta.env, user, emergency=meta.emergency,
                                      channel=channel)
        choices = core.incidents.rollback_choices(meta.app, meta.env, channel)
        if not choices:
            show(views.rollback_no_choices(meta.app, meta.env))
            return
        app = core.lookup.app(meta.app)
        how = views.rollback_how(meta.env, app.index(meta.env) == 0, meta.emergency)
        _update(client, view_id, blocks.rollback_modal(meta, choices, how, parsed.reason))

    services.run(("env", meta.app, meta.env), show, f"rollback choices of {meta.env}", fill)


def _update(client: WebClient, view_id: str, view: dict[str, Any]) -> None:
    client.views_update(view_id=view_id, view=view)


def _selected(view: dict[str, Any]) -> tuple[str, str]:
    values = (view.get("state") or {}).get("values") or {}
    choice = (values.get(ids.ROLLBACK_CHOICE_BLOCK) or {}).get(ids.ROLLBACK_CHOICE_INPUT) or {}
    sha = str((choice.get("selected_option") or {}).get("value") or "")
    reason = (values.get(ids.ROLLBACK_REASON_BLOCK) or {}).get(ids.ROLLBACK_REASON_INPUT) or {}
    return sha, str(reason.get("value") or "").strip()


def submitted(
    services: Services, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    sha, reason = _selected(view)
    if not sha:
        ack(
            response_action="errors",
            errors={ids.ROLLBACK_CHOICE_BLOCK: views.rollback_choose_one()},
        )
        return
    ack()
    user = str((body.get("user") or {}).get("id", ""))
    meta = RollbackMeta.decode(view.get("private_metadata"))
    if meta is None:
        log.warning("rollback dialog without our metadata (reference %s)", reference())
        return
    say = _ephemeral(client, meta.channel, user)
    parsed = Rollback(meta.env, meta.app, sha, meta.emergency, reason)
    start(services, user, meta.channel, parsed, sha, reason, say)


class _Ephemeral:
    """Answers after the rollback dialog: an ephemeral in the channel it was asked from."""

    def __init__(self, client: WebClient, channel: str | None, user: str):
        self._client = client
        self._channel = channel
        self._user = user

    def __call__(self, text: str) -> None:
        self.message({"text": text})

    def message(self, body: dict[str, Any], in_channel: bool = False) -> None:
        if not self._channel:
            log.warning("rollback answer for %s had nowhere to go", self._user)
            return
        self._client.chat_postEphemeral(channel=self._channel, user=self._user, **body)


def _ephemeral(client: WebClient, channel: str | None, user: str) -> _Ephemeral:
    return _Ephemeral(client, channel, user)
