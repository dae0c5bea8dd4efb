"""`promotebot sandbox`: the emulated world and the real bot between them, on one machine.

`--headless` runs without the web UI and writes a state file describing every endpoint, user
and token, for tests and scripts. It runs until SIGINT or SIGTERM, then stops everything it
started and exits 0.
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

from sandbox.world import World


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promotebot sandbox",
        description="run promotebot against local emulators of Slack, GitHub and Flux")
    parser.add_argument("--headless", action="store_true",
                        help="no web UI; write --state-file and wait for a signal")
    parser.add_argument("--state-file", type=Path,
                        help="write the sandbox's endpoints, users and tokens here, as JSON")
    parser.add_argument("--time-scale", type=float, default=10.0,
                        help="speeds every Flux interval and timeout (10: 1m passes in 6s)")
    parser.add_argument("--no-bot", action="store_true",
                        help="start the emulators only (bot_request_url stays null)")
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
    return run_sandbox(args, streams)


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
                bot_url = bot.slack_request_url if bot is not None else None
                world.slack.bot_request_url = bot_url
                if not args.headless:
                    from sandbox.webui import start_webui

                    try:
                        ui = start_webui(world, port=args.port, auto_ci=True)
                    except OSError as exc:  # taken between the check and now
                        if exc.errno != errno.EADDRINUSE:
                            raise
                        streams.err.write(port_in_use(args.port))
                        return 2
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
