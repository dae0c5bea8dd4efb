"""The App Home tab: publish the dashboard when a user opens it, and remember them as a viewer
so that every change to a record re-publishes it (handlers/home.py)."""

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
