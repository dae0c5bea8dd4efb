"""A valid pipeline to break on purpose, one key at a time, in the config tests."""

from __future__ import annotations

import copy
from typing import Any

import yaml

VALID: dict[str, Any] = {
    "apps": {
        "myapp": {
            "repository": "acme/myapp",
            "channels": {"deploys": "C0DEPLOYS", "incidents": "C0INCIDENT"},
            "groups": {"stakeholders": "S0STAKEHOLDERS", "oncall": "S0ONCALL"},
            "environments": [
                {"name": "dev", "interval": "1m"},
                {
                    "name": "staging",
                    "interval": "2m",
                    "gates": {"requiredChecks": ["ci"], "requiredReviews": 1},
                },
                {
                    "name": "prod",
                    "interval": "5m",
                    "gates": {
                        "requiredChecks": ["ci"],
                        "requiredReviews": 1,
                        "stakeholderApprovals": 1,
                        "rollbackPlan": True,
                        "changeWindows": [
                            {
                                "days": ["mon-fri"],
                                "start": "09:00",
                                "end": "17:00",
                                "timezone": "Europe/London",
                            }
                        ],
                    },
                },
            ],
        }
    }
}


def valid() -> dict[str, Any]:
    """A fresh deep copy of a valid pipeline, to change in one place per test."""
    return copy.deepcopy(VALID)


def as_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False)
