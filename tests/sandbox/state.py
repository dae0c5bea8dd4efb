"""What the sandbox tests do with a sandbox started as a process: its people from the state
file, a JSON call to one of its endpoints, a change pushed to dev over git."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from sandbox.gitseed import run_git


def user(state: dict[str, Any], role: str) -> dict[str, Any]:
    return next(u for u in state["users"] if role in u["roles"])


def post_json(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def push_to_dev(state: dict[str, Any], workdir: Path, line: str) -> str:
    """Clone dev, add `line` to the changelog, push; the new sha."""
    work = workdir / f"clone-{uuid.uuid4().hex[:6]}"
    run_git("clone", "--quiet", "--branch", "dev", state["github"]["clone_url"], str(work))
    (work / "apps/myapp/CHANGELOG.md").write_text(f"{line}\n")
    run_git("add", "--all", cwd=work)
    run_git("-c", "commit.gpgsign=false", "commit", "--quiet", "-m", "A change", cwd=work)
    run_git("push", "--quiet", "origin", "dev", cwd=work)
    return run_git("rev-parse", "HEAD", cwd=work)
