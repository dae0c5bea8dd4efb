"""Who may clone and push over git smart HTTP, and GitHub's pre-receive check of every push.

Credentials sent by git (Basic, the token as password, `x-access-token:<token>` for an App)
are checked like the REST API's: an unknown or expired token gets GitHub's 401 "Invalid
username or token. Password authentication is not supported for Git operations." and never
passes as anonymous. Pushing needs write access (else 403 "Permission to o/r.git denied to
u."). Each push runs a pre-receive hook that reports the ref updates back to the emulator
(`pre_receive`), where protection and rulesets decide; a refused push shows GitHub's GH006 /
GH013 lines and "[remote rejected] ... (protected branch hook declined)". The hook lives in a
directory the emulator owns (core.hooksPath), never in the bare repository.
"""

from __future__ import annotations

import json
import secrets
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.github import protection
from sandbox.github.githttp import reword_declined, run_http_backend
from sandbox.github.permissions import Principal, at_least, grants
from sandbox.github.protection import PushVerdict, RefUpdate
from sandbox.github.state import RepoState

HOOK_PATH = "/_sandbox/git-hooks/pre-receive"
INVALID = b"Invalid username or token. Password authentication is not supported for Git " \
          b"operations.\n"
HOOK = '''#!{python} -IS
"""The emulated GitHub's pre-receive hook: asks the emulator about every ref update."""
import json, os, subprocess, sys, urllib.request
ZERO = "0" * 40
updates = []
for line in sys.stdin:
    old, new, ref = line.split()
    forward = True
    if old != ZERO and new != ZERO:
        forward = subprocess.run(["git", "merge-base", "--is-ancestor", old, new]).returncode == 0
    updates.append({{"ref": ref, "old": old, "new": new, "fast_forward": forward}})
body = json.dumps({{"push": os.environ["SANDBOX_GITHUB_PUSH"], "updates": updates}}).encode()
request = urllib.request.Request(os.environ["SANDBOX_GITHUB_HOOK_URL"], data=body,
                                 headers={{"Content-Type": "application/json"}})
with urllib.request.urlopen(request, timeout=60) as response:
    answer = json.loads(response.read())
for text in answer["lines"]:
    print(text, file=sys.stderr)
sys.exit(0 if answer["accepted"] else 1)
'''


@dataclass(frozen=True)
class GitReply:
    status: int
    body: bytes
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Push:
    principal: Principal
    declined: str = ""


def _unauthorized() -> GitReply:
    return GitReply(401, INVALID, headers={"WWW-Authenticate": 'Basic realm="GitHub"'})


class GitService:
    """Serves {base}/{owner}/{name}.git for one emulator."""

    def __init__(self, state: RepoState, bare_repo: Path, full_name: str,
                 html_url: Callable[[], str], hook_url: Callable[[], str],
                 private: bool = False) -> None:
        self._state = state
        self._private = private
        self._bare_repo = bare_repo
        self._full_name = full_name
        self._html_url = html_url
        self._hook_url = hook_url
        self._lock = threading.Lock()
        self._pushes: dict[str, _Push] = {}
        self._hooks = Path(tempfile.mkdtemp(prefix="github-emulator-hooks-"))
        hook = self._hooks / "pre-receive"
        hook.write_text(HOOK.format(python=sys.executable))
        hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def close(self) -> None:
        shutil.rmtree(self._hooks, ignore_errors=True)

    def serve(self, method: str, sub: str, query: str, body: bytes, headers: dict[str, str],
              who: Principal | None, credentials_sent: bool, needs_auth: bool) -> GitReply:
        """One smart-HTTP request. `who` is the caller its credentials name (None: none sent,
        or refused when `credentials_sent`); `needs_auth` for a push GitHub would challenge."""
        pushing = sub == "/git-receive-pack" or "service=git-receive-pack" in query
        if credentials_sent and who is None:
            return _unauthorized()
        if who is None and needs_auth:
            return _unauthorized()
        principal = who or Principal(None)
        denied = self._denied(principal, pushing)
        if denied is not None:
            return denied
        push_id = ""
        extra_env: dict[str, str] = {}
        if method == "POST" and sub == "/git-receive-pack":
            push_id = secrets.token_urlsafe(24)
            with self._lock:
                self._pushes[push_id] = _Push(principal)
            extra_env = {"SANDBOX_GITHUB_PUSH": push_id, "SANDBOX_GITHUB_HOOK_URL":
                         self._hook_url()}
        try:
            result = run_http_backend(self._bare_repo, method, sub, query, body, headers,
                                      principal.login if who else "anonymous",
                                      hooks_path=self._hooks, extra_env=extra_env)
        finally:
            with self._lock:
                push = self._pushes.pop(push_id, None)
        payload = result.body
        if push is not None and push.declined:
            payload = reword_declined(payload, push.declined)
        content_type = "application/octet-stream"
        extra: dict[str, str] = {}
        for key, value in result.headers:
            if key.lower() == "content-type":
                content_type = value
            elif key.lower() not in ("content-length", "transfer-encoding"):
                extra[key] = value
        return GitReply(result.status, payload, content_type, extra)

    def _denied(self, who: Principal, pushing: bool) -> GitReply | None:
        if who.user is None:
            return None
        need = "write" if pushing else "read"
        if who.app is not None:
            allowed = grants(who.app.permissions, f"contents:{need}")
        else:
            allowed = at_least(self._state.role(who.login), need)
        if allowed or (not pushing and not self._private):
            return None
        if not pushing:
            return GitReply(404, b"Repository not found.\n")
        message = f"Permission to {self._full_name}.git denied to {who.login}.\n"
        return GitReply(403, message.encode())

    # -- the pre-receive hook's call -----------------------------------------------------

    def pre_receive(self, body: bytes) -> dict[str, Any]:
        """The verdict on one push's ref updates, as the hook asks for it."""
        request = json.loads(body)
        with self._lock:
            push = self._pushes.get(str(request.get("push")))
        if push is None:
            return {"accepted": False, "lines": ["error: unknown push"]}
        lines: list[str] = []
        with self._state.lock:
            for item in request.get("updates") or []:
                update = RefUpdate(str(item["ref"]), str(item["old"]), str(item["new"]),
                                   bool(item["fast_forward"]))
                verdict: PushVerdict = protection.push_verdict(
                    self._state, update, push.principal, self._html_url())
                if not verdict.accepted:
                    push.declined = verdict.declined
                    return {"accepted": False, "lines": list(verdict.lines)}
                lines += verdict.lines
        return {"accepted": True, "lines": lines}

