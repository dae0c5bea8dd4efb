"""The App Home tab: remember who opens it (so every change re-publishes it for them) and
publish the dashboard for them on the bot's workers (handlers/home.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from handlers.background import reference
from handlers.services import Services


def register(app: App, services: Services) -> None:
    def home_opened(event: dict[str, Any], logger: Any) -> None:
        if event.get("tab") not in (None, "home") or services.home is None:
            return
        user = str(event.get("user", ""))
        try:
            services.home.opened(user)
        except Exception:
            logger.exception("App Home for %s failed (reference %s)", user, reference())

    app.event("app_home_opened")(home_opened)
