"""Lint as a test: ruff on the code and its tests, mypy --strict on the shipped packages.

The house style asks for both; running them in the suite keeps them clean on every run, CI included.
The tools are the venv's own (the `test` extras). Lint only: never `--fix` nor `ruff format`,
so a run changes no file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUFF_PATHS = ("slackbot", "handlers", "promotebot", "sandbox", "tests")
MYPY_PACKAGES = ("slackbot", "handlers", "promotebot", "sandbox")


def _run(tool: str, *args: str) -> None:
    """Runs `python -m <tool>` from the project root; fails the test with the tool's output."""
    result = subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"{tool} {' '.join(args)} exited {result.returncode}:\n"
                    f"{result.stdout}{result.stderr}", pytrace=False)


def test_ruff_reports_nothing_in_code_and_tests() -> None:
    _run("ruff", "check", "--no-fix", "--output-format", "concise", *RUFF_PATHS)


def test_mypy_strict_reports_nothing_in_the_packages() -> None:
    _run("mypy", "--strict", *MYPY_PACKAGES)
