"""GitHub computes a pull request's mergeability in the background: for a moment after the
pull request is opened or either of its branches moves, `mergeable` is null and
`mergeable_state` "unknown".

`MergeabilityTracker` remembers, per pull request, the (base, head) pair it last saw and when
the computation for it is done (`delay` seconds later on the emulator's clock). A change
noticed at a push starts the moment then; one made behind the emulator's back (a push straight
into the bare repository) starts it at the next look. It decides nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.github.clock import Clock

DEFAULT_DELAY = 2.0


@dataclass(frozen=True)
class _Seen:
    base_sha: str
    head_sha: str
    ready_at: float


class MergeabilityTracker:
    def __init__(self, clock: Clock, delay: float = DEFAULT_DELAY) -> None:
        if delay < 0:
            raise ValueError("mergeability delay must be >= 0")
        self.clock = clock
        self.delay = delay
        self._seen: dict[int, _Seen] = {}

    def note(self, number: int, base_sha: str, head_sha: str) -> None:
        """Starts the computation when this pair is new for the pull request."""
        seen = self._seen.get(number)
        if seen is None or (seen.base_sha, seen.head_sha) != (base_sha, head_sha):
            self._seen[number] = _Seen(base_sha, head_sha, self.clock.now() + self.delay)

    def restart(self, number: int, base_sha: str, head_sha: str) -> None:
        """Starts the computation again for this pair, as if it had just changed."""
        self._seen[number] = _Seen(base_sha, head_sha, self.clock.now() + self.delay)

    def computing(self, number: int, base_sha: str, head_sha: str) -> bool:
        """True while GitHub would still answer null for this pair."""
        self.note(number, base_sha, head_sha)
        return self.clock.now() < self._seen[number].ready_at
