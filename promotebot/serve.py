"""`promotebot serve`: the bot in production, configured from the environment.

Reads the settings and the pipeline once; a bad one stops start-up with every problem listed
(exit 2), and so does a missing pipeline file, a Redis that keeps nothing on disk (unless
PROMOTEBOT_REDIS_PERSISTENCE is optional), and every problem promotebot.preflight finds (one
line each: the setting, what to do). Then runs until SIGTERM or SIGINT, and stops cleanly
(Kubernetes sends SIGTERM).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from promotebot.variables import help_text
from slackbot import logs
from slackbot.config import load_pipeline
from slackbot.errors import ConfigError, SettingsError
from slackbot.settings import load_settings

if TYPE_CHECKING:
    from promotebot.preflight import Check
    from promotebot.wiring import Adapters, GitHubPolling
    from slackbot.pipeline import Pipeline
    from slackbot.settings import Settings

EXIT_OK, EXIT_CONFIG = 0, 2
log = logging.getLogger("promotebot.serve")
NO_PIPELINE = (
    "PROMOTEBOT_PIPELINE: missing; the bot needs a pipeline file naming your repository, "
    "channels and groups: write one with `promotebot config init --repo OWNER/NAME "
    "--deploys-channel C... --stakeholders S... > pipeline.yaml`, check it with `promotebot "
    "config check pipeline.yaml`, and set PROMOTEBOT_PIPELINE to its path")


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
        "serve", help="run the bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)",
        description="Run the bot, configured from the environment. Every start-up problem is "
                    "one line naming the setting and what to do (exit 2).",
        epilog=help_text(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, streams: Any) -> int:
    try:
        settings = load_settings(os.environ)
        if settings.pipeline_path is None:  # the built-in one names nobody's repository
            streams.err.write(f"promotebot serve: {NO_PIPELINE}\n")
            return EXIT_CONFIG
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
    from promotebot.preflight import wait_for_services
    from promotebot.wiring import Adapters, Tuning, build, check_persistence, github_problems
    from slackbot.downtime import one_line

    tuning = Tuning(lease_seconds=settings.lease_seconds)
    try:
        adapters = Adapters.from_settings(settings, tuning, None, pipeline)
    except Exception as exc:  # no cluster configuration to be found
        log.debug("building the adapters failed", exc_info=True)
        streams.err.write(f"promotebot serve: {_cluster_config_problem(settings, exc)}\n")
        return EXIT_CONFIG
    problems = wait_for_services(_checks(settings, pipeline, adapters),
                                 settings.startup_wait_seconds)
    # GitHub answers now: do the credentials grant what the bot needs?
    try:
        problems = problems or github_problems(pipeline, adapters.forge)
    except Exception as exc:  # an answer the check does not know: said, never a traceback
        log.debug("checking the GitHub credentials failed", exc_info=True)
        problems = [f"GITHUB_TOKEN: GitHub answered the permission check with "
                    f"{one_line(exc)}: check the credentials and GITHUB_API_URL"]
    if problems:
        for problem in problems:
            streams.err.write(f"promotebot serve: {problem}\n")
        return EXIT_CONFIG
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
    bot = build(settings, pipeline, adapters, tuning=tuning)
    try:
        bot.start()
    except SettingsError as error:  # the GitHub credentials lack a permission
        bot.stop()
        for problem in error.problems:
            streams.err.write(f"promotebot serve: {problem}\n")
        return EXIT_CONFIG
    # What start-up made (modules, the pipeline, the clients) lives as long as the process:
    # frozen out of the collector, whose full passes otherwise walked all of it and paused
    # every thread, acks included, for 35-100 ms at a time in a burst of commands.
    gc.collect()
    gc.freeze()
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


def _checks(settings: Settings, pipeline: Pipeline, adapters: Adapters) -> list[Check]:
    """Slack first (nothing works without it), then every readiness probe of the adapters."""
    from promotebot.preflight import probe_check, slack_check
    from slackbot.settings import GitHubApp

    github_credentials = ("GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID"
                          if isinstance(settings.github_auth, GitHubApp) else "GITHUB_TOKEN")
    checks = [slack_check(adapters.slack, settings)]
    for name, probe in adapters.probes.items():
        if name == "redis":
            setting = "REDIS_SENTINELS" if settings.redis_sentinels else "REDIS_URL"
            checks.append(probe_check(name, probe, setting, "Redis", None))  # the URL: a secret
        elif name == "github":
            checks.append(probe_check(name, probe, "GITHUB_API_URL", "GitHub",
                                      settings.github_api_url, credentials=github_credentials))
        elif name == "kubernetes":
            checks.append(probe_check(name, probe, "KUBE_API_URL", "the Kubernetes API",
                                      settings.kube_api_url))
        else:
            cluster = name.partition(":")[2]
            spec = pipeline.clusters.get(cluster)
            checks.append(probe_check(
                name, probe, f"clusters.{cluster}.apiUrl (pipeline file)",
                f"the Kubernetes API of cluster {cluster}", spec.api_url if spec else None))
    return checks


def _cluster_config_problem(settings: Settings, exc: Exception) -> str:
    if settings.kube_api_url is None:
        return ("KUBE_API_URL: unset, and neither an in-cluster service account nor a "
                f"kubeconfig was found ({type(exc).__name__}): set KUBE_API_URL, or KUBECONFIG")
    return (f"the cluster settings (KUBE_API_URL, the pipeline file's clusters) cannot be "
            f"used: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}")
