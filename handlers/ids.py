"""Every Slack id promotebot puts on the wire: action ids, view callback ids, block ids.

Builders and listeners both import these, so a button and the listener that answers it can
never drift apart. Constants only: nothing here builds blocks or talks to Slack.
"""

from __future__ import annotations

COMMAND = "/promote"
ROLLBACK_COMMAND = "/rollback"
HOTFIX_COMMAND = "/hotfix"

# -- buttons on the promotion card --------------------------------------------------------
APPROVE = "promotion.approve"
REJECT = "promotion.reject"
CANCEL = "promotion.cancel"
RETRY = "promotion.retry"
ROLLBACK = "promotion.rollback"
ADD_PLAN = "promotion.add_plan"
ROLLBACK_ROOT = "promotion.rollback_root"  # the env a dependsOn chain waits on (also in answers)

CARD_ACTIONS = (APPROVE, REJECT, CANCEL, RETRY, ROLLBACK, ADD_PLAN, ROLLBACK_ROOT)

# -- modals --------------------------------------------------------------------------------
REJECT_VIEW = "promotion.reject_reason"
PLAN_VIEW = "promotion.rollback_plan"
ROLLBACK_VIEW = "rollback.choose"  # the revisions an env ran, to pick the one to return to

# -- block ids -----------------------------------------------------------------------------
CARD_HEADER = "card.header"
CARD_FIELDS = "card.fields"
CARD_GATES = "card.gates"
CARD_CHANGES = "card.changes"  # the commits being promoted
CARD_TIMELINE = "card.timeline"
CARD_OUTCOME = "card.outcome"
CARD_ACTIONS_BLOCK = "card.actions"
CARD_FOOTER = "card.footer"

REASON_BLOCK = "reject.reason"
REASON_INPUT = "reject.reason_input"
PLAN_BLOCK = "plan.text"
PLAN_INPUT = "plan.text_input"
ROLLBACK_CHOICE_BLOCK = "rollback.revision"
ROLLBACK_CHOICE_INPUT = "rollback.revision_select"
ROLLBACK_REASON_BLOCK = "rollback.reason"
ROLLBACK_REASON_INPUT = "rollback.reason_input"

HOME_HEADER = "home.header"
HOME_PIPELINE = "home.pipeline"  # + the app: its pipeline picture, at the top of App Home
