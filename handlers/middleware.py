"""Global Bolt middleware: each Slack delivery, and each burst of clicks, acts once.

Keys, claimed with store.claim_once (Redis, shared by every replica):
  command:<trigger_id>, view:<trigger_id>, event:<event_id>   one delivery (retries carry the
      same payload, with x-slack-retry-num)
  action:<user>:<action_ts>:<action_id>                        one click, delivered once
  click:<user>:<action_id>:<message ts>:<value>                a double click (short window);
      buttons that open a modal are exempt, so closing a modal and clicking again works
A repeat is answered 200 with an empty body (Slack sees an ack) and reaches no listener.

While Redis does not answer, nothing can be claimed: the delivery is answered at once, within
the ack deadline and never with a 5xx, by the sentence that nothing was changed (an ephemeral
ack for a command, the modal's own error line for a submission, a response_url reply for a
click) and reaches no listener either.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from handlers import ids
from handlers.messages import answers
from handlers.services import Services
from slackbot.errors import StoreUnavailable

log = logging.getLogger(__name__)

MODAL_OPENERS = frozenset({ids.REJECT, ids.ADD_PLAN, ids.ROLLBACK})


def delivery_keys(body: dict[str, Any], services: Services) -> list[tuple[str, int]]:
    """(key, ttl seconds) pairs that must all be new for the delivery to be acted on."""
    ttl = services.delivery_ttl_seconds
    kind = body.get("type")
    if "command" in body and body.get("trigger_id"):
        return [(f"command:{body['trigger_id']}", ttl)]
    if kind == "view_submission" and body.get("trigger_id"):
        return [(f"view:{body['trigger_id']}", ttl)]
    if kind == "event_callback" and body.get("event_id"):
        return [(f"event:{body['event_id']}", ttl)]
    if kind == "block_actions":
        user = (body.get("user") or {}).get("id", "")
        keys: list[tuple[str, int]] = []
        for action in body.get("actions") or []:
            action_id = action.get("action_id", "")
            keys.append((f"action:{user}:{action.get('action_ts')}:{action_id}", ttl))
            if action_id not in MODAL_OPENERS:
                ts = (body.get("container") or {}).get("message_ts", "")
                keys.append(
                    (
                        f"click:{user}:{action_id}:{ts}:{action.get('value', '')}",
                        services.click_window_seconds,
                    )
                )
        return keys
    return []


def idempotency(services: Services) -> Callable[..., Any]:
    def once(body: dict[str, Any], req: BoltRequest, next: Callable[[], None]) -> Any:
        keys = delivery_keys(body, services)
        try:
            fresh = [services.store.claim_once(key, ttl) for key, ttl in keys]  # claim every key
        except StoreUnavailable:
            log.warning("Redis did not answer: %s answered 'nothing was changed'",
                        body.get("command") or body.get("type") or "a delivery", exc_info=True)
            return database_unavailable(body, req)
        if all(fresh):
            return next()
        retry = (req.headers.get("x-slack-retry-num") or [""])[0]
        log.info(
            "duplicate delivery ignored (%s%s)",
            keys[fresh.index(False)][0],
            f", retry {retry}" if retry else "",
        )
        return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})

    return once


def database_unavailable(body: dict[str, Any], req: BoltRequest) -> BoltResponse:
    """The ack that tells the user their request did nothing because Redis is away."""
    text = answers.database_unavailable()
    if "command" in body:
        return _json({"response_type": "ephemeral", "text": text})
    if body.get("type") == "view_submission":
        block = next((b.get("block_id") for b in (body.get("view") or {}).get("blocks") or []
                      if isinstance(b, dict) and b.get("type") == "input" and b.get("block_id")),
                     None)
        if block:
            return _json({"response_action": "errors", "errors": {block: text}})
    if body.get("type") == "block_actions":
        respond = req.context.get("respond")
        if respond is not None:  # after the ack: Slack shows nothing a click's ack carries

            def tell() -> None:
                try:
                    respond(text=text, response_type="ephemeral", replace_original=False)
                except Exception:
                    log.warning("the database-unavailable answer could not be sent",
                                exc_info=True)

            threading.Thread(target=tell, name="db-unavailable", daemon=True).start()
    return BoltResponse(status=200, body="")


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload),
                        headers={"content-type": "application/json;charset=utf-8"})
