"""`promotebot config init`: a commented starter pipeline file for one app, from a repository,
its channels and its people, with placeholders for what was not given.

The file is what `config check` accepts (a test runs one through the other); every placeholder
is a well-formed id, so the file loads, and says in a comment that it must be replaced. It
writes text only: it never reads Slack or GitHub to fill anything in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slackbot.config.schema import DNS_LABEL, SLACK_USER, USER_GROUP

PLACEHOLDER_REPO = "your-org/your-app"
PLACEHOLDER_CHANNEL = "C0REPLACEME"
PLACEHOLDER_INCIDENTS = "C0REPLACEMETOO"
PLACEHOLDER_GROUP = "S0REPLACEME"
REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]+$")


@dataclass(frozen=True)
class Starter:
    repo: str | None = None
    app: str | None = None
    deploys_channel: str | None = None
    incidents_channel: str | None = None
    stakeholders: str | None = None  # a user group id (S...) or user ids (U...,U...)
    oncall: str | None = None
    developers: str | None = None
    reviewers: str | None = None


def problems(starter: Starter) -> list[str]:
    """What is wrong with the options, one line each naming the option."""
    found: list[str] = []
    if starter.repo is not None and not REPO.match(starter.repo):
        found.append(f"--repo: expected owner/name like acme/myapp, got {starter.repo!r}")
    if starter.app is not None and not re.match(DNS_LABEL, starter.app):
        found.append(f"--app: expected a lowercase name like my-app, got {starter.app!r}")
    for option, value in (("--deploys-channel", starter.deploys_channel),
                          ("--incidents-channel", starter.incidents_channel)):
        if value is not None and not CHANNEL.match(value):
            found.append(f"{option}: expected a Slack channel id like C0123ABCD (the channel's "
                         f"details show it), got {value!r}")
    for option, value in (("--stakeholders", starter.stakeholders), ("--oncall", starter.oncall),
                          ("--developers", starter.developers),
                          ("--reviewers", starter.reviewers)):
        if value is not None and _people(value) is None:
            found.append(f"{option}: expected a Slack user group id like S0123ABCD or user ids "
                         f"like U0123ABCD,U0456EFGH (not @names: Slack shows the ids in each "
                         f"profile), got {value!r}")
    return found


def _people(value: str) -> str | None:
    """The YAML of a role's people: a group, or users; None when `value` is neither."""
    entries = [e.strip() for e in value.split(",") if e.strip()]
    if len(entries) == 1 and re.match(USER_GROUP, entries[0]):
        return f"{{group: {entries[0]}}}"
    if entries and all(re.match(SLACK_USER, e) for e in entries):
        return f"{{users: [{', '.join(entries)}]}}"
    return None


def _role(value: str | None, placeholder: str) -> tuple[str, str]:
    if value is None:
        return placeholder, "   # REPLACE: {group: S...} or {users: [U..., U...]}"
    people = _people(value)
    assert people is not None  # problems() said so first
    return people, ""


def starter_text(starter: Starter) -> str:
    """The pipeline file's text."""
    repo = starter.repo or PLACEHOLDER_REPO
    app = starter.app or re.sub(r"[^a-z0-9-]+", "-", repo.split("/")[1].lower()).strip("-")
    app = app or "myapp"
    deploys = starter.deploys_channel or PLACEHOLDER_CHANNEL
    incidents = starter.incidents_channel or PLACEHOLDER_INCIDENTS
    marks = {
        "repo": "" if starter.repo else "   # REPLACE: owner/name of your GitOps repository",
        "deploys": "" if starter.deploys_channel else "   # REPLACE: the deploys channel's id",
        "incidents": ("" if starter.incidents_channel
                      else "   # REPLACE: the incidents channel's id"),
    }
    roles = {
        "developer": _role(starter.developers, "{users: [U0REPLACEME]}"),
        "reviewer": _role(starter.reviewers, "{users: [U0REPLACEME]}"),
        "stakeholder": _role(starter.stakeholders, f"{{group: {PLACEHOLDER_GROUP}}}"),
        "oncall": _role(starter.oncall, f"{{group: {PLACEHOLDER_GROUP}}}"),
    }
    role_lines = "\n".join(f"      {name}: {people}{mark}"
                           for name, (people, mark) in roles.items())
    return f"""\
# promotebot pipeline file for {app}, written by `promotebot config init`.
# Replace every REPLACE placeholder, then `promotebot config check THIS_FILE` and point
# PROMOTEBOT_PIPELINE at it. `promotebot config schema` describes every key.
#
# Each environment is a git branch of the repository that Flux deploys: a promotion opens a
# pull request from one env's branch to the next, waits for its gates, and merges it.
apps:
  {app}:
    repository: {repo}{marks["repo"]}
    channels:
      deploys: {deploys}{marks["deploys"]}
      incidents: {incidents}{marks["incidents"]}
    # Who is who: a Slack user group (paid plans), a list of user ids (any plan), or both.
    # Developers and reviewers promote; stakeholders approve prod; on-call rolls back in an
    # emergency. `promotebot config show THIS_FILE` writes out the whole access policy.
    roles:
{role_lines}
    deployments: [{app}]   # the Deployments whose rollout decides "deployed"
    environments:
      # dev: every push is deployed; no gates.
      - name: dev
        branch: dev
        namespace: dev
        kustomization: {{name: {app}-dev, namespace: flux-system}}
        gitRepository: {{name: {app}-dev, namespace: flux-system}}
        interval: 1m
        timeout: 3m
        gates: {{}}
      # staging: a pull request dev -> staging, merged once CI passed and it was reviewed.
      - name: staging
        branch: staging
        namespace: staging
        kustomization: {{name: {app}-staging, namespace: flux-system}}
        gitRepository: {{name: {app}-staging, namespace: flux-system}}
        interval: 2m
        timeout: 3m
        gates:
          requiredChecks: [ci]   # the check runs or statuses that must pass
          requiredReviews: 1
      # prod: also a stakeholder's approval, a rollback plan, and a change window.
      - name: prod
        branch: prod
        namespace: prod
        kustomization: {{name: {app}-prod, namespace: flux-system}}
        gitRepository: {{name: {app}-prod, namespace: flux-system}}
        interval: 5m
        timeout: 3m
        gates:
          requiredChecks: [ci]
          requiredReviews: 1
          stakeholderApprovals: 1
          rollbackPlan: true
          changeWindows:   # when prod may change (several windows may be listed)
            - {{days: [mon-fri], start: "09:00", end: "17:00", timezone: UTC}}
"""
