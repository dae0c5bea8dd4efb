"""The simulated source-controller's artifact storage: tarballs of fetched git revisions.

Like source-controller, a fetched revision becomes a .tar.gz under
`gitrepository/<namespace>/<name>/<sha>.tar.gz` with a sha256 digest, and consumers unpack it
to build. It reads git with the real git CLI and must not know about conditions or the store.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sandbox.gitseed import git_env

STORAGE_HOST = "source-controller.flux-system.svc.cluster.local."


class GitFetchError(Exception):
    """A git operation failed; the message reads like source-controller's."""


@dataclass(frozen=True)
class StoredArtifact:
    path: str  # relative to the storage root, as status.artifact.path
    url: str
    digest: str  # "sha256:<hex>"
    size: int


def resolve_ref(repo: str, url: str, ref: dict[str, str] | None) -> tuple[str, str]:
    """(revision, commit sha) of a GitRepository ref in the bare repository at `repo`.

    Priority as source-controller: commit > name > semver > tag > branch (default "master").
    """
    ref = ref or {}
    if ref.get("commit"):
        sha = _rev_parse(repo, f"{ref['commit']}^{{commit}}")
        if sha is None:
            raise GitFetchError(
                f"failed to checkout and determine revision: unable to clone '{url}': "
                f"git checkout error: object not found: commit '{ref['commit']}'"
            )
        return (f"{ref['branch']}@sha1:{sha}" if ref.get("branch") else f"sha1:{sha}"), sha
    if ref.get("name"):
        sha = _rev_parse(repo, f"{ref['name']}^{{commit}}")
        if sha is None:
            raise _missing(url, ref["name"])
        return f"{ref['name']}@sha1:{sha}", sha
    if ref.get("semver"):
        raise GitFetchError(
            "failed to checkout and determine revision: "
            "semver refs are not supported by the sandbox"
        )
    if ref.get("tag"):
        sha = _rev_parse(repo, f"refs/tags/{ref['tag']}^{{commit}}")
        if sha is None:
            raise _missing(url, f"refs/tags/{ref['tag']}")
        return f"{ref['tag']}@sha1:{sha}", sha
    branch = ref.get("branch") or "master"
    sha = _rev_parse(repo, f"refs/heads/{branch}^{{commit}}")
    if sha is None:
        raise _missing(url, f"refs/heads/{branch}")
    return f"{branch}@sha1:{sha}", sha


# What Go's url.Parse accepts in a host name besides letters and digits (shouldEscape in
# encodeHost mode, and '%' escapes); anything else ASCII is "invalid character".
_HOST_CHARS = frozenset("-._~!$&'()*+,;=:[]<>\"%")


def url_error(url: str) -> str | None:
    """Why Go's url.Parse refuses `url` (its error text), or None: the cases a GitRepository
    URL can reach past the CRD's pattern (^(http|https|ssh)://.*$)."""
    if "://" not in url:
        return None
    authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = authority.rsplit("@", 1)[-1]
    for char in host:
        if char.isascii() and not char.isalnum() and char not in _HOST_CHARS:
            return f'parse "{url}": invalid character "{char}" in host name'
    return None


def _missing(url: str, ref: str) -> GitFetchError:
    return GitFetchError(
        f"failed to checkout and determine revision: unable to clone '{url}': "
        f'couldn\'t find remote ref "{ref}"'
    )


def _rev_parse(repo: str, spec: str) -> str | None:
    if not Path(repo).exists():
        raise GitFetchError(f"repository '{repo}' does not exist")
    done = subprocess.run(
        ["git", "--git-dir", repo, "rev-parse", "--verify", "--quiet", spec],
        env=git_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


class ArtifactStorage:
    """Tarballs of git trees under one root, two kept per object as source-controller does."""

    def __init__(self, root: str | Path | None = None, keep: int = 2) -> None:
        self._owned = root is None
        self.root = (
            Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="flux-artifacts-"))
        )
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep = keep

    def store_git(self, repo: str, sha: str, namespace: str, name: str) -> StoredArtifact:
        rel = f"gitrepository/{namespace}/{name}/{sha}.tar.gz"
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            partial = target.with_suffix(".tmp")
            done = subprocess.run(
                ["git", "--git-dir", repo, "archive", "--format=tar.gz", "-o", str(partial), sha],
                env=git_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise GitFetchError(f"failed to archive revision {sha}: {done.stderr.strip()}")
            partial.replace(target)
        self._collect(target.parent, keep_file=target)
        data = target.read_bytes()
        return StoredArtifact(
            path=rel,
            url=f"http://{STORAGE_HOST}/{rel}",
            digest="sha256:" + hashlib.sha256(data).hexdigest(),
            size=len(data),
        )

    def _collect(self, directory: Path, keep_file: Path) -> None:
        others = sorted(
            (p for p in directory.glob("*.tar.gz") if p != keep_file),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for stale in others[max(0, self.keep - 1) :]:
            stale.unlink(missing_ok=True)
        keep_file.touch()

    def exists(self, rel_path: str) -> bool:
        return bool(rel_path) and (self.root / rel_path).is_file()

    def remove_all(self, namespace: str, name: str) -> None:
        """Garbage collection of a deleted GitRepository: every artifact it stored."""
        shutil.rmtree(self.root / "gitrepository" / namespace / name, ignore_errors=True)

    def unpack(self, rel_path: str, digest: str | None, dest: Path) -> None:
        """Extracts an artifact into `dest`, checking its digest.

        Raises FileNotFoundError when it is gone, ValueError when the digest differs.
        """
        source = self.root / rel_path
        data = source.read_bytes()
        if digest and digest != "sha256:" + hashlib.sha256(data).hexdigest():
            raise ValueError(f"artifact {rel_path} does not match digest {digest}")
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(dest, filter="data")

    def close(self) -> None:
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)
