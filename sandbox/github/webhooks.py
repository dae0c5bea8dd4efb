"""Webhook deliveries from the emulated GitHub: octokit-shaped payloads for pull_request
(opened, edited, synchronize, closed, reopened), pull_request_review (submitted, dismissed),
check_run, check_suite and status, signed and POSTed as github.com does.

Off until `WebhookSender.configure(url, secret)` names a URL. Payloads are built by the caller
under the repository lock (they read the records); a single delivery thread sends them in
order, so a slow receiver never holds up the API. Every delivery is recorded for tests. Review
states are lower-case here, unlike the REST API (as GitHub sends them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from sandbox.github import shapes
from sandbox.github.models import CheckRun, CommitStatus, PullRequest, Review
from sandbox.github.state import CHECK_SUCCESS

if TYPE_CHECKING:
    from sandbox.github.app import App
    from sandbox.github.state import Observed

log = logging.getLogger(__name__)
HOOK_ID = 424242


@dataclass
class Delivery:
    id: str
    event: str
    action: str
    body: bytes
    status: int | None = None  # the receiver's HTTP status; None until sent, 0 if unreachable
    response: bytes = b""
    target_id: int | None = None  # the repository's id (X-GitHub-Hook-Installation-Target-ID)


class WebhookSender:
    """Signs and POSTs deliveries to `url` from one background thread, in order."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.secret: str | None = None
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None

    def configure(self, url: str | None, secret: str | None = None) -> None:
        """Deliver to `url` (None: stop delivering), signed with `secret` when it is set."""
        self.url, self.secret = url, secret

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def send(self, event: str, payload: dict[str, Any]) -> Delivery | None:
        if not self.enabled:
            return None
        body = json.dumps(payload).encode()
        repository = payload.get("repository") or {}
        delivery = Delivery(str(uuid.uuid4()), event, str(payload.get("action") or ""), body,
                            target_id=repository.get("id"))
        self._enqueue(delivery)
        return delivery

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a past delivery again with its own GUID, as GitHub's "Redeliver" does."""
        with self._lock:
            old = next(d for d in self.deliveries if d.id == delivery_id)
        again = Delivery(old.id, old.event, old.action, old.body, target_id=old.target_id)
        self._enqueue(again)
        return again

    def _enqueue(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="github-webhooks",
                                                daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until every queued delivery was sent (True) or `timeout` passed (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            try:
                self._post(delivery)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _post(self, delivery: Delivery) -> None:
        url, secret = self.url, self.secret
        if not url:
            delivery.status = 0
            return
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/sandbox",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
        }
        if delivery.target_id is not None:
            headers["X-GitHub-Hook-Installation-Target-ID"] = str(delivery.target_id)
        if secret:
            digest = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
            legacy = hmac.new(secret.encode(), delivery.body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={legacy}"
        request = urllib.request.Request(url, data=delivery.body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                delivery.status, delivery.response = response.status, response.read()
        except urllib.error.HTTPError as error:
            delivery.status, delivery.response = error.code, error.read()
        except (OSError, ValueError) as error:  # receiver down: GitHub records a failure too
            log.info("webhook %s to %s failed: %s", delivery.event, url, error)
            delivery.status = 0


# -- payloads (call with the repository lock held) -----------------------------------------


def _common(app: App, sender: str) -> dict[str, Any]:
    return {"repository": app.repo_json(), "sender": app.user_json(sender),
            "installation": {"id": app.installation_id} if app.installation_id else None}


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


def pull_request(app: App, pr: PullRequest, action: str, sender: str,
                 before: str | None = None, after: str | None = None,
                 changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """`changes` (for edited) holds the old values: {"title": {"from": "..."}, ...}."""
    payload: dict[str, Any] = {"action": action, "number": pr.number,
                               "pull_request": app.pull_json(pr, detail=True),
                               **_common(app, sender)}
    if action == "synchronize":
        payload["before"], payload["after"] = before, after
    if action == "edited":
        payload["changes"] = changes or {}
    return _clean(payload)


def pull_request_review(app: App, pr: PullRequest, review: Review, sender: str,
                        action: str = "submitted") -> dict[str, Any]:
    shaped = shapes.review(app.urls, pr.number, review, app.state.users)
    shaped["state"] = review.state.lower()  # webhooks: approved, changes_requested, commented
    return _clean({"action": action, "review": shaped,
                   "pull_request": app.pull_json(pr, detail=False), **_common(app, sender)})


def status(app: App, item: CommitStatus) -> dict[str, Any]:
    branches = [
        {"name": name, "commit": {"sha": sha, "url": f"{app.urls.repo}/commits/{sha}"},
         "protected": name in app.state.protections}
        for name, sha in sorted(app.repo.branches().items()) if sha == item.sha
    ]
    return _clean({
        "id": item.id, "sha": item.sha, "name": f"{app.urls.owner}/{app.urls.name}",
        "target_url": item.target_url, "context": item.context,
        "description": item.description, "state": item.state,
        "commit": app.commit_json(item.sha), "branches": branches,
        "created_at": shapes.iso(item.created_at), "updated_at": shapes.iso(item.updated_at),
        **_common(app, item.creator),
    })


def _pull_refs(app: App, sha: str) -> list[dict[str, Any]]:
    """The minimal pull request objects GitHub puts in check payloads: open PRs at `sha`."""
    repo = {"id": 1, "url": app.urls.repo, "name": app.urls.name}
    found = []
    for pr in sorted(app.state.pulls.values(), key=lambda p: p.number):
        if pr.state == "open" and app.state.head_sha(pr) == sha:
            found.append({
                "url": f"{app.urls.repo}/pulls/{pr.number}", "id": pr.id, "number": pr.number,
                "head": {"ref": pr.head, "sha": sha, "repo": repo},
                "base": {"ref": pr.base, "sha": app.state.base_sha(pr), "repo": repo},
            })
    return found


def _head_branch(app: App, sha: str) -> str | None:
    for pr in sorted(app.state.pulls.values(), key=lambda p: p.number):
        if pr.state == "open" and app.state.head_sha(pr) == sha:
            return pr.head
    return next((name for name, head in sorted(app.repo.branches().items()) if head == sha), None)


def _suite(app: App, sha: str) -> dict[str, Any]:
    """The check suite of a commit: every latest run on it (one suite per commit here)."""
    runs = app.state.latest_check_runs(sha)
    done = all(r.status == "completed" for r in runs)
    conclusion = None
    if done and runs:
        conclusion = ("success" if all(r.conclusion in CHECK_SUCCESS for r in runs)
                      else "failure")
    return {
        "id": int(sha[:7], 16), "node_id": f"CS_{sha[:7]}", "head_branch": _head_branch(app, sha),
        "head_sha": sha, "status": "completed" if done else "in_progress",
        "conclusion": conclusion, "url": f"{app.urls.repo}/check-suites/{int(sha[:7], 16)}",
        "before": None, "after": sha, "pull_requests": _pull_refs(app, sha),
        "app": {"id": 1, "slug": "sandbox-ci", "name": "Sandbox CI"},
        "latest_check_runs_count": len(runs),
        "check_runs_url": f"{app.urls.repo}/check-suites/{int(sha[:7], 16)}/check-runs",
    }


def check_run(app: App, run: CheckRun, action: str) -> dict[str, Any]:
    shaped = shapes.check_run(app.urls, run)
    shaped["check_suite"] = _suite(app, run.head_sha)
    shaped["pull_requests"] = _pull_refs(app, run.head_sha)
    return _clean({"action": action, "check_run": shaped, **_common(app, run.creator)})


def check_suite(app: App, sha: str, sender: str) -> dict[str, Any] | None:
    """check_suite completed, once every latest run on the commit has completed."""
    suite = _suite(app, sha)
    if suite["status"] != "completed":
        return None
    return _clean({"action": "completed", "check_suite": suite, **_common(app, sender)})


def after_check(app: App, run: CheckRun, created: bool, was_completed: bool) -> None:
    """The deliveries a created or updated check run causes."""
    if created:
        app.emit("check_run", lambda: check_run(app, run, "created"))
    if run.status == "completed" and not was_completed:
        app.emit("check_run", lambda: check_run(app, run, "completed"))
        app.emit("check_suite", lambda: check_suite(app, run.head_sha, run.creator))


def after_observe(app: App, observed: Observed, sender: str) -> None:
    """synchronize for every moved head, dismissed for every approval that went stale."""
    for pr, old, new in observed.moves:
        app.emit("pull_request", partial(pull_request, app, pr, "synchronize", sender,
                                         before=old, after=new))
    for pr, review in observed.dismissed:
        app.emit("pull_request_review", partial(pull_request_review, app, pr, review, sender,
                                                action="dismissed"))


Build = Callable[[], dict[str, Any] | None]
