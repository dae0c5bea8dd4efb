"""GitHub Deployments, their statuses and commit statuses: the write-back of what the bot
deployed (slackbot/engine/writeback.py), part of the Forge port on GitHub.

Every call goes through GitHubApi (PyGithub's Requester), so each counts in the rate budget
and waits out GitHub's limits as every other call does. A Deployment is created with
auto_merge off (GitHub would otherwise merge the default branch into the ref) and no
required contexts (it would otherwise refuse a sha whose checks are pending, 409).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from slackbot.adapters.github_http import GitHubApi
from slackbot.adapters.transport import unreachable
from slackbot.errors import ForgeUnavailable
from slackbot.ports import DeploymentSpec

PAYLOAD_BY = "promotebot"


@unreachable((requests.RequestException, OSError), ForgeUnavailable, "GitHub")
class DeploymentWrites:
    api: GitHubApi

    def create_deployment(self, repo: str, deploy: DeploymentSpec) -> int:
        reply = self.api.send("POST", f"/repos/{repo}/deployments", {
            "ref": deploy.ref,
            "environment": deploy.environment,
            "description": deploy.description,
            "auto_merge": False,
            "required_contexts": [],
            "payload": {"record": deploy.record, "by": PAYLOAD_BY},
            "production_environment": deploy.production,
            "transient_environment": False,
        })
        return int(reply.body["id"])

    def find_deployment(self, repo: str, deploy: DeploymentSpec) -> int | None:
        query = f"sha={quote(deploy.ref)}&environment={quote(deploy.environment)}&per_page=100"
        found: list[dict[str, Any]] = self.api.pages(f"/repos/{repo}/deployments?{query}",
                                                     fresh=True)
        for item in found:
            payload = item.get("payload")
            if isinstance(payload, dict) and payload.get("record") == deploy.record:
                return int(item["id"])
        return None

    def deployment_status(self, repo: str, deployment_id: int, state: str, description: str,
                          log_url: str | None) -> None:
        body: dict[str, Any] = {"state": state, "description": description,
                                "auto_inactive": True}
        if log_url:
            body["log_url"] = log_url
        self.api.send("POST", f"/repos/{repo}/deployments/{deployment_id}/statuses", body)

    def commit_status(self, repo: str, sha: str, context: str, state: str, description: str,
                      target_url: str | None) -> None:
        body: dict[str, Any] = {"state": state, "context": context, "description": description}
        if target_url:
            body["target_url"] = target_url
        self.api.send("POST", f"/repos/{repo}/statuses/{sha}", body)
        self.api.stale([f"/repos/{repo}/commits/{sha}/status"])
