"""The composition of the Slack edge: a Bolt App with every listener and middleware registered.

`build_app` is the one place a Bolt App is made (nothing registers at import time); the
process's composition root (`promotebot serve`, the sandbox) builds the Services and the
WebClient and calls it. `make_client` gives a WebClient that retries rate limits and 5xx.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from handlers.background import reference
from handlers.listeners import buttons, home, hotfix, modals, rollback, slash
from handlers.middleware import idempotency
from handlers.services import Services

__all__ = ["Services", "build_app", "cards_client", "make_client", "register_listeners"]

log = logging.getLogger(__name__)


def make_client(token: str, base_url: str | None = None) -> WebClient:
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return client


def cards_client(client: WebClient, timeout: int = 10) -> WebClient:
    """A WebClient like `client` for the card renders: the same token and URL, a shorter
    timeout, and no sleeping through a 429 (the notifier waits for Retry-After off its
    workers, coalescing what changed meanwhile; other failures it retries itself)."""
    cards = WebClient(token=client.token, base_url=client.base_url, timeout=timeout)
    waiting = (RateLimitErrorRetryHandler, ServerErrorRetryHandler)
    cards.retry_handlers = [h for h in client.retry_handlers if not isinstance(h, waiting)]
    return cards


def register_listeners(app: App, services: Services) -> None:
    app.use(idempotency(services))
    for module in (slash, rollback, hotfix, buttons, modals, home):
        module.register(app, services)

    def unexpected(error: Exception, body: dict[str, Any]) -> None:
        log.error(
            "unhandled error in a listener (reference %s, payload type %s)",
            reference(),
            body.get("type") or body.get("command"),
            exc_info=error,
        )

    app.error(unexpected)


def build_app(
    *,
    bot_token: str,
    signing_secret: str,
    client: WebClient,
    services: Services,
    token_verification_enabled: bool = True,
) -> App:
    """The Bolt App. `client` carries `bot_token` (set on it when it has none).

    Bolt runs each listener in the request's own thread and answers Slack when it returns
    (`process_before_response`): the ack goes out as soon as the listener has parsed, acked and
    handed its work on (to the workers, or `services.soon`). Bolt's other mode runs listeners
    on a pool and polls every 10 ms for their ack, which costs every request that wait and a
    second thread."""
    if not client.token:
        client.token = bot_token
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=token_verification_enabled,
        raise_error_for_unhandled_request=False,
        process_before_response=True,
    )
    register_listeners(app, services)
    return app
