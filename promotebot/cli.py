"""The `promotebot` console script: the core's commands plus `serve` and `sandbox`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from slackbot import cli as core_cli


def _commands() -> tuple[core_cli.Register, ...]:
    from promotebot.serve import register_serve
    from sandbox.command import register_sandbox

    return (*core_cli.COMMANDS, register_serve, register_sandbox)


def main(argv: Sequence[str] | None = None) -> int:
    return core_cli.main(argv, _commands())


if __name__ == "__main__":
    sys.exit(main())
