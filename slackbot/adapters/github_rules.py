"""Reading GitHub's refusals: which ones are branch protection or a ruleset speaking (and the
rule they name), which are the transient merge race, which are a real conflict.

GitHub answers a merge with 405 for several different things (a conflict, "Base branch was
modified", every unmet protection rule), refuses a server-side merge or a ref update with
409/422 naming the rule, and refuses a git push with GH006 (protection) or GH013 (rulesets)
`remote:` lines. Pure text rules, shared by the REST adapter and the git workspace.
"""

from __future__ import annotations

import re

BASE_MODIFIED = "base branch was modified"
NOT_MERGEABLE = "pull request is not mergeable"
RULE_WORDS = (
    "protected branch", "repository rule violations", "approving review", "review is required",
    "required status check", "status checks are expected", "through a pull request",
    "not authorized to push", "cannot force-push", "cannot update this protected ref",
    "creations being restricted", "cannot delete this", "not up to date with the base branch",
    "changes have been requested", "code owner", "protected ref",
)
_PUSH_REPORT = re.compile(r"GH0(?:06|13):\s*(?P<title>[^\n]*)")
_REMOTE = re.compile(r"^remote:\s?", re.MULTILINE)


def protection_rule(message: str) -> str | None:
    """The rule a refusal names, in GitHub's words on one line; None when it is not
    protection (a conflict, a race, a missing object)."""
    lowered = message.lower()
    if not any(words in lowered for words in RULE_WORDS):
        return None
    return _one_line(message)


def push_rule(stderr: str) -> str | None:
    """The rule a refused git push names (GH006 or GH013 and the bullets under it); None when
    the push was refused for another reason (a moved branch, credentials)."""
    text = _REMOTE.sub("", stderr)
    found = _PUSH_REPORT.search(text)
    if found is None:
        if "protected branch hook declined" in text or "rule violations" in text:
            return "the push was declined by a protected branch rule"
        return None
    bullets = [line.strip()[2:].strip() for line in text[found.end():].splitlines()
               if line.strip().startswith("- ")]
    return "; ".join(bullets) or _one_line(found.group("title"))


def _one_line(text: str) -> str:
    parts = [p.strip(" -\t") for p in text.replace("\r", "").split("\n")]
    return "; ".join(p for p in parts if p)[:300]
