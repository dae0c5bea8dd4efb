"""The composition of the Slack edge: a Bolt App with every listener and middleware registered.

`build_app` is the one place a Bolt App is made (nothing registers at import time); the
process's composition root (`promotebot serve`, the sandbox) builds the Services and the
WebClient and calls it. `make_client` gives a WebClient that retries rate limits and 5xx.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
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


SLACK_ACK_SECONDS = 3.0  # Slack drops a request not answered within 3 s


def build_app(
    *,
    bot_token: str,
    signing_secret: str,
    client: WebClient,
    services: Services,
    token_verification_enabled: bool = True,
    listener_executor: Executor | None = None,
    ack_seconds: float = SLACK_ACK_SECONDS,
) -> App:
    """The Bolt App in HTTP mode. `client` carries `bot_token` (set on it when it has none);
    `listener_executor` is the pool listeners run in after their ack (Bolt's default: 5);
    `ack_seconds`, how long Bolt waits for a listener's ack before answering without it."""
    if not client.token:
        client.token = bot_token
    options: dict[str, Any] = {}
    if listener_executor is not None:
        options["listener_executor"] = listener_executor
    app = App(
        **options,
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=token_verification_enabled,
        raise_error_for_unhandled_request=False,
    )
    register_listeners(app, services)
    if ack_seconds != SLACK_ACK_SECONDS:
        # Bolt takes an ack timeout per listener only through a private registration path;
        # its listeners keep it as a plain attribute, read at each request.
        for listener in app._listeners:
            listener.ack_timeout = ack_seconds  # type: ignore[assignment]
    return app
