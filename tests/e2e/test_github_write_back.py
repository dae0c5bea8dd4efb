"""What GitHub shows of what the bot deployed, read through the real PyGithub from the GitHub
emulator after the real bot ran: a staging promotion (its Deployment in_progress then success
linking to the card, promotebot/staging success on the head), a failed deploy (failure on
both), and a dev rollback (a Deployment of the revert sha)."""

from __future__ import annotations

from github import Auth, Github

from sandbox.world import BOT_GITHUB_TOKEN
from slackbot.models import Kind, State
from tests.e2e.conftest import DEV, Live, wait_for
from tests.e2e.test_failures import IMAGES_STAGING, STAGING_OVERLAY, green, promote_staging

REPO = "acme/myapp"


def github(live: Live) -> Github:
    token = BOT_GITHUB_TOKEN  # any reader will do
    return Github(auth=Auth.Token(token), base_url=live.world.github.url)


def deployment_states(live: Live, env: str, sha: str) -> list[list[str]]:
    """Each Deployment of `sha` to `env`, its statuses oldest first."""
    repo = github(live).get_repo(REPO)
    return [[s.state for s in d.get_statuses()][::-1]
            for d in repo.get_deployments(sha=sha, environment=env)]


def commit_state(live: Live, sha: str, context: str) -> str | None:
    combined = github(live).get_repo(REPO).get_commit(sha).get_combined_status()
    return next((s.state for s in combined.statuses if s.context == context), None)


def test_a_staging_promotion_shows_on_github(live: Live) -> None:
    sha = live.push("dev", "apps/myapp/NOTES.md", "shown\n", "a change GitHub shows")
    record = promote_staging(live, sha)
    live.wait_state(record.id, State.AWAITING_GATES)
    assert commit_state(live, sha, "promotebot/staging") is None  # only the outcome is written
    green(live, record)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, done.failure
    wait_for(lambda: deployment_states(live, "staging", done.merge_sha) == [
        ["in_progress", "success"]], "the deployment's statuses")
    wait_for(lambda: commit_state(live, sha, "promotebot/staging") == "success",
             "the head's commit status")
    [deployment] = list(github(live).get_repo(REPO).get_deployments(environment="staging",
                                                                    sha=done.merge_sha))
    assert deployment.payload["record"] == done.name and deployment.id == done.deployment_id
    assert deployment.production_environment is False
    links = {s.log_url for s in deployment.get_statuses()}
    assert all("/archives/" in link for link in links), links  # the card's permalink


def test_a_failed_deploy_fails_on_github(live: Live) -> None:
    broken = IMAGES_STAGING.replace("resources:\n  - ../../base", "resources:\n  - ../../missing")
    sha = live.push("dev", STAGING_OVERLAY, broken.format(tag="1.0.0"), "break staging overlay")
    record = promote_staging(live, sha)
    green(live, record)
    failed = live.wait_state(record.id, State.FAILED)
    wait_for(lambda: deployment_states(live, "staging", failed.merge_sha) == [
        ["in_progress", "failure"]], "the deployment's failure")
    wait_for(lambda: commit_state(live, sha, "promotebot/staging") == "failure",
             "the head's failure")


def test_a_dev_rollback_deploys_its_revert_on_github(live: Live) -> None:
    good = live.push("dev", "apps/myapp/NOTES.md", "good\n", "A good change")
    bad = live.push("dev", "apps/myapp/NOTES.md", "bad\n", "A bad change")
    live.wait_deployed("dev", bad)
    live.command(DEV, f"/rollback dev to {good[:7]} the bad change broke checkout")
    rollback = wait_for(lambda: next((r for r in live.bot.store.history("myapp", "dev")
                                      if r.kind is Kind.ROLLBACK), None), "the rollback")
    record = live.wait_state(rollback.id, State.DEPLOYED, State.FAILED)
    assert record.state is State.DEPLOYED, record.failure
    wait_for(lambda: deployment_states(live, "dev", record.merge_sha) == [
        ["in_progress", "success"]], "the revert's deployment")
    wait_for(lambda: commit_state(live, record.merge_sha, "promotebot/dev") == "success",
             "the revert's commit status")
