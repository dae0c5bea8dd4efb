"""The card's buttons: ack first, then (off the request's thread) check the click is on its
record's card, and on the bot's workers (keyed by the record) act as the clicking user and
answer privately.

A button acts on the record of its message: the record its value names must have its card at
the click's channel and message ts (handlers/origin.py), or the click is refused and nothing
changes. The value adds only the head the card showed (Approve); who may do what, in which
channel, is the core's decision on the reloaded record. Reject and Add rollback plan ask the
core first and open their modal with the trigger_id before anything slow (Slack allows 3 s).
Retry is the core's (a new record of the same kind). Rollback opens the rollback dialog for the
record's env; "Roll back <root>" opens it for the root of a dependsOn chain, from a card or from
a refusal (the dialog's submit is checked like the command).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from handlers import blocks, ids
from handlers.incident_commands import Rollback
from handlers.listeners import rollback
from handlers.messages import answers
from handlers.origin import Origin, is_card_of, of_click
from handlers.payloads import ButtonValue, ModalMeta
from handlers.replies import Say, guarded, privately
from handlers.services import Services
from slackbot.models import Promotion
from slackbot.reasons import Action


def register(app: App, services: Services) -> None:
    def clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                client: WebClient) -> None:
        ack()  # Slack has its answer when this returns; the rest goes to the listeners' pool
        services.soon(lambda: handle(services, body, action, respond, client))

    for action_id in ids.CARD_ACTIONS:
        app.action(action_id)(clicked)


def handle(services: Services, body: dict[str, Any], action: dict[str, Any], respond: Respond,
           client: WebClient) -> None:
    user = str((body.get("user") or {}).get("id", ""))
    action_id = str(action.get("action_id", ""))
    value = ButtonValue.decode(action.get("value"))
    core = services.core
    say = privately(respond)

    if value is None:
        say(answers.stale_button())
        return
    origin = of_click(body)
    if action_id == ids.ROLLBACK_ROOT:
        # the root of a dependsOn chain: on a card, a refusal or an answer (not only a card);
        # it only opens the rollback dialog, and the core checks everything on its submit
        wanted = Rollback(value.env or "", value.app)
        rollback.open_choices(services, client, str(body.get("trigger_id", "")), origin.channel,
                              wanted, say, user)
        return
    record = _record_of_its_card(services, value, origin, say, action_id)
    if record is None:
        return  # refused (the button is not on its record's card), or the store failed: said
    if action_id == ids.ROLLBACK:
        if value.env not in (None, record.env) or value.app not in (None, record.app):
            say(answers.not_this_card(record.id))
            return
        wanted = Rollback(record.env, record.app)
        rollback.open_choices(services, client, str(body.get("trigger_id", "")), origin.channel,
                              wanted, say, user)
        return
    if action_id in (ids.REJECT, ids.ADD_PLAN):  # the modal opens within the trigger's life
        guarded(say, f"button {action_id}",
                lambda: _open_modal(services, client, body, record, action_id, user, origin,
                                    say))
        return

    def act() -> None:
        if action_id == ids.APPROVE:
            say(answers.approved(core.commands.approve(record.id, user, value.sha,
                                                       channel=origin.channel)))
        elif action_id == ids.CANCEL:
            say(answers.cancelled(core.commands.cancel(record.id, user, origin.channel)))
        elif action_id == ids.RETRY:
            fresh = core.incidents.retry(record.id, user, origin.channel)
            say(answers.retry_started(record, fresh, services.deploys_channel(fresh.app)))

    services.run(record.id, say, f"button {action_id}", act)


def _record_of_its_card(services: Services, value: ButtonValue, origin: Origin, say: Say,
                        action_id: str) -> Promotion | None:
    """The record the value names, if the click was on its card; else None, said why."""
    found: list[Promotion] = []

    def look() -> None:
        if not is_card_of(services.store, value.promotion_id, origin):
            say(answers.not_this_card(value.promotion_id))
            return
        found.append(services.core.records.get(value.promotion_id))

    guarded(say, f"button {action_id}", look)
    return found[0] if found else None


def _open_modal(services: Services, client: WebClient, body: dict[str, Any],
                record: Promotion, action_id: str, user: str, origin: Origin, say: Say) -> None:
    """Ask the core whether the user may (a refusal comes before any typing), then open."""
    if not record.live:
        say(answers.finished(record))
        return
    action = Action.REJECT if action_id == ids.REJECT else Action.PLAN
    record = services.core.commands.may(action, record.id, user, origin.channel)
    meta = ModalMeta(record.id, origin.channel, origin.ts)
    modal = (blocks.reject_modal(record, meta) if action_id == ids.REJECT
             else blocks.plan_modal(record, meta))
    client.views_open(trigger_id=body["trigger_id"], view=modal)
