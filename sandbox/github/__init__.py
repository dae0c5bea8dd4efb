"""The GitHub emulator: GitHub REST (as PyGithub 2.10 uses it) and git smart HTTP over a bare repo,
as strict as github.com (expiring tokens, rate limits, protection, mergeability computed late).

Start one with `GitHubEmulator(bare_repo, owner, name, users).start()`; point PyGithub at
`.url` and git at `.clone_url`; step its `clock` (a `ManualClock`) and arm its `faults` in
tests. Importing this package starts nothing.
"""

from sandbox.github.clock import ManualClock, SystemClock
from sandbox.github.models import Actors, GitHubUser
from sandbox.github.server import GitHubEmulator

__all__ = ["Actors", "GitHubEmulator", "GitHubUser", "ManualClock", "SystemClock"]
