"""`promotebot sandbox --tour` plays the whole workflow and exits 0, printing it as a
conversation a person can follow."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


# The tour plays whole deploys on the emulated Flux: a bound no load on a shared 2-core
# machine can exhaust (measured here: 3.5 min, and 6 min under a load average of 32).
@pytest.mark.timeout(900)
def test_tour_plays_the_workflow_and_an_incident_and_exits_zero() -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_"))}
    done = subprocess.run([sys.executable, "-m", "promotebot.cli", "sandbox", "--tour"],
                          capture_output=True, text=True, timeout=840, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    steps = ["$ dana pushes \"Faster checkout\" to dev",
             "> dana types: /promote staging",
             "Promotion P-1: myapp → staging | ✅ Deployed",
             "> dana types: /promote prod",
             "> sam clicks [Approve] on P-2's card",
             "> dana writes the rollback plan and submits the modal",
             "Promotion P-2: myapp → prod | ✅ Deployed",
             "staging fast-forwarded to prod",
             "dev fast-forwarded to staging",
             "Promotion P-4: myapp → prod | ❌ Failed",
             "HealthCheckFailed",
             "> omar types: /rollback prod emergency to",
             "[#myapp-incidents] promotebot posted: Rollback R-5: myapp prod →",
             "[#myapp-deploys] promotebot posted: 🚨 Rollback R-5 of myapp prod is handled in "
             "#myapp-incidents: follow its card there.",
             "promotions into prod are on hold until /promote unlock prod",
             "the revert is on staging as",
             "the revert is on dev as",
             "> omar types: /hotfix promote raise-memory",
             "Hotfix H-6: hotfix/raise-memory → prod | ✅ Deployed",
             "hotfix/raise-memory merged into staging as",
             "> dana types: /rollback undo R-5",
             "Rollback R-7: re-apply what R-5 removed, on dev | ✅ Deployed",
             "== Tour finished"]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p < 0]
    assert "<@" not in out and "<http" not in out  # mrkdwn is rendered for the terminal
    assert not re.search(r"(Promotion|Rollback|Hotfix) #\d", out)  # `#N`: pull requests only
