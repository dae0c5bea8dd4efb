"""What the web UI's world buttons do, each the way a person or CI would do it for real.

A change to dev is a git commit pushed over HTTP to the GitHub emulator, then a reconcile
request on dev's GitRepository (as Flux's webhook Receiver would do on a push); an approval is
a review through the REST API with the reviewer's token; a check is the CI's check run. Each
failure the user can cause raises `ActionError` with a message fit to show. No UI here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.gitseed import git_env
from sandbox.webui.worldview import DEPLOYMENT_FILE, FLUX_NAMESPACE, IMAGE_LINE, image_tag
from sandbox.world import OWNER, REPO, World, person

Json = dict[str, Any]
DEV = "dev"
CHANGELOG = f"apps/{REPO}/CHANGELOG.md"
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
ADDED_TAG = re.compile(r"^\+\s*image:\s*\S+:(\d+\.\d+\.\d+)\s*$", re.MULTILINE)
CONCLUSIONS = ("success", "failure")
PUSH_ATTEMPTS = 3
MESSAGE_MAX = 200


class ActionError(Exception):
    """A refused or failed world action; `str()` is safe to show to the user."""


def _semver(tag: str) -> tuple[int, int, int] | None:
    found = SEMVER.match(tag)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


class WorldActions:
    """Pushes, breaks, approvals and checks on a running world; stop() removes its clone."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="promotebot-webui-"))
        self._clone: Path | None = None
        self._broken = 0

    def stop(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    # ------------------------------------------------------------------- git

    def _git(self, *args: str) -> str:
        assert self._clone is not None
        done = subprocess.run(
            ["git", *args],
            cwd=self._clone,
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise ActionError(f"git {args[0]} failed: {done.stderr.strip()[-300:]}")
        return done.stdout.strip()

    def _env(self) -> dict[str, str]:
        dev = person("developer")
        env = git_env()
        env.update(
            {
                "GIT_AUTHOR_NAME": dev.name,
                "GIT_COMMITTER_NAME": dev.name,
                "GIT_AUTHOR_EMAIL": f"{dev.github_login}@users.noreply.github.com",
                "GIT_COMMITTER_EMAIL": f"{dev.github_login}@users.noreply.github.com",
            }
        )
        return env

    def _remote(self) -> str:
        dev = person("developer")
        return self.world.github.clone_url.replace(
            "://", f"://{dev.github_login}:{dev.github_token}@", 1
        )

    def _checkout_dev(self) -> None:
        if self._clone is None:
            clone = self._dir / REPO
            done = subprocess.run(
                ["git", "clone", "--quiet", "--branch", DEV, self._remote(), str(clone)],
                env=self._env(),
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            if done.returncode != 0:
                raise ActionError(f"git clone failed: {done.stderr.strip()[-300:]}")
            self._clone = clone
        self._git("fetch", "--quiet", "origin", DEV)
        self._git("checkout", "--quiet", "-B", DEV, f"origin/{DEV}")

    def _commit_and_push(self, edit: Callable[[Path], str]) -> str:
        """Applies `edit(clone)` (returns the commit message) on dev's head, commits, pushes;
        starts again from the new head if someone pushed first."""
        with self._lock:
            for _ in range(PUSH_ATTEMPTS):
                self._checkout_dev()
                assert self._clone is not None
                message = edit(self._clone)
                self._git("add", "--all")
                self._git("-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message)
                sha = self._git("rev-parse", "HEAD")
                try:
                    self._git("push", "--quiet", "origin", f"HEAD:refs/heads/{DEV}")
                except ActionError:
                    continue  # someone pushed first: start again from the new head
                self._request_reconcile()
                return sha
        raise ActionError("dev kept moving: the push was rejected three times")

    def _request_reconcile(self) -> None:
        """Asks Flux to fetch dev now, as a GitHub push webhook to Flux's Receiver would."""
        url = (
            f"{self.world.cluster.url}/apis/source.toolkit.fluxcd.io/v1/namespaces/"
            f"{FLUX_NAMESPACE}/gitrepositories/{REPO}-{DEV}"
        )
        stamp = datetime.now(tz=UTC).isoformat()
        body = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": stamp}}}
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="PATCH",
            headers={"Content-Type": "application/merge-patch+json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError):
            return  # Flux still picks the push up at its next interval

    # ------------------------------------------------------------ pushes to dev

    def _current_image(self, clone: Path) -> str:
        found = IMAGE_LINE.search((clone / DEPLOYMENT_FILE).read_text())
        if not found:
            raise ActionError(f"no image in {DEPLOYMENT_FILE}")
        return found.group(1)

    def _last_good_tag(self, clone: Path) -> tuple[int, int, int]:
        tags = [_semver(image_tag(self._current_image(clone)) or "")]
        history = self._git("log", "-p", "--format=", "--", DEPLOYMENT_FILE)
        tags.extend(_semver(t) for t in ADDED_TAG.findall(history))
        known = [t for t in tags if t is not None]
        return max(known) if known else (1, 0, 0)

    @staticmethod
    def _set_tag(clone: Path, tag: str) -> str:
        path = clone / DEPLOYMENT_FILE
        text = path.read_text()

        def swap(match: re.Match[str]) -> str:
            line = match.group(0)
            image = match.group(1)
            name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            return line.replace(image, f"{name}:{tag}")

        path.write_text(IMAGE_LINE.sub(swap, text, count=1))
        return tag

    @staticmethod
    def _note(clone: Path, line: str) -> None:
        path = clone / CHANGELOG
        lines = path.read_text().splitlines() if path.exists() else []
        title = lines[0] if lines and lines[0].startswith("#") else f"# {REPO} changelog"
        entries = [entry for entry in lines[1:] if entry.strip()]
        path.write_text("\n".join([title, "", f"- {line}", *entries]) + "\n")

    def push_change(self, message: str | None = None, kind: str = "bump") -> Json:
        """A developer's change on dev: a new image tag (kind 'bump') or a changelog line."""
        if kind not in ("bump", "changelog"):
            raise ActionError("kind must be 'bump' or 'changelog'")
        text = " ".join(str(message or "").split())[:MESSAGE_MAX]
        result: Json = {}

        def edit(clone: Path) -> str:
            if kind == "bump":
                major, minor, patch = self._last_good_tag(clone)
                tag = self._set_tag(clone, f"{major}.{minor}.{patch + 1}")
                result["tag"] = tag
                result["subject"] = text or f"Release {REPO} {tag}"
                self._note(clone, f"{tag}: {text or 'a new build'}")
            else:
                result["subject"] = text or "Update the changelog"
                self._note(clone, result["subject"])
            return str(result["subject"])

        sha = self._commit_and_push(edit)
        return {"sha": sha, "short": sha[:7], **result}

    def break_deployment(self) -> Json:
        """Pushes to dev an image tag starting with `broken`: its pods crash and never ready."""
        with self._lock:
            self._broken += 1
            number = self._broken
        tag = f"broken-{number}"

        def edit(clone: Path) -> str:
            self._set_tag(clone, tag)
            self._note(clone, f"{tag}: a build that crashes at start")
            return f"Deploy {REPO} {tag} (a build that crashes)"

        sha = self._commit_and_push(edit)
        return {"sha": sha, "short": sha[:7], "tag": tag}

    # -------------------------------------------------------------- pull requests

    def _head_of(self, number: int) -> str:
        try:
            pull = self.world.github.pull_request(number)
        except Exception as exc:  # the emulator's 404 (ApiError) for an unknown number
            raise ActionError(f"no pull request #{number}") from exc
        return str(pull["head"]["sha"])

    def approve(self, number: int, body: str | None = None) -> Json:
        """The reviewer approves pull request `number` through the REST API, with her token."""
        reviewer = person("reviewer")
        url = f"{self.world.github.url}/repos/{OWNER}/{REPO}/pulls/{number}/reviews"
        payload = {"event": "APPROVE", "body": body or "Looks good to me."}
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "Authorization": f"token {reviewer.github_token}",
                "Content-Type": "application/json",
                "Accept": "application/vnd.github+json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                review = json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as exc:
            try:
                reason = json.loads(exc.read().decode() or "{}").get("message") or exc.reason
            except ValueError:
                reason = exc.reason
            raise ActionError(f"GitHub refused the review of #{number}: {reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ActionError("the GitHub emulator did not answer") from exc
        return {
            "number": number,
            "review_id": review.get("id"),
            "user": reviewer.github_login,
            "state": review.get("state"),
        }

    def set_check(self, number: int, conclusion: str, name: str = "ci") -> Json:
        """The CI finishes check run `name` on the pull request's head commit."""
        if conclusion not in CONCLUSIONS:
            raise ActionError(f"conclusion must be one of {', '.join(CONCLUSIONS)}")
        if not name or len(name) > 100:
            raise ActionError("a check needs a name of 1-100 characters")
        sha = self._head_of(number)
        try:
            run_id = self.world.github.set_check(sha, name, conclusion)
        except ValueError as exc:
            raise ActionError(f"the head of #{number} is not a known commit") from exc
        return {
            "number": number,
            "sha": sha,
            "short": sha[:7],
            "name": name,
            "conclusion": conclusion,
            "check_run_id": run_id,
        }
