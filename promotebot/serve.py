"""`promotebot serve`: the bot in production, configured from the environment.

Reads the settings and the pipeline once; a bad one stops start-up with every problem listed
(exit 2), and so does a Redis that keeps nothing on disk (unless PROMOTEBOT_REDIS_PERSISTENCE
is optional). Then runs until SIGTERM or SIGINT, and stops cleanly (Kubernetes sends SIGTERM).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from slackbot import logs
from slackbot.config import load_pipeline
from slackbot.errors import ConfigError, SettingsError
from slackbot.settings import load_settings

if TYPE_CHECKING:
    from promotebot.wiring import GitHubPolling

EXIT_OK, EXIT_CONFIG = 0, 2
log = logging.getLogger("promotebot.serve")


def github_budget(polling: GitHubPolling) -> str:
    """The start-up line saying what a waiting promotion costs in GitHub requests."""
    every = f"{polling.seconds:g}s"
    if polling.webhooks:
        how = (f"webhooks configured: GitHub says what changed; as a safety net a waiting "
               f"promotion re-reads its gates every {every} (PROMOTEBOT_SAFETY_POLL_SECONDS)")
    else:
        how = (f"no webhooks (GITHUB_WEBHOOK_SECRET unset): a waiting promotion polls its gates "
               f"every {every} (PROMOTEBOT_POLL_SECONDS)")
    return (f"github: {how}: up to {polling.requests_per_hour} requests an hour each, "
            f"conditional (GitHub does not count the ones answered 304: nothing changed)")


def register_serve(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, streams: Any) -> int:
    try:
        settings = load_settings(os.environ)
        pipeline = load_pipeline(settings.pipeline_path)
    except SettingsError as error:
        streams.err.write(f"promotebot serve: {error}\n")
        return EXIT_CONFIG
    except ConfigError as error:
        streams.err.write("promotebot serve: the pipeline file has problems:\n")
        for problem in error.problems:
            streams.err.write(f"  {problem}\n")
        return EXIT_CONFIG
    # JSON lines (PROMOTEBOT_LOG_FORMAT=text for a terminal), every secret of the settings masked.
    logs.configure(settings.log_level, logs.settings_secrets(settings), settings.log_format)
    from promotebot.wiring import Tuning, build, check_persistence

    may_start, said = check_persistence(settings)
    if not may_start:
        streams.err.write(f"promotebot serve: {said}\n")
        return EXIT_CONFIG
    if said:
        log.warning("%s", said)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    bot = build(settings, pipeline, tuning=Tuning(lease_seconds=settings.lease_seconds))
    try:
        bot.start()
    except SettingsError as error:  # the GitHub credentials lack a permission
        bot.stop()
        streams.err.write(f"promotebot serve: {error}\n")
        return EXIT_CONFIG
    streams.out.write(f"promotebot serving on {bot.url} ({settings.slack_mode} mode)\n")
    streams.out.write(github_budget(bot.github_polling) + "\n")
    streams.out.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        bot.stop()
    streams.out.write("promotebot stopped\n")
    return EXIT_OK
