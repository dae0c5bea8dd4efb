"""Pure Block Kit builders: the promotion card, the status view, App Home, help, the modals.

Each builder returns plain dicts (a message is {"text", "blocks"}) and checks them with
slack_sdk's models before returning, so a builder that breaks a Block Kit limit fails here,
loudly, instead of as `invalid_blocks` from Slack. No I/O, no wording (see messages.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from handlers import ids, messages, mrkdwn
from handlers.payloads import ButtonValue, ModalMeta, RollbackMeta
from slackbot import gates as gate_names
from slackbot.incidents import Revision
from slackbot.models import Event, Kind, Promotion, State
from slackbot.pipeline import Gates
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


def card(record: Promotion, events: Sequence[Event], gates: Gates) -> Json:
    """The one message of a record: what it is, where it stands, how it got there, what next."""
    fields = [
        messages.field_requested_by(record),
        messages.field_route(record),
        messages.field_head(record),
        messages.field_pull(record),
    ]
    if record.merge_sha:
        fields.append(messages.field_merge(record))
    if record.rollback_plan:
        fields.append(messages.field_plan(record))
    reason = messages.field_reason(record)
    if reason:
        fields.append(reason)
    status_lines = [messages.state_line(record)]
    scheduled = messages.merge_scheduled_for(record)
    if scheduled:
        status_lines.append(scheduled)
    voided = [u for u in record.extra.get("voided", "").split(",") if u]
    if voided and record.live:
        status_lines.append(messages.voided_approvals(voided))
    blocks: list[Json] = [
        _header(messages.card_header(record), ids.CARD_HEADER),
        _fields(fields, ids.CARD_FIELDS, text="\n".join(status_lines)),
    ]
    if record.gates:
        blocks.append(section(_gates_text(record, gates), ids.CARD_GATES))
    timeline = _timeline_text(record, events)
    if timeline:
        blocks.append(section(timeline, ids.CARD_TIMELINE))
    outcome = messages.outcome(record)
    if outcome:
        blocks.append(section(outcome, ids.CARD_OUTCOME))
    buttons = card_buttons(record, gates)
    if buttons:
        blocks.append({"type": "actions", "block_id": ids.CARD_ACTIONS_BLOCK, "elements": buttons})
    blocks.append(_context(messages.footer(record), block_id=ids.CARD_FOOTER))
    return message(messages.card_fallback(record), blocks)


def _gates_text(record: Promotion, gates: Gates) -> str:
    lines = [messages.gates_title()]
    for gate in record.gates:
        detail = gate.detail
        if gate.name == gate_names.STAKEHOLDERS and not gate.passed:
            missing = gates.stakeholder_approvals - len(record.approvers())
            if missing > 0:
                detail += f"; {missing} more needed"
        lines.append(messages.gate_line(gate.status.value, detail))
    return "\n".join(lines)


def _timeline_text(record: Promotion, events: Sequence[Event]) -> str:
    lines = [line for e in events if (line := messages.timeline_line(e, record))]
    if not lines:
        return ""
    title = messages.timeline_title()
    dropped = 0
    while lines:
        text = "\n".join([title, *([messages.earlier_steps(dropped)] if dropped else []), *lines])
        if len(text) <= SECTION_MAX:
            return text
        lines.pop(0)
        dropped += 1
    return title


def card_buttons(record: Promotion, gates: Gates) -> list[Json]:
    """Which buttons the record offers in its state (the engine re-checks every click)."""
    plain = ButtonValue(record.id).encode()
    buttons: list[Json] = []
    if record.state in AWAITING:
        if gates.stakeholder_approvals > 0:
            sha_value = ButtonValue(record.id, sha=record.head_sha).encode()
            buttons.append(
                _button(
                    messages.BUTTON_APPROVE,
                    ids.APPROVE,
                    sha_value,
                    "primary",
                    messages.confirm_approve(record),
                )
            )
            buttons.append(_button(messages.BUTTON_REJECT, ids.REJECT, plain, "danger"))
        # a rollback's own rollback plan is the change it undoes (the engine drops that gate)
        if gates.rollback_plan and not record.rollback_plan and record.kind is not Kind.ROLLBACK:
            buttons.append(_button(messages.BUTTON_ADD_PLAN, ids.ADD_PLAN, plain))
    if record.state.live and record.state not in (State.MERGING, State.RECONCILING):
        buttons.append(
            _button(
                messages.BUTTON_CANCEL, ids.CANCEL, plain, None, messages.confirm_cancel(record)
            )
        )
    if record.state in RETRYABLE and record.kind is not Kind.ROLLBACK:
        # a rollback is chosen again with the Rollback button (the revision may have changed)
        buttons.append(_button(messages.BUTTON_RETRY, ids.RETRY, plain, "primary"))
    if record.state is State.FAILED or (record.kind is Kind.ROLLBACK and record.state in RETRYABLE):
        value = ButtonValue(record.id, app=record.app, env=record.env).encode()
        buttons.append(_button(messages.BUTTON_ROLLBACK, ids.ROLLBACK, value, "danger"))
    return buttons


# -- status and App Home ----------------------------------------------------------------------


def _ready_badge(env: EnvStatus) -> str:
    if env.ready == "True":
        return ":large_green_circle: Ready"
    if env.ready == "False":
        return ":red_circle: Not ready"
    return ":white_circle: Unknown"


def env_blocks(env: EnvStatus) -> list[Json]:
    title = f"*{env.env}* · {_ready_badge(env)}"
    if env.suspended:
        title += " · :double_vertical_bar: suspended"
    if env.message:
        title += f"\n{mrkdwn.clip(mrkdwn.sentence(env.message), 500)}"
    applied = env.applied_revision or "nothing yet"
    applied_text = f"`{mrkdwn.clip(applied, 80)}`" + (" (the head)" if env.runs_head else "")
    live = env.live
    live_text = (
        (f"#{live.id} {live.kind.value} by {mrkdwn.user(live.requested_by)}: {live.state.label}")
        if live
        else "none"
    )
    blocks_text = (
        "; ".join(
            f"{':ice_cube:' if b.kind == 'freeze' else ':lock:'} {b.kind} by {mrkdwn.user(b.by)} "
            f"since {mrkdwn.when(b.at)}: {mrkdwn.escape(b.reason)}"
            for b in env.blocks
        )
        or "none"
    )
    fields = [
        f"*Branch head*\n`{env.branch}@{mrkdwn.short(env.head_sha) or 'unknown'}`",
        f"*Applied revision*\n{applied_text}",
        f"*Pods ready*\n{env.pods_ready} of {env.pods_desired}",
        f"*Live promotion*\n{live_text}",
        f"*Waiting to be promoted here*\n{len(env.waiting)} commits",
        f"*Freeze / hold*\n{blocks_text}",
    ]
    out = [_fields(fields, text=title)]
    if env.waiting:
        shown = env.waiting[:5]
        lines = [
            f"`{c.sha[:7]}` {mrkdwn.escape((c.message.splitlines() or [''])[0][:80])} "
            f"({mrkdwn.escape(c.author)})"
            for c in shown
        ]
        if len(env.waiting) > len(shown):
            lines.append(f"… and {len(env.waiting) - len(shown)} more")
        out.append(_context("\n".join(lines)))
    out.append(_divider())
    return out


def status_blocks(status: AppStatus) -> list[Json]:
    blocks: list[Json] = [_header(messages.status_header(status.app))]
    for env in status.envs:
        blocks.extend(env_blocks(env))
    return blocks


def status_message(status: AppStatus) -> Json:
    return message(messages.status_fallback(status.app), status_blocks(status)[:MESSAGE_BLOCKS_MAX])


def home_view(statuses: Sequence[AppStatus | str]) -> Json:
    """App Home for everyone: every app's envs. A str entry is an app whose status failed."""
    blocks: list[Json] = [_header(messages.home_header(), ids.HOME_HEADER)]
    for entry in statuses:
        part = (
            [section(messages.home_unavailable(entry)), _divider()]
            if isinstance(entry, str)
            else status_blocks(entry)
        )
        if len(blocks) + len(part) > VIEW_BLOCKS_MAX:
            break
        blocks.extend(part)
    return view({"type": "home", "blocks": blocks})


# -- help and modals ----------------------------------------------------------------------------


def help_message(
    title: str = messages.HELP_TITLE,
    lines: tuple[tuple[str, str], ...] = messages.HELP_LINES,
    footer: str | None = None,
) -> Json:
    text = "\n".join(f"`{form}`  {mrkdwn.escape(what)}" for form, what in lines)
    blocks = [_header(title), section(text), _context(footer or messages.help_footer())]
    return message(messages.help_fallback(title, lines), blocks)


def rollback_help_message() -> Json:
    return help_message(
        messages.ROLLBACK_HELP_TITLE, messages.ROLLBACK_HELP_LINES, messages.rollback_help_footer()
    )


def hotfix_help_message() -> Json:
    return help_message(
        messages.HOTFIX_HELP_TITLE, messages.HOTFIX_HELP_LINES, messages.hotfix_help_footer()
    )


def reject_modal(record: Promotion, meta: ModalMeta) -> Json:
    return view(
        {
            "type": "modal",
            "callback_id": ids.REJECT_VIEW,
            "private_metadata": meta.encode(),
            "title": _plain(messages.reject_title(record), 24),
            "submit": _plain(messages.BUTTON_REJECT, 24),
            "close": _plain("Back", 24),
            "blocks": [
                section(messages.reject_intro(record)),
                {
                    "type": "input",
                    "block_id": ids.REASON_BLOCK,
                    "label": _plain(messages.reject_label(), 2000),
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
            "title": _plain(messages.plan_title(record), 24),
            "submit": _plain("Save", 24),
            "close": _plain("Back", 24),
            "blocks": [
                section(messages.plan_intro(record)),
                {
                    "type": "input",
                    "block_id": ids.PLAN_BLOCK,
                    "label": _plain(messages.plan_label(), 2000),
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
        "title": _plain(messages.rollback_title(meta.env), 24),
        "close": _plain("Back" if submit else "Close", 24),
        "blocks": blocks,
    }
    if submit:
        body["submit"] = _plain(messages.BUTTON_ROLL_BACK, 24)
    return view(body)


def rollback_loading_modal(meta: RollbackMeta) -> Json:
    """What views.open shows within Slack's 3 s, before the revisions are read."""
    return _rollback_shell(meta, [section(messages.rollback_loading(meta.app, meta.env))], False)


def rollback_notice_modal(meta: RollbackMeta, text: str) -> Json:
    """The dialog when there is nothing to choose (no revisions, or a refusal)."""
    return _rollback_shell(meta, [section(text)], False)


def rollback_modal(
    meta: RollbackMeta, choices: Sequence[Revision], how: str, reason: str = ""
) -> Json:
    options = [
        {
            "text": _plain(messages.revision_option(c.sha, c.subject, c.source), 75),
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
        section(messages.rollback_intro(meta.app, meta.env, how)),
        {
            "type": "input",
            "block_id": ids.ROLLBACK_CHOICE_BLOCK,
            "label": _plain(messages.rollback_choice_label(), 2000),
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
            "label": _plain(messages.rollback_reason_label(), 2000),
            "element": reason_input,
        },
    ]
    return _rollback_shell(meta, blocks, True)
