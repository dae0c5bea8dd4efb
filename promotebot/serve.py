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
from typing import Any

from slackbot import logs
from slackbot.config import load_pipeline
from slackbot.errors import ConfigError, SettingsError
from slackbot.settings import load_settings

EXIT_OK, EXIT_CONFIG = 0, 2
log = logging.getLogger("promotebot.serve")


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
    bot = build(settings, pipeline, tuning=Tuning(lease_seconds=settings.lease_seconds)).start()
    streams.out.write(f"promotebot serving on {bot.url} ({settings.slack_mode} mode)\n")
    streams.out.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        bot.stop()
    streams.out.write("promotebot stopped\n")
    return EXIT_OK
