"""Modal submissions: the rejection reason and the rollback plan.

An empty field is refused in the ack itself (response_action "errors", the modal stays open);
otherwise the ack closes the modal and the core is called as the submitting user, on the
bot's workers under the record's key, in the channel of the card the modal was opened from
(its private metadata names the record and the card; a record whose card is not there is
refused). There is no response_url on a submission, so answers go as an ephemeral in the
card's channel.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers import ids
from handlers.background import reference
from handlers.messages import answers
from handlers.origin import Origin, is_card_of
from handlers.payloads import ModalMeta
from handlers.services import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    def reject(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submitted(services, ack, body, view, client, ids.REASON_BLOCK, ids.REASON_INPUT)

    def plan(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        submitted(services, ack, body, view, client, ids.PLAN_BLOCK, ids.PLAN_INPUT)

    app.view(ids.REJECT_VIEW)(reject)
    app.view(ids.PLAN_VIEW)(plan)


def _value(view: dict[str, Any], block_id: str, action_id: str) -> str:
    entry = (((view.get("state") or {}).get("values") or {}).get(block_id) or {}).get(action_id)
    return str((entry or {}).get("value") or "").strip()


def submitted(
    services: Services,
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    block_id: str,
    action_id: str,
) -> None:
    text = _value(view, block_id, action_id)
    rejecting = block_id == ids.REASON_BLOCK
    if not text:
        problem = answers.empty_reason() if rejecting else answers.empty_plan()
        ack(response_action="errors", errors={block_id: problem})
        return
    ack()
    user = str((body.get("user") or {}).get("id", ""))
    meta = ModalMeta.decode(view.get("private_metadata"))

    def say(answer: str) -> None:
        if meta is None or not meta.channel:
            log.warning("modal answer for %s had nowhere to go: %s", user, answer)
            return
        client.chat_postEphemeral(channel=meta.channel, user=user, text=answer)

    if meta is None:
        log.warning("modal submission without our metadata (reference %s)", reference())
        return

    def act() -> None:
        if not is_card_of(services.store, meta.promotion_id, Origin(meta.channel, meta.ts)):
            say(answers.not_this_card(meta.promotion_id))
            return
        commands = services.core.commands
        if rejecting:
            say(answers.rejected(commands.reject(meta.promotion_id, user, text, meta.channel)))
        else:
            say(answers.plan_saved(commands.set_rollback_plan(meta.promotion_id, user, text,
                                                              meta.channel)))

    services.run(meta.promotion_id, say, "modal submission", act)
