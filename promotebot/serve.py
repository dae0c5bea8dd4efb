"""`promotebot serve`: the bot in production, configured from the environment."""

from __future__ import annotations

import argparse
from typing import Any


def register_serve(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run the bot (HTTP mode, or Socket Mode when "
                                                 "SLACK_APP_TOKEN is set)")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, streams: Any) -> int:
    streams.err.write("promotebot serve: not wired yet\n")
    return 1
