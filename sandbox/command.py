"""`promotebot sandbox`: the emulated world and the real bot between them, on one machine.

`--headless` runs without the web UI and writes a state file describing every endpoint, user
and token, for tests and scripts. `--no-bot` starts the emulators only, for a bot started
apart (`promotebot serve`): `--bot-url` and `--webhook-url` say where Slack's requests and
GitHub's deliveries go, and the state file's serve.environment is the bot's environment. It
runs until SIGINT or SIGTERM, then stops everything it started and exits 0.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from sandbox.world import World, write_atomically

NO_BOT_RECIPE = """\
a bot in another process (--no-bot):
  promotebot sandbox --no-bot --serve-env serve.env \\
      --bot-url http://127.0.0.1:3000 --webhook-url http://127.0.0.1:3000
  # then, in another shell, serve with the environment it wrote:
  set -a; . ./serve.env; set +a; PROMOTEBOT_PORT=3000 promotebot serve
  Slack's commands, clicks and events go to --bot-url (path /slack/events unless given);
  GitHub's webhook deliveries to --webhook-url (path /github/webhook unless given), signed
  with GITHUB_WEBHOOK_SECRET. The state file (--state-file) has the same environment, under
  serve.environment."""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promotebot sandbox",
        description="run promotebot against local emulators of Slack, GitHub and Flux",
        epilog=NO_BOT_RECIPE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--headless", action="store_true",
                        help="no web UI; write --state-file and wait for a signal")
    parser.add_argument("--state-file", type=Path,
                        help="write the sandbox's endpoints, users and tokens here, as JSON")
    parser.add_argument("--time-scale", type=float, default=10.0,
                        help="speeds every Flux interval and timeout (10: 1m passes in 6s)")
    parser.add_argument("--no-bot", action="store_true",
                        help="start the emulators only, for a bot started apart")
    parser.add_argument("--bot-url", metavar="URL",
                        help="with --no-bot: where Slack sends commands, clicks and events "
                             "(the bot's Request URL; default path /slack/events)")
    parser.add_argument("--serve-env", type=Path, metavar="FILE",
                        help="write the environment of a `promotebot serve` against these "
                             "emulators to FILE (KEY=value lines, for `set -a; . FILE`)")
    parser.add_argument("--webhook-url", metavar="URL",
                        help="with --no-bot: where GitHub delivers its webhooks (default path "
                             "/github/webhook)")
    parser.add_argument("--tour", action="store_true",
                        help="play the workflow end to end, print it as a conversation, exit")
    parser.add_argument("--port", type=int, default=8080,
                        help="the web UI's port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--prod-cluster", action="store_true",
                        help="run prod in a second emulated cluster of its own")
    return parser


def main(argv: list[str], streams: Any) -> int:
    """`promotebot sandbox ARGS...` (the console script loads this module only for it)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:  # --help, and usage errors
        return stop.code if isinstance(stop.code, int) else 2
    problem = _url_problem(args)
    if problem:
        streams.err.write(f"promotebot sandbox: {problem}\n")
        return 2
    return run_sandbox(args, streams)


def _url_problem(args: argparse.Namespace) -> str | None:
    for option, value in (("--bot-url", args.bot_url), ("--webhook-url", args.webhook_url)):
        if value is None:
            continue
        if not args.no_bot:
            return f"{option} points the emulators at a bot started apart: add --no-bot"
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"{option}: expected an http(s) URL like http://127.0.0.1:3000, got {value!r}"
    return None


def with_path(url: str | None, path: str) -> str | None:
    """`url` with `path` when it names none (http://host:3000 -> http://host:3000/path)."""
    if url is None:
        return None
    return url.rstrip("/") + path if urlsplit(url).path in ("", "/") else url


def run_sandbox(args: argparse.Namespace, streams: Any) -> int:
    if args.tour:
        from sandbox.tour import run_tour

        return run_tour(streams.out, time_scale=max(args.time_scale, 30.0))
    if not args.headless and _port_in_use(args.port):
        streams.err.write(port_in_use(args.port))
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with World(time_scale=args.time_scale, prod_cluster=args.prod_cluster) as world:
            bot = None if args.no_bot else _start_bot(world)
            ui = None
            try:
                bot_url = (bot.slack_request_url if bot is not None
                           else with_path(args.bot_url, "/slack/events"))
                world.slack.bot_request_url = bot_url
                webhook_url = with_path(args.webhook_url, "/github/webhook")
                if webhook_url is not None:
                    from sandbox.bot import SANDBOX_WEBHOOK_SECRET

                    world.github.hooks.configure(webhook_url, SANDBOX_WEBHOOK_SECRET)
                if not args.headless:
                    from sandbox.webui import start_webui

                    try:
                        ui = start_webui(world, port=args.port, auto_ci=True)
                    except OSError as exc:  # taken between the check and now
                        if exc.errno != errno.EADDRINUSE:
                            raise
                        streams.err.write(port_in_use(args.port))
                        return 2
                # serve.env first: a script that waits for the state file finds both
                if args.serve_env:
                    environment = world.state(bot_url)["serve"]["environment"]
                    write_atomically(args.serve_env, "".join(f"{k}={v}\n" for k, v in
                                                             environment.items()))
                if args.state_file:
                    world.write_state(args.state_file, bot_url)
                streams.out.write(_banner(world, bot_url, ui.url if ui else None))
                streams.out.flush()
                while not stop.wait(0.2):
                    pass
            finally:
                if ui is not None:
                    ui.stop()
                if bot is not None:
                    bot.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    streams.out.write("sandbox stopped\n")
    return 0


def port_in_use(port: int) -> str:
    """The one line a taken web UI port gets, naming the way out."""
    return (f"promotebot sandbox: port {port} is in use; pass --port N, "
            f"or --port 0 for any free port\n")


def _port_in_use(port: int) -> bool:
    """Whether the web UI could not bind 127.0.0.1:`port` (checked before the world starts,
    which takes a while; binding as the web UI's server does, with SO_REUSEADDR)."""
    if port == 0:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _start_bot(world: World) -> Any:
    from sandbox.bot import start_bot_for

    return start_bot_for(world, redis_url=os.environ.get("REDIS_URL") or None)


def _banner(world: World, bot_url: str | None, ui_url: str | None) -> str:
    ui = (f"\n  Open the sandbox in your browser: {ui_url}\n"
          f"  (act as dana, push a change to dev, type /promote staging, approve as riley)\n"
          if ui_url else "")
    return (
        f"promotebot sandbox is running{ui}\n"
        f"  Slack API:      {world.slack.api_url}\n"
        f"  GitHub API:     {world.github.url}  (clone {world.github.clone_url})\n"
        f"  Kubernetes API: {world.cluster.url}\n"
        + (f"  prod's cluster: {world.prod_cluster.url}\n" if world.prod_cluster else "")
        + f"  bot:            {bot_url or 'not running'}\n"
        "Stop with Ctrl-C.\n"
    )


if __name__ == "__main__":
    from promotebot.cli import main as cli_main

    sys.exit(cli_main(["sandbox", *sys.argv[1:]]))
