"""The pipeline keys of reminders and expiry (`waiting`), of approvers (`gates.approvers`) and of
calendar freezes (`freezes`, at three levels): each bad value named with its key path, and the
good ones built into the values the engine reads."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slackbot.config import dump_pipeline, load_pipeline, parse_pipeline
from slackbot.pipeline import ALL, Approvers, Waiting
from tests.config.samples import as_yaml, valid
from tests.config.test_pipeline_file import _env, _problems_after

PROD = "apps.myapp.environments[2]"
STAGING = "apps.myapp.environments[1]"


def _gates(data: dict[str, Any]) -> dict[str, Any]:
    gates: dict[str, Any] = _env(data, 2)["gates"]
    return gates


FREEZE = {"from": "2026-12-20", "until": "2027-01-04", "reason": "holidays"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: _env(d, 2).update(waiting={"remindAfter": "soon"}),
         f'{PROD}.waiting.remindAfter: expected a duration like 5m, got "soon"'),
        (lambda d: _env(d, 2).update(waiting={"remindAftr": "2h"}),
         f'{PROD}.waiting.remindAftr: unknown key; did you mean "remindAfter"?'),
        (lambda d: _env(d, 2).update(waiting={"remindAfter": "0s"}),
         f'{PROD}.waiting.remindAfter: expected a positive duration like 2h, got "0s"'),
        (lambda d: _env(d, 2).update(waiting={"escalateAfter": "4h"}),
         f"{PROD}.waiting.escalateTo: required with escalateAfter: the Slack user group told "
         "at the escalation"),
        (lambda d: _env(d, 2).update(waiting={"escalateTo": "S0SRE"}),
         f"{PROD}.waiting.escalateAfter: required with escalateTo: how long a promotion waits "
         "before it escalates"),
        (lambda d: _env(d, 2).update(waiting={"escalateAfter": "4h", "escalateTo": "sre"}),
         f'{PROD}.waiting.escalateTo: expected a Slack user group id like S0123ABCD, got "sre"'),
        (lambda d: _env(d, 2).update(waiting={"remindAfter": "4h", "escalateAfter": "2h",
                                              "escalateTo": "S0SRE"}),
         f"{PROD}.waiting.remindAfter: remindAfter 4h must be shorter than escalateAfter 2h"),
        (lambda d: _env(d, 1).update(waiting={"remindAfter": "30h"}),
         f"{STAGING}.waiting.remindAfter: remindAfter 30h must be shorter than the 24h expiry "
         "24h"),
        (lambda d: _env(d, 1).update(waiting={"escalateAfter": "8h", "escalateTo": "S0SRE",
                                              "expireAfter": "8h"}),
         f"{STAGING}.waiting.escalateAfter: escalateAfter 8h must be shorter than expireAfter "
         "8h"),
        (lambda d: _gates(d).update(approvers={"quorum": 0}),
         f"{PROD}.gates.approvers.quorum: expected a whole number >= 1, got 0"),
        (lambda d: _gates(d).update(approvers={"users": ["bob"]}),
         f'{PROD}.gates.approvers.users[0]: expected a Slack user id like U0123ABCD, got "bob"'),
        (lambda d: _gates(d).update(approvers={"groups": ["sre"]}),
         f'{PROD}.gates.approvers.groups[0]: expected a Slack user group id like S0123ABCD, '
         'got "sre"'),
        (lambda d: _gates(d).update(approvers={"atLeast": {"sre": 1}}),
         f"{PROD}.gates.approvers.atLeast.sre: expected a Slack user group id like S0123ABCD "
         'as the name, got "sre"'),
        (lambda d: _gates(d).update(approvers={"atLeast": {"S0SRE": 0}}),
         f"{PROD}.gates.approvers.atLeast.S0SRE: expected a whole number >= 1, got 0"),
        (lambda d: _gates(d).update(stakeholderApprovals=3,
                                    approvers={"quorum": 3, "atLeast": {"S0SRE": 2, "S0PM": 2}}),
         f"{PROD}.gates.approvers.quorum: quorum 3 is below the 4 approvals atLeast asks for: "
         "raise it to 4 or more, or leave it out"),
        (lambda d: _gates(d).update(approvers={"quorum": 2}),
         f"{PROD}.gates.approvers.quorum: quorum 2 and stakeholderApprovals 1 disagree: say the "
         "number once (quorum replaces stakeholderApprovals)"),
        (lambda d: (d["apps"]["myapp"].pop("groups"),
                    _gates(d).update(approvers={"users": ["U0ALICE"], "quorum": 2},
                                     stakeholderApprovals=2)),
         f"{PROD}.gates.approvers.users: 1 named approver(s) cannot give the 2 approvals asked "
         "for: name more, add groups, or lower the quorum"),
        (lambda d: (d["apps"]["myapp"].pop("groups"), _gates(d).update(approvers={})),
         f"{PROD}.gates.approvers: names nobody who may approve: give groups, users or atLeast "
         "(or groups.stakeholders on the app)"),
        (lambda d: d.update(freezes=[{**FREEZE, "from": "2026-13-01"}]),
         'freezes[0].from: expected a real date, got "2026-13-01"'),
        (lambda d: d["apps"]["myapp"].update(freezes=[{**FREEZE, "until": "Jan 4"}]),
         'apps.myapp.freezes[0].until: expected a date like "2027-01-04" or "2027-01-04 09:00", '
         'got "Jan 4"'),
        (lambda d: _env(d, 2).update(freezes=[{**FREEZE, "until": "2026-12-20"}]),
         f"{PROD}.freezes[0].until: until 2026-12-20 must be after from 2026-12-20 (until is "
         "when promotions go again)"),
        (lambda d: _env(d, 2).update(freezes=[{**FREEZE, "timezone": "Europe/Berln"}]),
         f'{PROD}.freezes[0].timezone: expected an IANA time zone like Europe/London, got '
         '"Europe/Berln"; did you mean "Europe/Berlin"?'),
        (lambda d: _env(d, 2).update(freezes=[{"from": "2026-12-20", "until": "2027-01-04"}]),
         f"{PROD}.freezes[0].reason: required key is missing"),
        (lambda d: d.update(freezes=[{**FREEZE, "to": "2027-01-04"}]),
         'freezes[0].to: unknown key; expected one of: from, reason, timezone, until'),
    ],
)
def test_each_bad_new_key_is_named_with_its_key_path(
        change: Callable[[dict[str, Any]], None], problem: str) -> None:
    assert _problems_after(change) == [problem]


def test_the_cli_names_every_bad_new_key(tmp_path: Path) -> None:
    data = valid()
    data["freezes"] = [{**FREEZE, "from": "2026-12-32"}]
    _env(data, 2).update(waiting={"escalateAfter": "4h"})
    _gates(data).update(approvers={"users": ["bob"]})
    path = tmp_path / "pipeline.yaml"
    path.write_text(as_yaml(data))
    done = subprocess.run([sys.executable, "-m", "promotebot.cli", "config", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    for key in ("freezes[0].from", f"{PROD}.waiting.escalateTo",
                f"{PROD}.gates.approvers.users[0]"):
        assert key in done.stdout + done.stderr, key


def test_good_new_keys_build_the_values_the_engine_reads() -> None:
    data = valid()
    data["freezes"] = [FREEZE]
    data["apps"]["myapp"]["freezes"] = [{"from": "2026-11-26 18:00", "until": "2026-11-27 06:00",
                                         "reason": "db migration", "timezone": "Europe/London"}]
    _env(data, 2).update(waiting={"remindAfter": "2h", "escalateAfter": "6h",
                                  "escalateTo": "S0ONCALL", "expireAfter": "48h"},
                         freezes=[{**FREEZE, "reason": "prod only"}])
    _gates(data).pop("stakeholderApprovals")
    _gates(data).update(approvers={"users": ["U0CTO"], "atLeast": {"S0SRE": 2, "S0PM": 1}})
    pipeline = parse_pipeline(as_yaml(data))
    prod = pipeline.app("myapp").env("prod")
    assert prod.waiting == Waiting(timedelta(hours=2), timedelta(hours=6), "S0ONCALL",
                                   timedelta(hours=48))
    assert prod.gates.approvers == Approvers(
        groups=("S0STAKEHOLDERS", "S0SRE", "S0PM"), users=("U0CTO",), quorum=3,
        at_least=(("S0SRE", 2), ("S0PM", 1)))
    assert prod.gates.stakeholder_approvals == 3
    assert [(f.reason, f.app, f.env) for f in prod.freezes] == [
        ("holidays", ALL, ALL), ("db migration", "myapp", ALL), ("prod only", "myapp", "prod")]
    migration = prod.freezes[1]
    assert migration.start == datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # London = UTC then
    assert migration.active(datetime(2026, 11, 27, 5, 59, tzinfo=UTC))
    assert not migration.active(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
    staging = pipeline.app("myapp").env("staging")
    assert staging.waiting == Waiting()  # the 24h expiry, nothing else
    assert [f.reason for f in staging.freezes] == ["holidays", "db migration"]
    assert parse_pipeline(dump_pipeline(pipeline)) == pipeline


def test_unquoted_dates_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    data = as_yaml(valid()) + "freezes:\n  - {from: 2026-12-20, until: 2027-01-04, reason: x}\n"
    path.write_text(data)
    [freeze] = load_pipeline(path).app("myapp").env("dev").freezes
    assert freeze.start == datetime(2026, 12, 20, tzinfo=UTC)
