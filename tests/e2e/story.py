"""What the incident stories of tests/e2e need beyond conftest: the files of a branch as git
has them (the world's bare repository), promotions driven the way people drive them, and the
notes a user still sees."""

from __future__ import annotations

from sandbox.gitseed import commit_and_push, run_git
from slackbot.models import Promotion, State
from tests.e2e.conftest import DEV, Live, wait_for
from tests.e2e.test_incidents import DEPLOY, through_prod_gates

PROD_OVERLAY = "apps/myapp/overlays/prod/kustomization.yaml"


def overlay(env: str) -> str:
    return f"apps/myapp/overlays/{env}/kustomization.yaml"
DANA = ("dana", "dana@users.noreply.github.com")  # the GitHub emulator maps it to @dana


def files(live: Live, rev: str, under: str = "apps/myapp/") -> dict[str, str]:
    """Every file under `under` at `rev` (a branch or a sha), with its content."""
    git_dir = str(live.world.repo.path)
    ref = rev if len(rev) == 40 else f"refs/heads/{rev}"
    names = run_git("--git-dir", git_dir, "ls-tree", "-r", "--name-only", ref, under).split()
    return {name: run_git("--git-dir", git_dir, "show", f"{ref}:{name}") for name in names}


def has(live: Live, branch: str, path: str, needle: str = "") -> bool:
    content = files(live, branch).get(path)
    return content is not None and needle in content


def overlay_with_tag(live: Live, tag: str, branch: str = "dev", env: str = "prod") -> str:
    """`env`'s overlay as on `branch`, pinning the app's image to `tag` (a `broken*` tag
    crashes in the emulated cluster, as a bad image does; a new tag means new pods)."""
    text = files(live, branch)[overlay(env)]
    if "newTag:" in text:
        kept = [line for line in text.splitlines()
                if not line.startswith(("images:", "  - name: ghcr.io", "    newTag:"))]
        text = "\n".join(kept) + "\n"
    return text.replace("  - ../../base\n", "  - ../../base\nimages:\n  - name: "
                        f"ghcr.io/acme/myapp\n    newTag: {tag}\n", 1)


def push_files(live: Live, branch: str, changed: dict[str, str], message: str) -> str:
    return commit_and_push(live.world.github.clone_url, branch, changed, message, live.workdir,
                           author=DANA)


def promote_staging(live: Live) -> Promotion:
    """/promote staging, its check and review passed; the deployed record."""
    live.command(DEV, "/promote staging")
    record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED, timeout=DEPLOY)
    assert done.state is State.DEPLOYED, done.failure
    return done


def promote_prod(live: Live, plan: str = "Revert the merge on prod.") -> Promotion:
    live.command(DEV, "/promote prod")
    return through_prod_gates(live, live.live_record("prod"), plan)


def synced(live: Live, record: Promotion, count: int = 2) -> None:
    """The record's branches below were aligned (its sync or backport lines)."""
    wait_for(lambda: sum(e.kind.value == "synced" for e in live.bot.store.events(record.id))
             >= count, f"the syncs of {record.name}")


def working_notes(live: Live, user: str) -> list[str]:
    """The "On it…" notes the user still sees (each must have become its answer)."""
    return [t for t in live.ephemerals(user) if t.startswith(":hourglass_flowing_sand: On it")]
