"""`promotebot sandbox --tour` plays the whole workflow and exits 0, printing it as a
conversation a person can follow."""

from __future__ import annotations

import os
import subprocess
import sys


def test_tour_plays_the_workflow_and_an_incident_and_exits_zero() -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_"))}
    done = subprocess.run([sys.executable, "-m", "promotebot.cli", "sandbox", "--tour"],
                          capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    steps = ["$ dana pushes \"Faster checkout\" to dev",
             "> dana types: /promote staging",
             "Promotion P-1: myapp → staging | ✅ Deployed",
             "> dana types: /promote prod",
             "> sam clicks [Approve] on #2's card",
             "> dana writes the rollback plan and submits the modal",
             "Promotion #2: myapp → prod | ✅ Deployed",
             "prod merged into staging as",
             "Promotion #4: myapp → prod | ❌ Failed",
             "HealthCheckFailed",
             "> omar types: /rollback prod emergency to",
             "Rollback #5: myapp prod →",
             "promotions into prod are on hold until /promote unlock prod",
             "Rollback #5: myapp prod → ",
             "> omar types: /hotfix promote raise-memory",
             "Hotfix #6: hotfix/raise-memory → prod | ✅ Deployed",
             "hotfix/raise-memory merged into staging as",
             "hotfix/raise-memory merged into dev as",
             "== Tour finished"]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p < 0]
    assert "<@" not in out and "<http" not in out  # mrkdwn is rendered for the terminal
