"""What follows a deploy to the last env: keeping the branches in sync (the workflow document's
"merge prod back into staging and dev") and backporting a hotfix to the envs below.

Each merge is done on the server; one that does not apply cleanly becomes a pull request and a
line on the card, never a silent failure. Every outcome is an audit event on the record and a
comment on its pull request.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slackbot.errors import AdapterError, MergeConflict
from slackbot.models import Event, Kind, Promotion

if TYPE_CHECKING:
    from slackbot.engine import Engine

log = logging.getLogger(__name__)


def after_deploy(engine: Engine, record: Promotion) -> None:
    app = engine.app(record.app)
    if app.next_of(record.env) is not None:
        return  # only a deploy to the last env (prod) is synced back
    if record.kind is Kind.PROMOTION:
        _merge_down(engine, record, head=record.target_branch, verb="sync")
    elif record.kind is Kind.HOTFIX:
        _merge_down(engine, record, head=record.source_branch, verb="backport")


def _merge_down(engine: Engine, record: Promotion, head: str, verb: str) -> None:
    app = engine.app(record.app)
    lower = [e for e in app.environments if e.name != record.env]
    for env in reversed(lower):  # staging first, then dev, as the document's commands do
        message = f"{'Sync' if verb == 'sync' else 'Backport'} {head} into {env.branch} " \
                  f"after {record.kind.value} #{record.id}"
        try:
            sha = engine.forge.merge_branch(app.repository, env.branch, head, message)
        except MergeConflict:
            _conflict(engine, record, head, env.branch, verb)
            continue
        except AdapterError:
            log.exception("%s #%s: %s into %s failed", record.kind.value, record.id, verb,
                          env.branch)
            _record(engine, record, f"{verb}_failed",
                    f"{head} could not be merged into {env.branch}: GitHub refused; merge it by "
                    f"hand (git merge {head})")
            continue
        detail = (f"{head} merged into {env.branch} as {sha[:7]}" if sha
                  else f"{env.branch} already has everything in {head}")
        _record(engine, record, "synced" if verb == "sync" else "backported", detail)


def _conflict(engine: Engine, record: Promotion, head: str, base: str, verb: str) -> None:
    app = engine.app(record.app)
    title = f"{'Sync' if verb == 'sync' else 'Backport'} {head} into {base} ({record.kind.value} " \
            f"#{record.id})"
    body = (f"promotebot could not merge `{head}` into `{base}` cleanly after "
            f"{record.kind.value} #{record.id}: resolve the conflict here and merge.")
    try:
        pull = engine.forge.find_open_pull(app.repository, base, head) or engine.forge.open_pull(
            app.repository, base, head, title, body)
    except AdapterError:
        log.exception("%s #%s: opening the %s pull request failed", record.kind.value, record.id,
                      verb)
        _record(engine, record, f"{verb}_conflict",
                f"{head} conflicts with {base}, and the pull request could not be opened: "
                f"merge it by hand")
        return
    _record(engine, record, f"{verb}_conflict",
            f"{head} conflicts with {base}: resolve it in pull request #{pull.number} {pull.url}")


def _record(engine: Engine, record: Promotion, kind: str, detail: str) -> None:
    event = Event(kind, record.id, record.app, record.env, engine.options.owner,
                  engine.clock.now(), detail)
    engine.store.append_event(event)
    engine.comment_on(record, detail)
    engine.notify(record, event)
