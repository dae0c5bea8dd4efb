"""Pure Block Kit builders: the promotion card, the status view, App Home, help, the modals.

Each builder returns plain dicts (a message is {"text", "blocks"}) and checks them with
slack_sdk's models before returning, so a builder that breaks a Block Kit limit fails here,
loudly, instead of as `invalid_blocks` from Slack. No I/O, no wording (see views.py).
(Over 400 lines: the card alone is a third of it; the next surface that grows here should
move the card's builders to a module of their own.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from handlers import ids, mrkdwn
from handlers.messages import answers, timeline, views
from handlers.messages import card as words
from handlers.messages import changes as changes_words
from handlers.messages import outside as outside_words
from handlers.messages import pipeline as pipeline_words
from handlers.payloads import ButtonValue, ModalMeta, RollbackMeta
from slackbot import gates as gate_names
from slackbot.engine.chain import Root
from slackbot.engine.incidents import Revision
from slackbot.events import Event
from slackbot.models import Kind, Promotion, QueueEntry, State
from slackbot.outages import Outage
from slackbot.pipeline import Gates, Waiting
from slackbot.reasons import Reason
from slackbot.status import AppStatus, EnvStatus

Json = dict[str, Any]

SECTION_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
AWAITING = (State.PR_OPEN, State.AWAITING_GATES)
RETRYABLE = (State.FAILED, State.EXPIRED, State.CANCELLED, State.REJECTED)


# -- small block helpers --------------------------------------------------------------------


def _text(text: str) -> Json:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int = 150) -> Json:
    return {"type": "plain_text", "text": mrkdwn.clip(text, limit), "emoji": True}


def section(text: str, block_id: str | None = None) -> Json:
    block: Json = {"type": "section", "text": _text(mrkdwn.clip(text, SECTION_MAX))}
    if block_id:
        block["block_id"] = block_id
    return block


def _fields(fields: Sequence[str], block_id: str | None = None, text: str | None = None) -> Json:
    block: Json = {"type": "section", "fields": [_text(mrkdwn.clip(f, 2000)) for f in fields[:10]]}
    if text:
        block["text"] = _text(mrkdwn.clip(text, SECTION_MAX))
    if block_id:
        block["block_id"] = block_id
    return block


def _header(text: str, block_id: str | None = None) -> Json:
    block: Json = {"type": "header", "text": _plain(text)}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(*texts: str, block_id: str | None = None) -> Json:
    block: Json = {"type": "context", "elements": [_text(mrkdwn.clip(t, 2000)) for t in texts[:10]]}
    if block_id:
        block["block_id"] = block_id
    return block


def _divider() -> Json:
    return {"type": "divider"}


def _button(
    text: str,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: tuple[str, str, str, str] | None = None,
) -> Json:
    button: Json = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(text, 75),
        "value": value,
    }
    if style:
        button["style"] = style
    if confirm:
        title, body, yes, no = confirm
        button["confirm"] = {
            "title": _plain(title, 100),
            "text": _text(mrkdwn.clip(body, 300)),
            "confirm": _plain(yes, 30),
            "deny": _plain(no, 30),
        }
    return button


def message(text: str, blocks: list[Json]) -> Json:
    """A message body, checked against Block Kit: text fallback always set."""
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        raise ValueError(f"{len(blocks)} blocks: a message holds at most {MESSAGE_BLOCKS_MAX}")
    for block in blocks:
        parsed = Block.parse(block)
        if parsed is None:
            raise ValueError(f"not a block: {block!r}")
        parsed.validate_json()
    return {"text": mrkdwn.clip(text, 3000), "blocks": blocks}


def view(body: Json) -> Json:
    """A modal or Home view, checked against Block Kit."""
    View(**body).validate_json()
    return body


# -- the promotion card ---------------------------------------------------------------------


def card(record: Promotion, events: Sequence[Event], gates: Gates,
         envs: tuple[str, ...] = (), outages: Sequence[Outage] = (), *,
         queue: Sequence[QueueEntry] = (), waiting: Waiting | None = None) -> Json:
    """The one message of a record: what it is, where it stands, how it got there, what next
    (`envs`: the app's envs, for a dependsOn root's button; while it is live, the outside
    services that keep failing its steps; `queue`: the requests waiting for its env;
    `waiting`: its env's timers)."""
    fields = [
        words.field_requested_by(record),
        words.field_route(record),
        words.field_head(record),
        words.field_pull(record),
    ]
    if record.merge_sha:
        fields.append(words.field_merge(record))
    if record.rollback_plan:
        fields.append(words.field_plan(record))
    reason = words.field_reason(record)
    if reason:
        fields.append(reason)
    status_lines = [words.state_line(record)]
    scheduled = words.merge_scheduled_for(record)
    if scheduled:
        status_lines.append(scheduled)
    if record.voided and record.live:
        status_lines.append(words.voided_approvals(record.voided))
    if record.outside is not None and record.live:
        status_lines.append(outside_words.card_line(record.outside))
    if record.live:
        status_lines.extend(words.outage_line(o) for o in outages)
    for line in (words.timers_line(record, waiting),
                 words.queue_line(queue) if record.live else None):
        if line:
            status_lines.append(line)
    blocks: list[Json] = [
        _header(words.header(record), ids.CARD_HEADER),
        _fields(fields, ids.CARD_FIELDS, text="\n".join(status_lines)),
    ]
    if record.changes is not None and record.rollback is None:
        blocks.append(section(changes_words.summary(record.changes), ids.CARD_CHANGES))
    if record.gates:
        blocks.append(section(_gates_text(record, gates), ids.CARD_GATES))
    lines = _timeline_text(record, events)
    if lines:
        blocks.append(section(lines, ids.CARD_TIMELINE))
    outcome = words.outcome(record)
    if outcome:
        blocks.append(section(outcome, ids.CARD_OUTCOME))
    buttons = card_buttons(record, gates, envs)
    if buttons:
        blocks.append({"type": "actions", "block_id": ids.CARD_ACTIONS_BLOCK, "elements": buttons})
    blocks.append(_context(words.footer(record), block_id=ids.CARD_FOOTER))
    return message(words.fallback(record), blocks)


def _gates_text(record: Promotion, gates: Gates) -> str:
    lines = [words.gates_title()]
    for gate in record.gates:
        missing = 0
        if gate.name == gate_names.STAKEHOLDERS and not gate.passed:
            missing = gates.stakeholder_approvals - len(record.approvers())
        lines.append(words.gate_line(gate, missing))
    return "\n".join(lines)


def _timeline_text(record: Promotion, events: Sequence[Event]) -> str:
    lines = [line for e in events if (line := timeline.timeline_line(e, record))]
    if not lines:
        return ""
    title = words.timeline_title()
    dropped = 0
    while lines:
        text = "\n".join([title, *([words.earlier_steps(dropped)] if dropped else []), *lines])
        if len(text) <= SECTION_MAX:
            return text
        lines.pop(0)
        dropped += 1
    return title


def card_buttons(record: Promotion, gates: Gates, envs: tuple[str, ...] = ()) -> list[Json]:
    """Which buttons the record offers in its state (the engine re-checks every click): Rollback
    only where a merge happened, and the rollback of the env its dependsOn chain waits on."""
    plain = ButtonValue(record.id).encode()
    buttons: list[Json] = []
    if record.state in AWAITING:
        if gates.stakeholder_approvals > 0:
            sha_value = ButtonValue(record.id, sha=record.head_sha).encode()
            buttons.append(_button(words.BUTTON_APPROVE, ids.APPROVE, sha_value, "primary",
                                   words.confirm_approve(record)))
            buttons.append(_button(words.BUTTON_REJECT, ids.REJECT, plain, "danger"))
        # a rollback's own rollback plan is the change it undoes (the engine drops that gate)
        if gates.rollback_plan and not record.rollback_plan and record.kind is not Kind.ROLLBACK:
            buttons.append(_button(words.BUTTON_ADD_PLAN, ids.ADD_PLAN, plain))
    if record.state.live and record.state not in (State.MERGING, State.RECONCILING):
        buttons.append(_button(words.BUTTON_CANCEL, ids.CANCEL, plain, None,
                               words.confirm_cancel(record)))
    if record.state in RETRYABLE and record.kind is not Kind.ROLLBACK:
        # a rollback is chosen again with the Rollback button (the revision may have changed)
        buttons.append(_button(words.BUTTON_RETRY, ids.RETRY, plain, "primary"))
    merged_and_failed = record.state is State.FAILED and record.merged
    if merged_and_failed or (record.kind is Kind.ROLLBACK and record.state in RETRYABLE):
        value = ButtonValue(record.id, app=record.app, env=record.env).encode()
        buttons.append(_button(words.BUTTON_ROLLBACK, ids.ROLLBACK, value, "danger"))
    root = chain_root(record)
    if root is not None and root in envs and root != record.env:
        buttons.append(root_button(record.id, record.app, root))
    return buttons


def chain_root(record: Promotion) -> str | None:
    """The env the record waits on (or failed waiting on) in its dependsOn chain."""
    if record.live and record.progress is not None and record.progress.root:
        return record.progress.root
    source = record.gate(gate_names.SOURCE)
    if record.live and source is not None and source.root and not source.passed:
        return source.root
    if record.state is State.FAILED and record.failure is not None:
        return record.failure.root
    return None


def root_button(record_id: int, app: str | None, env: str) -> Json:
    """Opens the rollback dialog of the env at the root of a dependsOn chain."""
    value = ButtonValue(record_id, app=app, env=env).encode()
    return _button(words.BUTTON_ROLL_BACK_ROOT.format(env=env), ids.ROLLBACK_ROOT, value,
                   "danger")


def refusal_message(reason: Reason) -> Json | None:
    """A refusal that names the root of a dependsOn chain, with the button that rolls it back
    (None for every other refusal: its words alone are the answer)."""
    if reason.root is None:
        return None
    text = answers.refused(reason)
    blocks = [section(text), {"type": "actions", "block_id": ids.CARD_ACTIONS_BLOCK,
                              "elements": [root_button(0, reason.app, reason.root)]}]
    return message(text, blocks)


def chain_message(record: Promotion, root: Root, said: str) -> Json:
    """An answer (`said`) followed by what Flux will and will not do while the record's env
    waits on its chain, with the root's rollback one click away."""
    note = answers.chain_waits(record, root.env, root.reason, root.message)
    blocks = [section(said), section(note)]
    if root.in_app:
        blocks.append({"type": "actions", "block_id": ids.CARD_ACTIONS_BLOCK,
                       "elements": [root_button(record.id, record.app, root.env)]})
    return message(f"{said}\n{note}", blocks)


# -- status and App Home ----------------------------------------------------------------------


def env_blocks(env: EnvStatus) -> list[Json]:
    out = [_fields(views.env_fields(env), text=views.env_title(env))]
    if env.waiting:
        out.append(_context(views.waiting_lines(env)))
    out.append(_divider())
    return out


def status_blocks(status: AppStatus) -> list[Json]:
    blocks: list[Json] = [_header(views.status_header(status.app))]
    for env in status.envs:
        blocks.extend(env_blocks(env))
    return blocks


def status_message(status: AppStatus) -> Json:
    return message(views.status_fallback(status.app), status_blocks(status)[:MESSAGE_BLOCKS_MAX])


def home_view(statuses: Sequence[AppStatus | str], delivery: Sequence[Json] = ()) -> Json:
    """App Home for everyone: every app's envs. A str entry is an app whose status failed.
    `delivery`: the DORA figures' blocks (handlers/stats.py), after the envs, when room."""
    blocks: list[Json] = [_header(views.home_header(), ids.HOME_HEADER)]
    pictures = [section(pipeline_words.pipeline_picture(e), f"{ids.HOME_PIPELINE}.{e.app}")
                for e in statuses if not isinstance(e, str)]
    if pictures:
        blocks.extend([*pictures[:VIEW_BLOCKS_MAX // 4], _divider()])
    for entry in statuses:
        part = (
            [section(views.home_unavailable(entry)), _divider()]
            if isinstance(entry, str)
            else status_blocks(entry)
        )
        if len(blocks) + len(part) > VIEW_BLOCKS_MAX:
            break
        blocks.extend(part)
    blocks.extend(list(delivery)[:max(VIEW_BLOCKS_MAX - len(blocks), 0)])
    return view({"type": "home", "blocks": blocks})


# -- help and modals ----------------------------------------------------------------------------


def help_message(
    title: str = views.HELP_TITLE,
    lines: tuple[tuple[str, str], ...] = views.HELP_LINES,
    footer: str | None = None,
) -> Json:
    text = "\n".join(f"`{mrkdwn.escape(form)}`  {mrkdwn.escape(what)}" for form, what in lines)
    blocks = [_header(title), section(text), _context(footer or views.help_footer())]
    return message(views.help_fallback(title, lines), blocks)


def rollback_help_message() -> Json:
    return help_message(
        views.ROLLBACK_HELP_TITLE, views.ROLLBACK_HELP_LINES, views.rollback_help_footer()
    )


def hotfix_help_message() -> Json:
    return help_message(
        views.HOTFIX_HELP_TITLE, views.HOTFIX_HELP_LINES, views.hotfix_help_footer()
    )


def reject_modal(record: Promotion, meta: ModalMeta) -> Json:
    return view(
        {
            "type": "modal",
            "callback_id": ids.REJECT_VIEW,
            "private_metadata": meta.encode(),
            "title": _plain(views.reject_title(record), 24),
            "submit": _plain(words.BUTTON_REJECT, 24),
            "close": _plain("Back", 24),
            "blocks": [
                section(views.reject_intro(record)),
                {
                    "type": "input",
                    "block_id": ids.REASON_BLOCK,
                    "label": _plain(views.reject_label(), 2000),
                    "element": {
                        "type": "plain_text_input",
                        "action_id": ids.REASON_INPUT,
                        "multiline": True,
                        "max_length": 2000,
                    },
                },
            ],
        }
    )


def plan_modal(record: Promotion, meta: ModalMeta) -> Json:
    element: Json = {
        "type": "plain_text_input",
        "action_id": ids.PLAN_INPUT,
        "multiline": True,
        "max_length": 2900,
    }
    if record.rollback_plan:
        element["initial_value"] = record.rollback_plan[:2900]
    return view(
        {
            "type": "modal",
            "callback_id": ids.PLAN_VIEW,
            "private_metadata": meta.encode(),
            "title": _plain(views.plan_title(record), 24),
            "submit": _plain("Save", 24),
            "close": _plain("Back", 24),
            "blocks": [
                section(views.plan_intro(record)),
                {
                    "type": "input",
                    "block_id": ids.PLAN_BLOCK,
                    "label": _plain(views.plan_label(), 2000),
                    "element": element,
                },
            ],
        }
    )


# -- the rollback dialog: opened at once (loading), then updated with the choices ----------------

OPTIONS_MAX = 100


def _rollback_shell(meta: RollbackMeta, blocks: list[Json], submit: bool) -> Json:
    body: Json = {
        "type": "modal",
        "callback_id": ids.ROLLBACK_VIEW,
        "private_metadata": meta.encode(),
        "title": _plain(views.rollback_title(meta.env), 24),
        "close": _plain("Back" if submit else "Close", 24),
        "blocks": blocks,
    }
    if submit:
        body["submit"] = _plain(views.BUTTON_ROLL_BACK, 24)
    return view(body)


def rollback_loading_modal(meta: RollbackMeta) -> Json:
    """What views.open shows within Slack's 3 s, before the revisions are read."""
    return _rollback_shell(meta, [section(views.rollback_loading(meta.app, meta.env))], False)


def rollback_notice_modal(meta: RollbackMeta, text: str) -> Json:
    """The dialog when there is nothing to choose (no revisions, or a refusal)."""
    return _rollback_shell(meta, [section(text)], False)


def rollback_modal(
    meta: RollbackMeta, choices: Sequence[Revision], how: str, reason: str = ""
) -> Json:
    options = [
        {
            "text": _plain(views.revision_option(c), 75),
            "value": c.sha,
        }
        for c in choices[:OPTIONS_MAX]
    ]
    reason_input: Json = {
        "type": "plain_text_input",
        "action_id": ids.ROLLBACK_REASON_INPUT,
        "multiline": True,
        "max_length": 1000,
    }
    if reason:
        reason_input["initial_value"] = reason[:1000]
    blocks: list[Json] = [
        section(views.rollback_intro(meta.app, meta.env, how)),
        {
            "type": "input",
            "block_id": ids.ROLLBACK_CHOICE_BLOCK,
            "label": _plain(views.rollback_choice_label(), 2000),
            "element": {
                "type": "static_select",
                "action_id": ids.ROLLBACK_CHOICE_INPUT,
                "options": options,
                "initial_option": options[0],
            },
        },
        {
            "type": "input",
            "block_id": ids.ROLLBACK_REASON_BLOCK,
            "optional": True,
            "label": _plain(views.rollback_reason_label(), 2000),
            "element": reason_input,
        },
    ]
    return _rollback_shell(meta, blocks, True)
