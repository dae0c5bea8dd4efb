"""Shows on GitHub what the bot deployed: a GitHub Deployment per env deploy (environment =
the env, ref = the merged or reverted sha) with its statuses (in_progress, success, failure),
and a commit status `promotebot/<env>` on the promoted head once the record is done (success,
failure, error). No pending status while the record waits: the bot reads that head's combined
status for its gates, and a status of its own would make every such read count against the
rate limit; the Deployment's in_progress says a deploy is under way.

A Notifier beside the Slack one: a change queues a sync on the bot's workers under the
record's key; the sync reads the newest record and writes only what GitHub was not told yet
(each write claimed once in the store, so a restart or a second replica does not repeat it).
The Deployment is created at the merge, its id kept on the record in the merge's own write,
so a deploy never gets two. It decides nothing:
a GitHub that fails is logged and the promotion goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from slackbot.engine import writing
from slackbot.engine.lookup import Lookup
from slackbot.engine.runner import Submit
from slackbot.errors import AdapterError
from slackbot.events import Event, EventKind
from slackbot.models import Promotion, State
from slackbot.ports import CardLinks, DeploymentSpec, Forge, Store

log = logging.getLogger(__name__)

TAG = "github-write-back"
CONTEXT = "promotebot/{env}"
# The events after which GitHub may have something new to be told.
TOLD = frozenset({EventKind.MERGED, EventKind.REVERTED, EventKind.DEPLOYED, EventKind.FAILED,
                  EventKind.REJECTED, EventKind.CANCELLED, EventKind.EXPIRED,
                  EventKind.RECOVERED})
DONE_TTL_MS = 90 * 24 * 3600 * 1000  # a write claimed stays claimed this long
OWNER = "write-back"


def commit_state(record: Promotion) -> str | None:
    """The commit status the record's head should carry now (None: nothing to say yet)."""
    if record.state is State.DEPLOYED:
        return "success"
    if record.state is State.CANCELLED:
        return "error"
    if record.state in (State.FAILED, State.REJECTED, State.EXPIRED):
        return "failure"
    return None  # under way: the Deployment's in_progress says so


def deployment_states(record: Promotion) -> tuple[str, ...]:
    """The statuses the record's Deployment should have had, in order."""
    if not record.merged:
        return ()
    if record.state is State.DEPLOYED:
        return "in_progress", "success"
    if record.state in (State.FAILED, State.EXPIRED):
        return "in_progress", "failure"
    return ("in_progress",)


class WriteBack:
    def __init__(self, lookup: Lookup, store: Store, forge: Forge, submit: Submit,
                 links: CardLinks | None = None):
        self._lookup = lookup
        self._store = store
        self._forge = forge
        self._submit = submit
        self._links = links

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        if event.kind not in TOLD or not self._enabled(promotion):
            return
        self._submit(promotion.id, lambda: self.sync(promotion.id), TAG)

    def _enabled(self, record: Promotion) -> bool:
        try:
            return self._lookup.app(record.app).github_write_back
        except Exception:  # an app no longer in the pipeline file: nothing to write
            return False

    def sync(self, promotion_id: int) -> None:
        """Tell GitHub what it was not told yet about the record (idempotent)."""
        record = self._store.get(promotion_id)
        if record is None or not self._enabled(record):
            return
        repository = self._lookup.app(record.app).repository
        link = self._link(record)
        sha = record.head_sha or record.merge_sha
        state = commit_state(record)
        if sha is not None and state is not None:
            context = CONTEXT.format(env=record.env)
            self._once(record, f"status:{sha}:{record.env}:{state}", "the commit status",
                       partial(self._forge.commit_status, repository, sha, context, state,
                               writing.commit_status_description(record, state), link))
        states = deployment_states(record)
        if not states:
            return
        deployment = record.deployment_id
        if deployment is None:  # GitHub refused it at the merge: nothing to give a status
            return
        for each in states:
            self._once(record, f"deployment:{deployment}:{each}", f"the deployment's {each}",
                       partial(self._forge.deployment_status, repository, deployment, each,
                               writing.deployment_status_description(record, each), link))

    def open(self, record: Promotion, merge_sha: str) -> int | None:
        """The Deployment of `merge_sha` to the record's env, created once (the merge keeps its
        id on the record in the same write as the sha): None when off or GitHub refused."""
        if not self._enabled(record):
            return None
        app = self._lookup.app(record.app)
        spec = DeploymentSpec(
            ref=merge_sha, environment=record.env, record=record.name,
            description=writing.deployment_description(record),
            production=app.environments[-1].name == record.env)
        claim = f"write-back:{record.id}:deployment:{merge_sha}"
        try:
            if self._store.claim_key(claim, OWNER, DONE_TTL_MS):
                try:
                    return self._forge.create_deployment(app.repository, spec)
                except BaseException:
                    self._store.unclaim_key(claim, OWNER)
                    raise
            # created before a restart cut the merge short: the same one, never a second
            return self._forge.find_deployment(app.repository, spec)
        except AdapterError as exc:
            log.warning("%s: GitHub refused the deployment (%s); the promotion goes on",
                        record.name, type(exc).__name__)
            return None

    def _once(self, record: Promotion, what: str, words: str, write: Callable[[], None]) -> None:
        key = f"write-back:{record.id}:{what}"
        if not self._store.claim_key(key, OWNER, DONE_TTL_MS):
            return
        try:
            write()
        except AdapterError as exc:
            self._store.unclaim_key(key, OWNER)
            log.warning("%s: GitHub refused %s (%s); the promotion goes on", record.name,
                        words, type(exc).__name__)

    def _link(self, record: Promotion) -> str | None:
        if self._links is None:
            return None
        try:
            return self._links.card_link(record.id)
        except Exception:  # a link only decorates
            log.info("%s: no link to its card", record.name, exc_info=True)
            return None
