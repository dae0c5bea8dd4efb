"""The pipeline file's structure as a JSON schema: every key, its type and pattern, and the words
an error uses for what was expected (`x-expected`). The defaults of keys left out live here too.
No reading, no checking: slackbot/config/structure.py applies it.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from slackbot.policy import ACCESS_KEYS, DEPLOYS, INCIDENTS

# Defaults for keys left out (documented in examples/pipeline.yaml). The interval has a default
# rather than being required: 1m is the seed's fastest sync and only informs the bot's waits.
DEFAULT_INTERVAL = timedelta(minutes=1)
DEFAULT_TIMEOUT = timedelta(minutes=3)
DEFAULT_FLUX_NAMESPACE = "flux-system"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_EXPIRE_AFTER = timedelta(hours=24)  # a promotion waiting longer for its gates expires

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"  # Flux's duration syntax (metav1.Duration)
DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
UNIT_MICROSECONDS = {"h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1_000}
_DAY = "(?:mon|tue|wed|thu|fri|sat|sun)"
DAY_PATTERN = rf"^{_DAY}(?:-{_DAY})?$"
TIME_PATTERN = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9]"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
USER_GROUP = r"^S[A-Z0-9]+$"
SLACK_USER = r"^[UW][A-Z0-9]+$"
BRANCH = r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]+(?<![/.])(?<!\.lock)$"

KeyPath = tuple[str | int, ...]


# --------------------------------------------------------------------------- the schema


def _string(pattern: str, expected: str, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "pattern": pattern, "x-expected": expected}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


_DURATION = _string(DURATION_PATTERN, "a duration like 5m")
_LABEL = _string(DNS_LABEL, "a lowercase name like my-app (a-z, 0-9, '-'; at most 63)", 63)
_OBJECT_NAME = _string(DNS_SUBDOMAIN, "a Kubernetes object name like myapp-dev", 253)
_COUNT = {"type": "integer", "minimum": 0, "x-expected": "a whole number >= 0"}
_FLUX_REF = {
    "type": "object",
    "x-expected": "a mapping like {name: myapp-dev, namespace: flux-system}",
    "additionalProperties": False,
    "properties": {"name": _OBJECT_NAME, "namespace": _LABEL},
}
_WINDOW = {
    "type": "object",
    "x-expected": 'a mapping like {days: [mon-fri], start: "09:00", end: "17:00"}',
    "additionalProperties": False,
    "required": ["start", "end"],
    "properties": {
        "days": {
            "type": ["array", "string"],
            "pattern": DAY_PATTERN,
            "minItems": 1,
            "items": _string(DAY_PATTERN, "a day (mon..sun) or a range like mon-fri"),
            "x-expected": "a list of days (mon..sun) or ranges like [mon-fri]",
        },
        "start": _string(rf"^{TIME_PATTERN}$", 'a time like "09:00"'),
        "end": _string(rf"^(?:{TIME_PATTERN}|24:00)$", 'a time like "17:00" (or "24:00")'),
        "timezone": {"type": "string", "x-expected": "an IANA time zone like Europe/London"},
    },
}
_GROUP = _string(USER_GROUP, "a Slack user group id like S0123ABCD")
_APPROVERS = {
    "type": "object",
    "x-expected": "a mapping like {groups: [S0SRE], users: [U0ALICE], quorum: 2, "
    "atLeast: {S0SRE: 1}}",
    "additionalProperties": False,
    "properties": {
        "groups": {
            "type": "array",
            "uniqueItems": True,
            "items": _GROUP,
            "x-expected": "a list of Slack user group ids like [S0123ABCD]",
        },
        "users": {
            "type": "array",
            "uniqueItems": True,
            "items": _string(SLACK_USER, "a Slack user id like U0123ABCD"),
            "x-expected": "a list of Slack user ids like [U0123ABCD]",
        },
        "quorum": {"type": "integer", "minimum": 1, "x-expected": "a whole number >= 1"},
        "atLeast": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _GROUP,
            "additionalProperties": {
                "type": "integer",
                "minimum": 1,
                "x-expected": "a whole number >= 1",
            },
            "x-expected": "a mapping of Slack user group ids to counts, like {S0SRE: 1}",
        },
    },
}
_WAITING = {
    "type": "object",
    "x-expected": "a mapping like {remindAfter: 2h, escalateAfter: 8h, escalateTo: S0123, "
    "expireAfter: 24h}",
    "additionalProperties": False,
    "properties": {
        "remindAfter": _DURATION,
        "escalateAfter": _DURATION,
        "escalateTo": _GROUP,
        "expireAfter": _DURATION,
    },
}
_FREEZE = {
    "type": "object",
    "x-expected": 'a mapping like {from: "2026-12-20", until: "2027-01-04", reason: holidays}',
    "additionalProperties": False,
    "required": ["from", "until", "reason"],
    "properties": {
        "from": _string(DATE_PATTERN, 'a date like "2026-12-20" or "2026-12-20 18:00"'),
        "until": _string(DATE_PATTERN, 'a date like "2027-01-04" or "2027-01-04 09:00"'),
        "reason": _string(r"\S", "a reason people read, like holiday freeze"),
        "timezone": {"type": "string", "x-expected": "an IANA time zone like Europe/London"},
    },
}
_FREEZES = {"type": "array", "items": _FREEZE, "x-expected": "a list of dated freezes"}
_GATES = {
    "type": "object",
    "x-expected": "a mapping of gates (requiredChecks, requiredReviews, ...)",
    "additionalProperties": False,
    "properties": {
        "requiredChecks": {
            "type": "array",
            "uniqueItems": True,
            "items": _string(r"\S", "a check name like ci"),
            "x-expected": "a list of check names like [ci]",
        },
        "requiredReviews": _COUNT,
        "stakeholderApprovals": _COUNT,
        "rollbackPlan": {"type": "boolean", "x-expected": "true or false"},
        "changeWindows": {
            "type": "array",
            "items": _WINDOW,
            "x-expected": "a list of change windows",
        },
        "incidentsWaitForWindow": {"type": "boolean", "x-expected": "true or false"},
        "approvers": _APPROVERS,
    },
}
USER_ID = r"^[UW][A-Z0-9]+$"
GROUP_ID = r"^S[A-Z0-9]+$"
CHANNEL_ID = r"^[CG][A-Z0-9]+$"
_GROUP = _string(GROUP_ID, "a Slack user group id like S0123ABCD")
_ROLE = {
    "type": "object",
    "x-expected": "a mapping like {group: S0123ABCD} or {users: [U0123ABCD, U0456EFGH]}",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "group": _GROUP,
        "users": {
            "type": "array",
            "uniqueItems": True,
            "items": _string(USER_ID, "a Slack user id like U0123ABCD"),
            "x-expected": "a list of Slack user ids like [U0123ABCD]",
        },
    },
}
_RULE = {
    "type": "object",
    "x-expected": "a mapping like {roles: [stakeholder, oncall], channels: [deploys]}",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "roles": {
            "type": "array",
            "uniqueItems": True,
            "items": _string(DNS_LABEL, "a role name like stakeholder", 63),
            "x-expected": "a list of role names like [stakeholder, oncall] ([] for nobody)",
        },
        "channels": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": _string(
                rf"^(?:{DEPLOYS}|{INCIDENTS}|{CHANNEL_ID[1:-1]})$",
                f"{DEPLOYS}, {INCIDENTS} or a Slack channel id like C0123ABCD",
            ),
            "x-expected": f"a list of channels like [{DEPLOYS}, {INCIDENTS}]",
        },
    },
}
_ACCESS = {
    "type": "object",
    "x-expected": "a mapping of actions (request, approve, freeze, ...) to rules",
    "additionalProperties": False,
    "properties": {
        **{key: _RULE for key in ACCESS_KEYS.values()},
        # A retry is authorized as the action it repeats: say so instead of "did you mean".
        "retry": {
            "not": {},
            "x-expected": "no rule of its own: a retry is authorized as the action it "
            "repeats (request, or hotfixPromote for a hotfix)",
        },
    },
}
_ENVIRONMENT = {
    "type": "object",
    "x-expected": "a mapping with at least a name",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": _LABEL,
        "branch": _string(BRANCH, "a git branch name like staging"),
        "namespace": _LABEL,
        "kustomization": _FLUX_REF,
        "gitRepository": _FLUX_REF,
        "interval": _DURATION,
        "timeout": _DURATION,
        "gates": _GATES,
        "cluster": _LABEL,
        "access": _ACCESS,
        "waiting": _WAITING,
        "freezes": _FREEZES,
    },
}
_CLUSTER = {
    "type": "object",
    "x-expected": "a mapping like {apiUrl: https://prod.k8s.example.com, tokenFile: /path} or "
                  "{context: prod}",
    "additionalProperties": False,
    "properties": {
        "apiUrl": _string(r"^https?://[^\s/]+(/\S*)?$", "an http(s) URL of a Kubernetes API"),
        "tokenFile": _string(r"^/\S+$", "an absolute path to a file holding a bearer token"),
        "caFile": _string(r"^/\S+$", "an absolute path to the API's CA certificate (PEM)"),
        "context": _string(r"\S", "a context name of the kubeconfig"),
    },
}
_APP = {
    "type": "object",
    "x-expected": "a mapping with repository, channels and environments",
    "additionalProperties": False,
    "required": ["repository", "channels", "environments"],
    "properties": {
        "repository": _string(
            r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", "a GitHub repository as owner/name"
        ),
        "channels": {
            "type": "object",
            "x-expected": "a mapping like {deploys: C0123, incidents: C0456}",
            "additionalProperties": False,
            "required": ["deploys", "incidents"],
            "properties": {
                name: _string(
                    r"^#?[A-Za-z0-9][A-Za-z0-9_.-]*$", "a Slack channel id like C0123ABCD"
                )
                for name in ("deploys", "incidents")
            },
        },
        "roles": {
            "type": "object",
            "propertyNames": _string(DNS_LABEL, "a role name like stakeholder (a-z, 0-9, '-')", 63),
            "additionalProperties": _ROLE,
            "x-expected": "a mapping of role names to people, like {stakeholder: {group: S0123}}",
        },
        # The older form of two roles: groups.stakeholders is roles.stakeholder.group,
        # groups.oncall is roles.oncall.group.
        "groups": {
            "type": "object",
            "x-expected": "a mapping like {stakeholders: S0123, oncall: S0456}",
            "additionalProperties": False,
            "properties": {name: _GROUP for name in ("stakeholders", "oncall")},
        },
        "access": _ACCESS,
        "deployments": {
            "type": "array",
            "uniqueItems": True,
            "items": _OBJECT_NAME,
            "x-expected": "a list of Deployment names like [myapp]",
        },
        # GitHub Deployments and commit statuses of what the bot deploys (default: on).
        "githubWriteBack": {"type": "boolean", "x-expected": "true or false"},
        "environments": {
            "type": "array",
            "minItems": 1,
            "items": _ENVIRONMENT,
            "x-expected": "a list of environments, in promotion order",
        },
        "freezes": _FREEZES,
        # The card's ticket references (ABC-123 by default) and the first env's deploy reports.
        "ticketPattern": {"type": "string", "minLength": 1, "maxLength": 200,
                          "x-expected": "a regular expression like '[A-Z]+-[0-9]+'"},
        "reportDevDeploys": {"type": "boolean", "x-expected": "true or false"},
    },
}
PIPELINE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "promotebot pipeline",
    "type": "object",
    "x-expected": "a mapping with an apps key",
    "additionalProperties": False,
    "required": ["apps"],
    "properties": {
        "apps": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _LABEL,
            "additionalProperties": _APP,
            "x-expected": "a mapping of app names to apps",
        },
        "githubLogins": {
            "type": "object",
            "x-expected": "a mapping of Slack user ids to GitHub logins, like {U0123ABCD: dana}",
            "propertyNames": {"pattern": r"^[UW][A-Z0-9]+$",
                              "x-expected": "a Slack user id like U0123ABCD"},
            "additionalProperties": _string(
                r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
                "a GitHub login like dana", 39),
        },
        "freezes": _FREEZES,
        "clusters": {
            "type": "object",
            "propertyNames": _LABEL,
            "additionalProperties": _CLUSTER,
            "x-expected": "a mapping of cluster names to where their API is",
        },
    },
}


def pipeline_schema() -> dict[str, Any]:
    """The JSON schema of the pipeline file (structure only; config.py checks the meaning too)."""
    schema: dict[str, Any] = json.loads(json.dumps(PIPELINE_SCHEMA))
    return schema
