"""Deployments, their statuses and commit statuses: the adapter's write-back (the real
PyGithub) against the emulator, each answer checked against GitHub's published REST
description (@octokit/openapi), and the emulator refusing what GitHub refuses (a missing ref,
a state outside GitHub's list, a description over 140 characters, a ref whose checks are not
green when required contexts are left to GitHub's default)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from github import Github, GithubException

from sandbox.github import GitHubEmulator
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.errors import ForgeError
from slackbot.ports import DeploymentSpec
from tests.github.clocks import EmulatorClock
from tests.github.conftest import ALICE, WorkTree
from tests.github.openapi import description

REPO = "acme/myapp"


def _conforms(emulator: GitHubEmulator) -> set[str]:
    spec = description()
    problems = [p for exchange in emulator.exchanges for p in spec.problems(exchange)]
    assert problems == [], "\n".join(problems)
    covered = set()
    for exchange in emulator.exchanges:
        op = spec.operation(exchange.method, exchange.path)
        assert op is not None
        covered.add(f"{op.method} {op.template} {exchange.status}")
    return covered


def _post(emulator: GitHubEmulator, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emulator.url}/repos/{REPO}{path}", json=body, timeout=5,
                         headers={"Authorization": f"token {ALICE.token}"})


def test_the_write_back_through_pygithub_conforms(emulator: GitHubEmulator, work: WorkTree,
                                                  as_alice: Github) -> None:
    emulator.recording = True
    forge = GitHubForge(github_client(emulator.url, ALICE.token, fast=True),
                        clock=EmulatorClock(emulator), sleep=lambda s: None)
    head = work.commit("staging", {"app.txt": "v2\n"}, "Bump app")
    emulator.set_status(head, "ci", "pending")  # required_contexts [] lets it through anyway
    spec = DeploymentSpec(head, "staging", "P-7", "P-7: promotion of myapp to staging", False)
    assert forge.find_deployment(REPO, spec) is None
    deployment = forge.create_deployment(REPO, spec)
    assert forge.find_deployment(REPO, spec) == deployment
    assert forge.find_deployment(REPO, DeploymentSpec(head, "staging", "P-8", "", False)) is None
    link = "https://sandbox.slack.test/archives/C1/p123"
    forge.deployment_status(REPO, deployment, "in_progress", "P-7: merged", link)
    forge.deployment_status(REPO, deployment, "success", "P-7: Ready", None)
    forge.commit_status(REPO, head, "promotebot/staging", "success", "P-7: deployed", link)

    repo = as_alice.get_repo(REPO)
    [seen] = list(repo.get_deployments(environment="staging"))
    assert (seen.id, seen.sha, seen.environment, seen.payload) == (
        deployment, head, "staging", {"record": "P-7", "by": "promotebot"})
    assert seen.production_environment is False and seen.transient_environment is False
    assert [(s.state, s.log_url) for s in seen.get_statuses()] == [
        ("success", ""), ("in_progress", link)]
    combined = repo.get_commit(head).get_combined_status()
    assert {s.context: (s.state, s.target_url) for s in combined.statuses} == {
        "ci": ("pending", None), "promotebot/staging": ("success", link)}
    covered = _conforms(emulator)
    for operation in ("POST /repos/{owner}/{repo}/deployments 201",
                      "GET /repos/{owner}/{repo}/deployments 200",
                      "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses 201",
                      "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses 200",
                      "POST /repos/{owner}/{repo}/statuses/{sha} 201",
                      "GET /repos/{owner}/{repo}/commits/{ref}/status 200"):
        assert operation in covered, operation


def test_github_refusals_have_githubs_shape(emulator: GitHubEmulator, work: WorkTree) -> None:
    emulator.recording = True
    head = work.commit("staging", {"app.txt": "v2\n"}, "Bump app")
    missing = _post(emulator, "/deployments", {"environment": "staging"})
    assert missing.status_code == 422 and '"ref"' in missing.json()["message"]
    unknown = _post(emulator, "/deployments", {"ref": "no-such-branch"})
    assert (unknown.status_code, unknown.json()["message"]) == (
        422, "No ref found for: no-such-branch")
    emulator.set_status(head, "ci", "pending")
    checked = _post(emulator, "/deployments", {"ref": head})  # GitHub checks every context
    assert checked.status_code == 409
    assert checked.json()["errors"][0]["contexts"] == [{"context": "ci", "state": "pending"}]
    made = _post(emulator, "/deployments", {"ref": head, "required_contexts": []})
    assert made.status_code == 201 and made.json()["environment"] == "production"
    assert made.json()["production_environment"] is True  # GitHub's default for "production"
    number = made.json()["id"]
    bad = _post(emulator, f"/deployments/{number}/statuses", {"state": "done"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"resource": "DeploymentStatus", "code": "custom",
                                     "field": "state",
                                     "message": "state is not included in the list"}]
    long = _post(emulator, f"/deployments/{number}/statuses",
                 {"state": "success", "description": "x" * 141})
    assert long.status_code == 422 and "140" in long.json()["errors"][0]["message"]
    assert requests.get(f"{emulator.url}/repos/{REPO}/deployments/999999/statuses", timeout=5,
                        headers={"Authorization": f"token {ALICE.token}"}).status_code == 404
    covered = _conforms(emulator)
    assert "POST /repos/{owner}/{repo}/deployments 409" in covered
    assert "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses 422" in covered
    # GitHub answers 422 here too, though its description documents only the 201.
    status = _post(emulator, f"/statuses/{head}", {"state": "ok", "context": "promotebot/dev"})
    assert status.status_code == 422 and status.json()["message"] == "Validation Failed"


def test_a_success_makes_the_envs_earlier_deployment_inactive(
    emulator: GitHubEmulator, work: WorkTree, as_alice: Github
) -> None:
    forge = GitHubForge(github_client(emulator.url, ALICE.token, fast=True),
                        clock=EmulatorClock(emulator), sleep=lambda s: None)
    first = work.commit("staging", {"app.txt": "v2\n"}, "One")
    older = forge.create_deployment(REPO, DeploymentSpec(first, "staging", "P-1", "", False))
    forge.deployment_status(REPO, older, "success", "", None)
    second = work.commit("staging", {"app.txt": "v3\n"}, "Two")
    newer = forge.create_deployment(REPO, DeploymentSpec(second, "staging", "P-2", "", False))
    forge.deployment_status(REPO, newer, "success", "", None)
    repo = as_alice.get_repo(REPO)
    assert [s.state for s in repo.get_deployment(older).get_statuses()] == [
        "inactive", "success"]
    assert [s.state for s in repo.get_deployment(newer).get_statuses()] == ["success"]


def test_the_adapter_raises_a_forge_error_on_a_refusal(emulator: GitHubEmulator,
                                                       work: WorkTree) -> None:
    forge = GitHubForge(github_client(emulator.url, ALICE.token, fast=True),
                        clock=EmulatorClock(emulator), sleep=lambda s: None)
    with pytest.raises(ForgeError):
        forge.create_deployment(REPO, DeploymentSpec("no-such-ref", "dev", "P-1", "", False))
    with pytest.raises((ForgeError, GithubException)):
        forge.deployment_status(REPO, 424242, "success", "", None)
