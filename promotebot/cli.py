"""The `promotebot` console script: the core's commands plus `serve` and `sandbox`.

`sandbox` is registered by name only: its module (and with it the emulators) is imported when
the subcommand runs, so `promotebot serve` never loads the sandbox.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from promotebot.serve import register_serve
from slackbot import cli as core_cli


def register_sandbox(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox", add_help=False,
        help="run promotebot against local emulators of Slack, GitHub and Flux "
             "(promotebot sandbox --help)")
    parser.set_defaults(handler=_unreachable)  # `main` hands `sandbox ...` over before


def _unreachable(args: argparse.Namespace, streams: core_cli.Streams) -> int:
    return core_cli.EXIT_USAGE


COMMANDS: tuple[core_cli.Register, ...] = (*core_cli.COMMANDS, register_serve, register_sandbox)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sandbox"]:  # its own parser takes every option after the word
        from sandbox.command import main as sandbox_main

        return sandbox_main(args[1:], core_cli.Streams(out=sys.stdout, err=sys.stderr))
    return core_cli.main(args, COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
