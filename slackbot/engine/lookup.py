"""Names to pipeline values: the app a command names (or its channel implies) and its envs.

Pure: it reads the pipeline only. An unknown name is refused with the closest choice, so a
typo gets a suggestion instead of a dead end.
"""

from __future__ import annotations

import difflib

from slackbot.errors import UnknownApp, UnknownEnv
from slackbot.pipeline import App, Environment, Pipeline
from slackbot.reasons import Code, Next, Reason


def closest(word: str, choices: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return found[0] if found else None


class Lookup:
    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    def app(self, name: str | None, channel: str | None = None) -> App:
        """The app named, or the one the channel (or a one-app pipeline) implies."""
        apps = self.pipeline.apps
        if name is None:
            if len(apps) == 1:
                return next(iter(apps.values()))
            for app in apps.values():
                if channel in (app.channels.deploys, app.channels.incidents):
                    return app
            raise UnknownApp(Reason(Code.NO_APP_FOR_CHANNEL, Next.NAME_APP,
                                    choices=tuple(apps)))
        if name not in apps:
            raise UnknownApp(Reason(Code.UNKNOWN_APP, name=name,
                                    suggestion=closest(name, tuple(apps)), choices=tuple(apps)))
        return apps[name]

    def env(self, app: App, name: str) -> Environment:
        if not app.has_env(name):
            raise UnknownEnv(Reason(Code.UNKNOWN_ENV, app=app.name, name=name,
                                    suggestion=closest(name, app.env_names),
                                    choices=app.env_names))
        return app.env(name)

    def app_env(self, app_name: str | None, env_name: str,
                channel: str | None = None) -> tuple[App, Environment]:
        app = self.app(app_name, channel)
        return app, self.env(app, env_name)
