"""`promotebot sandbox --tour` plays the whole workflow and exits 0, printing it as a
conversation a person can follow."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


# The tour is long (it plays every step with the real bot between the emulators) and the
# machine is shared: bounds that no load exhausts, beyond the suite's default per test.
@pytest.mark.timeout(900)
def test_tour_plays_the_workflow_a_queue_a_reminder_an_incident_a_freeze_and_stats() -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_"))}
    done = subprocess.run([sys.executable, "-m", "promotebot.cli", "sandbox", "--tour"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    steps = ["$ dana pushes \"Faster checkout\" to dev",
             "> dana types: /promote staging",
             "Promotion P-1: myapp → staging | 📡 Reconciling",
             "[#myapp-deploys] promotebot posted: myapp on dev, ",
             "is applied on dev: Ready.",
             "$ dana pushes \"Faster search\" to dev",
             "> dana types: /promote staging",
             "@dana's request for staging waits behind P-1 (next in line)",
             "is queued, next in line (1 in queue); it starts by itself when P-1 ends",
             "Promotion P-1: myapp → staging | ✅ Deployed",
             # its first version: whatever state Slack's pace lets it show first
             "[#myapp-deploys] promotebot posted: Promotion P-2: myapp → staging |",
             "Started from the queue: @dana asked",
             "[dm to dana] promotebot: ▶️ Your queued request has started: Promotion P-2",
             "Promotion P-2: myapp → staging | ✅ Deployed",
             "> dana types: /promote prod",
             "0 of 1 approval: 0 of 1 from @myapp-stakeholders",
             "🔔 P-3 has waited 2h for its gates",
             "[dm to sam] promotebot: 🔔 Promotion P-3 of myapp to prod",
             "> dana writes the rollback plan and submits the modal",
             "Promotion P-3: myapp → prod | ✅ Deployed",
             "staging fast-forwarded to prod",
             "Promotion P-5: myapp → prod | ❌ Failed",
             "HealthCheckFailed",
             "> omar types: /rollback prod emergency to",
             "[#myapp-incidents] promotebot posted: Rollback R-6: myapp prod →",
             "[#myapp-deploys] promotebot posted: 🚨 Rollback R-6 of myapp prod is handled in "
             "#myapp-incidents: follow its card there.",
             "promotions into prod are on hold until /promote unlock prod",
             "the revert is on staging as",
             "the revert is on dev as",
             "> omar types: /hotfix promote raise-memory",
             "Hotfix H-7: hotfix/raise-memory → prod | ✅ Deployed",
             "hotfix/raise-memory merged into staging as",
             "> dana types: /rollback undo R-6",
             "Rollback R-8: re-apply what R-6 removed, on dev | ✅ Deployed",
             "> omar types: /promote freeze all end-of-year freeze",
             "@omar froze every app: end-of-year freeze",
             "staging is frozen with every app by @omar",
             "> omar types: /promote unfreeze all",
             "@omar lifted the freeze of every app",
             "> dana types: /promote stats",
             "   Delivery figures: myapp",
             "   7d  2 deploys (2.0 a week) · lead time ",  # prod: P-3 and H-7
             " · failed 1 of 3 (33%) · restore ",  # P-5 failed; R-6 and H-7 blame it alone
             "== 10. What GitHub shows",
             "   GitHub environment dev: ",  # R-8 re-applied what R-6 removed, on dev
             "   GitHub environment prod: ",
             "   GitHub environment staging: ",
             "== Tour finished"]
    positions = [out.find(step) for step in steps]
    missing = [s for s, p in zip(steps, positions, strict=True) if p < 0]
    # what the transcript said instead: its lines sharing the missing steps' first words
    near = [line for line in out.splitlines() for s in missing if s[:24].strip() in line]
    assert not missing, (missing, near[-40:])
    assert "<@" not in out and "<http" not in out  # mrkdwn is rendered for the terminal
    assert not re.search(r"(Promotion|Rollback|Hotfix) #\d", out)  # `#N`: pull requests only
    assert "<!subteam" not in out  # user groups too
    # words, not the bot's keys: no gate key, no snake_case state, no "1 commits"
    assert not re.search(r"check:\w|rollback-plan|awaiting_gates|\b1 commits\b", out)
