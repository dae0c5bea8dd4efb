"""What the web UI's side panels show: each env's branch head, Flux status and pods, and the
pull requests with their checks and reviews, read from the running world as it is now.

Reads only: git through one `for-each-ref` per snapshot (image tags cached per commit), the
GitHub emulator's records under its lock, the cluster's store. Snapshots are cached for a
fraction of a second so many polling tabs cost one read. It must not change the world.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.gitseed import ENVIRONMENTS, git_env
from sandbox.world import REPO, World

Json = dict[str, Any]
FLUX_NAMESPACE = "flux-system"
DEPLOYMENT_FILE = f"apps/{REPO}/base/deployment.yaml"
IMAGE_LINE = re.compile(r"^\s*image:\s*[\"']?([^\s\"']+)", re.MULTILINE)
SNAPSHOT_TTL = 0.3
RECENT_CLOSED = 3


def git(repo: str, *args: str) -> str:
    done = subprocess.run(
        ["git", "--git-dir", repo, *args],
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=20,
    )
    return done.stdout if done.returncode == 0 else ""


def image_of(text: str) -> str | None:
    found = IMAGE_LINE.search(text)
    return found.group(1) if found else None


def image_tag(image: str | None) -> str | None:
    if not image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def condition(obj: Json | None, kind: str) -> Json | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def ready_word(cond: Json | None) -> str:
    """'Ready', 'Not ready' or 'Reconciling' (Ready=Unknown, or no status yet)."""
    status = (cond or {}).get("status")
    if status == "True":
        return "Ready"
    if status == "False":
        return "Not ready"
    return "Reconciling"


def revision_sha(revision: str | None) -> str:
    """'dev@sha1:abc…' -> 'abc…' (Flux's revision format); '' when absent."""
    if not revision:
        return ""
    return revision.rsplit(":", 1)[-1] if "sha1:" in revision else revision.rsplit("@", 1)[-1]


@dataclass
class WorldView:
    world: World
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cached: Json | None = None
    _cached_at: float = 0.0
    _images: dict[str, str | None] = field(default_factory=dict)

    def snapshot(self) -> Json:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached_at > SNAPSHOT_TTL:
                self._cached = self._read()
                self._cached_at = time.monotonic()
            return self._cached

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    # ------------------------------------------------------------------ reading

    def _read(self) -> Json:
        heads = self._branch_heads()
        return {
            "envs": [self._env(env, heads.get(env)) for env in ENVIRONMENTS],
            "pulls": self._pulls({name: head["sha"] for name, head in heads.items()}),
        }

    def _branch_heads(self) -> dict[str, Json]:
        out = git(
            str(self.world.repo.path),
            "for-each-ref",
            "--format=%(refname:short)%00%(objectname)%00%(authorname)%00%(contents:subject)",
            "refs/heads",
        )
        heads: dict[str, Json] = {}
        for line in out.splitlines():
            parts = line.split("\x00")
            if len(parts) == 4:
                name, sha, author, subject = parts
                heads[name] = {"sha": sha, "short": sha[:7], "author": author, "subject": subject}
        return heads

    def _image_at(self, sha: str) -> str | None:
        if sha not in self._images:
            self._images[sha] = image_of(
                git(str(self.world.repo.path), "show", f"{sha}:{DEPLOYMENT_FILE}")
            )
        return self._images[sha]

    def _get(self, plural: str, namespace: str, name: str, env: str) -> Json | None:
        items, _ = self.world.cluster_of(env).store.list(
            plural, namespace, field_selector=f"metadata.name={name}"
        )
        return items[0] if items else None

    def _env(self, env: str, head: Json | None) -> Json:
        name = f"{REPO}-{env}"
        kustomization = self._get("kustomizations", FLUX_NAMESPACE, name, env)
        source = self._get("gitrepositories", FLUX_NAMESPACE, name, env)
        ready = condition(kustomization, "Ready")
        status = (kustomization or {}).get("status") or {}
        applied = status.get("lastAppliedRevision")
        artifact = ((source or {}).get("status") or {}).get("artifact") or {}
        image = self._image_at(head["sha"]) if head else None
        return {
            "name": env,
            "head": head,
            "image": image,
            "tag": image_tag(image),
            "flux": {
                "ready": (ready or {}).get("status") or "Unknown",
                "word": ready_word(ready),
                "reason": (ready or {}).get("reason") or "",
                "message": (ready or {}).get("message") or "",
                "revision": applied or "",
                "revision_short": revision_sha(applied)[:7],
                "attempted_short": revision_sha(status.get("lastAttemptedRevision"))[:7],
                "source_short": revision_sha(artifact.get("revision"))[:7],
                "suspended": bool(((kustomization or {}).get("spec") or {}).get("suspend")),
            },
            "pods": self._pods(env),
        }

    def _pods(self, namespace: str) -> Json:
        deployment = self._get("deployments", namespace, REPO, namespace)
        spec = (deployment or {}).get("spec") or {}
        status = (deployment or {}).get("status") or {}
        pods, _ = self.world.cluster_of(namespace).store.list("pods", namespace)
        listed = []
        for pod in pods:
            containers = (pod.get("status") or {}).get("containerStatuses") or []
            reason = ""
            restarts = 0
            ready = bool(containers) and all(c.get("ready") for c in containers)
            for c in containers:
                restarts += int(c.get("restartCount") or 0)
                for key in ("waiting", "terminated"):
                    reason = reason or ((c.get("state") or {}).get(key) or {}).get("reason") or ""
            image = ""
            for c in ((pod.get("spec") or {}).get("containers") or [])[:1]:
                image = str(c.get("image") or "")
            listed.append(
                {
                    "name": pod["metadata"]["name"],
                    "phase": (pod.get("status") or {}).get("phase") or "Pending",
                    "ready": ready,
                    "reason": reason,
                    "restarts": restarts,
                    "tag": image_tag(image) or "",
                }
            )
        return {
            "desired": int(spec.get("replicas") or 0) if deployment else 0,
            "ready": int(status.get("readyReplicas") or 0),
            "updated": int(status.get("updatedReplicas") or 0),
            "items": listed,
        }

    def _pulls(self, heads: dict[str, str]) -> list[Json]:
        state = self.world.github.state
        with state.lock:
            pulls = sorted(state.pulls.values(), key=lambda p: p.number, reverse=True)
            open_ = [p for p in pulls if p.state == "open"]
            closed = [p for p in pulls if p.state != "open"][:RECENT_CLOSED]
            result = []
            for pr in [*open_, *closed]:
                head = (pr.closed_head_sha if pr.state == "closed" else heads.get(pr.head)) or ""
                checks: dict[str, Json] = {}
                for run in sorted(state.check_runs.values(), key=lambda r: r.id):
                    if run.head_sha == head:
                        checks[run.name] = {
                            "name": run.name,
                            "status": run.status,
                            "conclusion": run.conclusion or "",
                        }
                for status in sorted(state.statuses, key=lambda s: s.id):
                    if status.sha == head:
                        checks[status.context] = {
                            "name": status.context,
                            "status": "completed" if status.state != "pending" else "in_progress",
                            "conclusion": status.state if status.state != "pending" else "",
                        }
                reviews: dict[str, Json] = {}
                for review in pr.reviews:
                    if review.state != "PENDING":
                        reviews[review.user] = {"user": review.user, "state": review.state}
                result.append(
                    {
                        "number": pr.number,
                        "title": pr.title,
                        "user": pr.user,
                        "base": pr.base,
                        "head": pr.head,
                        "head_sha": head,
                        "head_short": head[:7],
                        "state": "merged" if pr.merged else pr.state,
                        "checks": list(checks.values()),
                        "reviews": list(reviews.values()),
                    }
                )
            return result
