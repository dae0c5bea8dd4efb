"""The GitHub emulator: GitHub REST (as PyGithub 2.10 uses it) and git smart HTTP over a bare repo.

Start one with `GitHubEmulator(bare_repo, owner, name, users).start()`; point PyGithub at
`.url` and git at `.clone_url`. Importing this package starts nothing.
"""

from sandbox.github.models import GitHubUser
from sandbox.github.server import GitHubEmulator

__all__ = ["GitHubEmulator", "GitHubUser"]
