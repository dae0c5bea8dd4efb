"""`promotebot sandbox --tour` plays the whole workflow and exits 0, printing it as a
conversation a person can follow."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


# The tour is long (it plays every step with the real bot between the emulators) and the
# machine is shared: bounds that no load exhausts, beyond the suite's default per test.
@pytest.mark.timeout(900)
def test_tour_plays_the_workflow_a_queue_a_reminder_an_incident_and_a_freeze() -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_"))}
    done = subprocess.run([sys.executable, "-m", "promotebot.cli", "sandbox", "--tour"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    steps = ["$ dana pushes \"Faster checkout\" to dev",
             "> dana types: /promote staging",
             "Promotion #1: myapp → staging | 📡 Reconciling",
             "$ dana pushes \"Faster search\" to dev",
             "> dana types: /promote staging",
             "@dana's request for staging waits behind #1 (next in line)",
             "is queued, next in line (1 in queue); it starts by itself when #1 ends",
             "Promotion #1: myapp → staging | ✅ Deployed",
             "Promotion #2: myapp → staging | 📥 Requested",
             "Started from the queue: @dana asked",
             "[dm to dana] promotebot: ▶️ Your queued request has started: Promotion #2",
             "Promotion #2: myapp → staging | ✅ Deployed",
             "> dana types: /promote prod",
             "0 of 1 approvals: 0 of 1 from @myapp-stakeholders",
             "$ two hours pass and nobody has approved #3 yet",
             "🔔 #3 has waited 2h for its gates",
             "[dm to sam] promotebot: 🔔 Promotion #3 of myapp to prod",
             "> dana writes the rollback plan and submits the modal",
             "Promotion #3: myapp → prod | ✅ Deployed",
             "prod merged into staging as",
             "Promotion #5: myapp → prod | ❌ Failed",
             "HealthCheckFailed",
             "> omar types: /rollback prod emergency to",
             "Rollback #6: myapp prod →",
             "promotions into prod are on hold until /promote unlock prod",
             "Rollback #6: myapp prod → ",
             "> omar types: /hotfix promote raise-memory",
             "Hotfix #7: hotfix/raise-memory → prod | ✅ Deployed",
             "hotfix/raise-memory merged into staging as",
             "hotfix/raise-memory merged into dev as",
             "> omar types: /promote freeze all end-of-year freeze",
             "@omar froze every app: end-of-year freeze",
             "staging is frozen with every app by @omar",
             "> omar types: /promote unfreeze all",
             "@omar lifted the freeze of every app",
             "== Tour finished"]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p < 0]
    assert "<@" not in out and "<http" not in out  # mrkdwn is rendered for the terminal
    assert "<!subteam" not in out  # user groups too
