"""The `promotebot` command line: `config check FILE`, `config show [FILE]`, `config schema`,
`config init [OPTIONS]` (a starter pipeline file).

Each subcommand is a small `register(subparsers)` function listed once in COMMANDS; its handler
takes the parsed arguments and the output streams and returns an exit code. `main` returns
that code (the console script exits with it): nothing here calls sys.exit or reads os.environ
except `main`'s own defaults, so tests drive it in-process.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TextIO

from slackbot.config import (
    ConfigError,
    check_pipeline,
    dump_pipeline,
    load_pipeline,
    parse_pipeline,
    pipeline_schema,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # bad arguments, and a pipeline file with problems


@dataclass(frozen=True)
class Streams:
    out: TextIO
    err: TextIO


Handler = Callable[[argparse.Namespace, Streams], int]


# --------------------------------------------------------------------------- config


def _config_check(args: argparse.Namespace, streams: Streams) -> int:
    path: str = args.file
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        streams.out.write(f"{path}: no such file\n")
        return EXIT_USAGE
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        streams.out.write(f"{path}: cannot read: {reason}\n")
        return EXIT_USAGE
    problems = check_pipeline(text)
    if problems:
        for problem in problems:
            streams.out.write(f"{problem}\n")
        plural = "s" if len(problems) > 1 else ""
        streams.out.write(f"{path}: {len(problems)} problem{plural}\n")
        return EXIT_USAGE
    pipeline = parse_pipeline(text, path)
    environments = sum(len(app.environments) for app in pipeline.apps.values())
    apps = len(pipeline.apps)
    streams.out.write(
        f"{path}: ok ({apps} app{'s' * (apps != 1)}, "
        f"{environments} environment{'s' * (environments != 1)})\n"
    )
    return EXIT_OK


def _config_show(args: argparse.Namespace, streams: Streams) -> int:
    try:
        pipeline = load_pipeline(args.file)
    except ConfigError as error:
        for problem in error.problems:
            streams.out.write(f"{problem}\n")
        return EXIT_USAGE
    source = args.file or "the built-in default pipeline"
    streams.out.write(f"# effective pipeline from {source}, every default written out\n")
    streams.out.write(dump_pipeline(pipeline))
    return EXIT_OK


def _config_init(args: argparse.Namespace, streams: Streams) -> int:
    from slackbot.config.starter import Starter, problems, starter_text

    starter = Starter(repo=args.repo, app=args.app, deploys_channel=args.deploys_channel,
                      incidents_channel=args.incidents_channel,
                      stakeholders=args.stakeholders, oncall=args.oncall,
                      developers=args.developers, reviewers=args.reviewers)
    found = problems(starter)
    if found:
        for problem in found:
            streams.err.write(f"promotebot config init: {problem}\n")
        return EXIT_USAGE
    text = starter_text(starter)
    if args.output is None:
        streams.out.write(text)
        return EXIT_OK
    try:
        with open(args.output, "x", encoding="utf-8") as handle:  # never overwrite
            handle.write(text)
    except FileExistsError:
        streams.err.write(f"promotebot config init: {args.output} exists; not overwritten\n")
        return EXIT_USAGE
    except OSError as error:
        streams.err.write(f"promotebot config init: cannot write {args.output}: "
                          f"{error.strerror}\n")
        return EXIT_USAGE
    streams.out.write(f"wrote {args.output}: replace its REPLACE placeholders, then "
                      f"`promotebot config check {args.output}`\n")
    return EXIT_OK


def _config_schema(args: argparse.Namespace, streams: Streams) -> int:
    streams.out.write(json.dumps(pipeline_schema(), indent=2) + "\n")
    return EXIT_OK


def register_config(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = subparsers.add_parser("config", help="check or show a pipeline file")
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="list every problem of a pipeline file (exit 2 if there is any)"
    )
    check.add_argument("file", metavar="FILE")
    check.set_defaults(handler=_config_check)
    show = actions.add_parser(
        "show", help="print the effective pipeline as YAML (default: the built-in one)"
    )
    show.add_argument("file", metavar="FILE", nargs="?")
    show.set_defaults(handler=_config_show)
    schema = actions.add_parser("schema", help="print the pipeline file's JSON schema")
    schema.set_defaults(handler=_config_schema)
    init = actions.add_parser(
        "init", help="write a commented starter pipeline file (placeholders for what is not "
                     "given)")
    init.add_argument("--repo", metavar="OWNER/NAME", help="the GitOps repository")
    init.add_argument("--app", metavar="NAME", help="the app's name (default: the repo's)")
    init.add_argument("--deploys-channel", metavar="C...", help="the deploys channel's id")
    init.add_argument("--incidents-channel", metavar="C...", help="the incidents channel's id")
    for role in ("stakeholders", "oncall", "developers", "reviewers"):
        init.add_argument(f"--{role}", metavar="S...|U...,U...",
                          help=f"the {role}: a user group id or user ids")
    init.add_argument("--output", "-o", metavar="FILE",
                      help="write FILE (never overwritten) instead of standard output")
    init.set_defaults(handler=_config_init)


# --------------------------------------------------------------------------- the command

# The core's subcommands; the composition root (promotebot/cli.py) adds serve and sandbox.
COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    register_config,
)


def _version() -> str:
    try:
        return metadata.version("promotebot")
    except metadata.PackageNotFoundError:
        return "unknown"


Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def build_parser(commands: Sequence[Register] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promotebot",
        description="ChatOps Slack bot for a FluxCD branch-based promotion workflow.",
    )
    parser.add_argument("--version", action="version", version=f"promotebot {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in commands:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, commands: Sequence[Register] = COMMANDS) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad usage or a bad pipeline).

    The console script (promotebot/cli.py, the composition root) adds `serve` and `sandbox`."""
    streams = Streams(out=sys.stdout, err=sys.stderr)
    parser = build_parser(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits on --help, --version and usage errors
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    handler: Handler = args.handler
    return handler(args, streams)


if __name__ == "__main__":
    sys.exit(main())
