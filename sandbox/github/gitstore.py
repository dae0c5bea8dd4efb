"""Git plumbing over the emulator's bare repository: reads, trial merges and ref updates.

Everything GitHub would do to the repository (merge a pull request, merge branches, create
or move refs) happens here as real git commands on the bare repository, so what the API
reports is what `git clone` sees. It knows nothing of HTTP, pull requests or JSON; callers
serialize writes with `write_lock` and ref moves are compare-and-swap (`update-ref new old`).
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ZERO_SHA = "0" * 40
_FIELD = "\x1f"
_RECORD = "\x1e"
_LOG_FORMAT = (
    _FIELD.join(["%H", "%T", "%P", "%an", "%ae", "%at", "%cn", "%ce", "%ct", "%B"]) + _RECORD
)


class GitError(RuntimeError):
    """A git command failed; carries its stderr."""


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    date: datetime


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # added | removed | modified | renamed
    additions: int
    deletions: int
    patch: str | None
    blob_sha: str
    previous_filename: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True)
class MergeResult:
    clean: bool
    tree: str | None
    conflicts: tuple[str, ...]


def _epoch(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)


class BareRepository:
    """A bare git repository driven with the git CLI."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.write_lock = threading.RLock()
        if not (self.path / "HEAD").exists():
            raise GitError(f"not a bare git repository: {self.path}")

    # -- running git -------------------------------------------------------------------

    def git(
        self,
        *args: str,
        input_text: str | None = None,
        env: dict[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            input=input_text,
            capture_output=True,
            text=True,
            env=full_env,
            check=False,
        )
        if proc.returncode not in ok_codes:
            raise GitError(f"git {args[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc

    # -- reading -----------------------------------------------------------------------

    def default_branch(self) -> str:
        proc = self.git("symbolic-ref", "--short", "HEAD", ok_codes=(0, 1, 128))
        name = proc.stdout.strip()
        return name or "main"

    def branches(self) -> dict[str, str]:
        out = self.git(
            "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"
        ).stdout
        result: dict[str, str] = {}
        for line in out.splitlines():
            name, _, sha = line.rpartition(" ")
            result[name] = sha
        return result

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix).stdout
        result: dict[str, str] = {}
        for line in out.splitlines():
            name, _, sha = line.rpartition(" ")
            result[name] = sha
        return result

    def branch_sha(self, branch: str) -> str | None:
        return self.ref_sha(f"refs/heads/{branch}")

    def ref_sha(self, ref: str) -> str | None:
        proc = self.git(
            "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok_codes=(0, 1, 128)
        )
        return proc.stdout.strip() or None if proc.returncode == 0 else None

    def resolve(self, rev: str) -> str | None:
        """A branch name, tag, full or abbreviated sha to a commit sha; None when unknown."""
        if not rev or rev.startswith("-"):
            return None
        for candidate in (f"refs/heads/{rev}", f"refs/tags/{rev}", rev):
            sha = self.ref_sha(candidate)
            if sha:
                return sha
        return None

    def object_exists(self, sha: str) -> bool:
        proc = self.git("cat-file", "-e", f"{sha}^{{commit}}", ok_codes=(0, 1, 128))
        return proc.returncode == 0

    def commits(self, *revs: str, max_count: int | None = None, skip: int = 0) -> list[CommitInfo]:
        """`git log <revs>` newest first."""
        args = ["log", f"--format={_LOG_FORMAT}"]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        if skip:
            args.append(f"--skip={skip}")
        args.extend([*revs, "--"])
        out = self.git(*args).stdout
        return [self._parse(rec) for rec in out.split(_RECORD) if rec.strip("\n")]

    def commit(self, sha: str) -> CommitInfo:
        return self.commits(sha, max_count=1)[0]

    @staticmethod
    def _parse(record: str) -> CommitInfo:
        parts = record.lstrip("\n").split(_FIELD)
        sha, tree, parents, an, ae, at, cn, ce, ct = parts[:9]
        message = _FIELD.join(parts[9:]).rstrip("\n")
        return CommitInfo(
            sha=sha,
            tree=tree,
            parents=tuple(parents.split()),
            author=Signature(an, ae, _epoch(at)),
            committer=Signature(cn, ce, _epoch(ct)),
            message=message,
        )

    def count(self, rev_range: str) -> int:
        return int(self.git("rev-list", "--count", rev_range, "--").stdout.strip() or 0)

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.git("merge-base", a, b, ok_codes=(0, 1))
        return proc.stdout.strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return (
            self.git(
                "merge-base", "--is-ancestor", ancestor, descendant, ok_codes=(0, 1)
            ).returncode
            == 0
        )

    def diff_files(self, old: str | None, new: str) -> list[FileChange]:
        """Changed files between two commits (old None: the empty tree), as GitHub lists them."""
        base = old or self.git("hash-object", "-t", "tree", "/dev/null").stdout.strip()
        raw = self.git("diff", "--raw", "-z", "-M", "--no-abbrev", base, new).stdout
        numstat = self.git("diff", "--numstat", "-z", "-M", base, new).stdout
        patch_text = self.git("diff", "-M", "--no-color", base, new).stdout
        entries = _parse_raw(raw)
        counts = _parse_numstat(numstat)
        patches = _split_patches(patch_text)
        files: list[FileChange] = []
        for index, (status, path, old_path, blob) in enumerate(entries):
            adds, dels = counts[index] if index < len(counts) else (0, 0)
            files.append(
                FileChange(
                    filename=path,
                    status=status,
                    additions=adds,
                    deletions=dels,
                    patch=patches[index] if index < len(patches) else None,
                    blob_sha=blob,
                    previous_filename=old_path,
                )
            )
        return files

    def trial_merge(self, ours: str, theirs: str) -> MergeResult:
        """A real three-way merge of two commits, writing only objects (no ref moves)."""
        proc = self.git(
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            ours,
            theirs,
            ok_codes=(0, 1),
        )
        lines = proc.stdout.splitlines()
        tree = lines[0].strip() if lines else None
        if proc.returncode == 0:
            return MergeResult(clean=True, tree=tree, conflicts=())
        return MergeResult(clean=False, tree=tree, conflicts=tuple(x for x in lines[1:] if x))

    # -- writing -----------------------------------------------------------------------

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: tuple[str, str],
        committer: tuple[str, str] | None = None,
        author_date: datetime | None = None,
    ) -> str:
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
        }
        if author_date is not None:
            env["GIT_AUTHOR_DATE"] = f"{int(author_date.timestamp())} +0000"
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, input_text=message, env=env).stdout.strip()

    def update_ref(self, ref: str, new: str, old: str | None) -> bool:
        """Moves ref to new only if it is still at old (None: must not exist). False if it moved."""
        proc = self.git("update-ref", ref, new, old or ZERO_SHA, ok_codes=(0, 1, 128))
        return proc.returncode == 0

    def delete_ref(self, ref: str, old: str) -> bool:
        return self.git("update-ref", "-d", ref, old, ok_codes=(0, 1, 128)).returncode == 0

    def cherry_pick_tree(self, commit: CommitInfo, onto: str) -> MergeResult:
        """Tree of `commit` replayed onto `onto` (three-way, the commit's parent as merge base).

        git 2.39's merge-tree has no --merge-base, so a throwaway commit with onto's tree and
        the picked commit's parent as its only parent makes that parent the merge base.
        """
        parent = commit.parents[0]
        onto_tree = self.commit(onto).tree
        synthetic = self.commit_tree(
            onto_tree, [parent], "cherry-pick base", ("sandbox", "sandbox@localhost")
        )
        return self.trial_merge(synthetic, commit.sha)


def _parse_raw(raw: str) -> list[tuple[str, str, str | None, str]]:
    tokens = raw.split("\0")
    entries: list[tuple[str, str, str | None, str]] = []
    i = 0
    while i < len(tokens) - 1:
        meta = tokens[i]
        if not meta.startswith(":"):
            i += 1
            continue
        fields = meta[1:].split()
        new_blob, code = fields[3], fields[4]
        letter = code[0]
        if letter in ("R", "C"):
            old_path, path = tokens[i + 1], tokens[i + 2]
            i += 3
            entries.append(("renamed" if letter == "R" else "copied", path, old_path, new_blob))
            continue
        path = tokens[i + 1]
        i += 2
        status = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}.get(
            letter, "modified"
        )
        blob = fields[2] if letter == "D" else new_blob
        entries.append((status, path, None, blob))
    return entries


def _parse_numstat(text: str) -> list[tuple[int, int]]:
    tokens = text.split("\0")
    counts: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token:
            i += 1
            continue
        adds, dels, path = [*token.split("\t", 2), "", ""][:3]
        i += 1
        if path == "":  # rename: the two paths follow as separate tokens
            i += 2
        counts.append((int(adds) if adds.isdigit() else 0, int(dels) if dels.isdigit() else 0))
    return counts


def _split_patches(text: str) -> list[str | None]:
    """The unified diff per file, from its first hunk header (GitHub's `patch` field)."""
    patches: list[str | None] = []
    current: list[str] | None = None
    in_hunks = False
    for line in text.splitlines():
        if line.startswith("diff --git "):
            if current is not None:
                patches.append("\n".join(current) if in_hunks else None)
            current, in_hunks = [], False
            continue
        if current is None:
            continue
        if line.startswith("@@"):
            in_hunks = True
        if in_hunks:
            current.append(line)
    if current is not None:
        patches.append("\n".join(current) if in_hunks else None)
    return patches
