"""The card's buttons: ack first, then on the bot's workers (keyed by the record) reload the
record, act as the clicking user, answer privately.

The button value only names the record (and, for Approve, the head the card showed); who may
do what is the core's decision on the reloaded record. Reject and Add rollback plan open their
modal with the trigger_id before anything slow happens (Slack allows 3 s), so they run at
once. Retry is the core's (a new record of the same kind). Rollback opens the rollback dialog
for the card's env.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from handlers import blocks, ids
from handlers.incident_commands import Rollback
from handlers.listeners import rollback
from handlers.messages import answers
from handlers.payloads import ButtonValue, ModalMeta
from handlers.replies import Say, guarded, privately
from handlers.services import Services
from slackbot.models import Promotion


def register(app: App, services: Services) -> None:
    def clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                client: WebClient) -> None:
        ack()
        handle(services, body, action, respond, client)

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
    if action_id in (ids.ROLLBACK, ids.ROLLBACK_ROOT):
        channel = (body.get("container") or {}).get("channel_id") or (
            body.get("channel") or {}).get("id")
        wanted = Rollback(value.env or "", value.app)
        rollback.open_choices(services, client, str(body.get("trigger_id", "")), channel, wanted,
                              say, user)
        return
    if action_id in (ids.REJECT, ids.ADD_PLAN):  # the modal opens within the trigger's life
        guarded(say, f"button {action_id}",
                lambda: _open_modal(client, body, core.records.get(value.promotion_id),
                                    action_id, say))
        return

    def act() -> None:
        if action_id == ids.APPROVE:
            say(answers.approved(core.commands.approve(value.promotion_id, user, value.sha)))
        elif action_id == ids.CANCEL:
            say(answers.cancelled(core.commands.cancel(value.promotion_id, user)))
        elif action_id == ids.RETRY:
            old = core.records.get(value.promotion_id)
            fresh = core.incidents.retry(old.id, user)
            say(answers.retry_started(old, fresh, services.deploys_channel(fresh.app)))

    services.run(value.promotion_id, say, f"button {action_id}", act)


def _open_modal(client: WebClient, body: dict[str, Any], record: Promotion, action_id: str,
                say: Say) -> None:
    if not record.live:
        say(answers.finished(record))
        return
    container = body.get("container") or {}
    meta = ModalMeta(record.id,
                     container.get("channel_id") or (body.get("channel") or {}).get("id"),
                     container.get("message_ts"))
    modal = (blocks.reject_modal(record, meta) if action_id == ids.REJECT
             else blocks.plan_modal(record, meta))
    client.views_open(trigger_id=body["trigger_id"], view=modal)
