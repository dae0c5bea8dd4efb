"""The authorization matrix of the default access policy, through the real Bolt app.

Cells are generated from the default pipeline's policy: every action of the workflow (a retry
as the action it repeats), for every role (developer, reviewer, stakeholder, on-call, and a
workspace member in no role), every env where the action means something, and every channel
(the deploys and incidents channels, and a third one the policy does not name) for what is a
slash command; what is a card button is clicked where the card is (a click anywhere else is
refused as not on its card: test_access.py). The expected outcome of a cell is read from the
rule (its roles, its pseudo-roles requester and owner, its channels); each cell then runs as
signed requests from the Slack emulator to the real app, and asserts:

    allowed   the change happened (the record, the approval, the freeze, the branch...)
    refused   the refusal says why (the rule's roles, or its channels) to that person only,
              and Redis, the forge, git and every channel are exactly as before

The policy is the same in every env, so every env covers its gate class (dev: none, staging:
checks and reviews, prod: approvals, plan, window); prod-only actions (approve, reject, plan,
emergency rollback, hotfixes) run on prod. Each action group runs against a fresh bot.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from handlers import ids
from sandbox.slack import SlackChannel, SlackUser, SlackUserGroup
from slackbot.config import load_pipeline
from slackbot.models import BlockKind, Kind, Promotion
from slackbot.policy import DEPLOYS as DEPLOYS_KEY
from slackbot.policy import INCIDENTS as INCIDENTS_KEY
from slackbot.policy import ONCALL as ONCALL_ROLE
from slackbot.policy import OWNER, REQUESTER, Rule
from slackbot.reasons import Action
from tests.handlers.conftest import (
    DEPLOYS,
    INCIDENTS,
    ONCALL,
    STAKEHOLDERS,
    Edge,
    running_edge,
    wait_for,
)
from tests.handlers.observing import world_state

DEV, REV, STAKE, ONCALL_USER, OUT = "U0DEV", "U0REVIEW", "U0STAKE", "U0ONCALL", "U0OUT"
OTHER = "C0RANDOM"  # a channel the policy does not name
CHANNELS = {DEPLOYS: DEPLOYS_KEY, INCIDENTS: INCIDENTS_KEY, OTHER: "other"}
ROLES_OF = {DEV: {"developer"}, REV: {"reviewer"}, STAKE: {"stakeholder"},
            ONCALL_USER: {ONCALL_ROLE}, OUT: set()}
NAMES = {DEV: "developer", REV: "reviewer", STAKE: "stakeholder", ONCALL_USER: "on-call",
         OUT: "outsider"}
PEOPLE = tuple(ROLES_OF)
POLICY = load_pipeline(None).app("myapp")

TOTALS: Counter[str] = Counter()


@dataclass(frozen=True)
class Cell:
    action: Action
    env: str
    user: str
    channel: str
    relations: frozenset[str] = frozenset()  # requester, owner: what the user is to the target

    def expected(self) -> tuple[bool, str]:
        """(allowed, why refused: "own", "role" or "channel") as the default rule reads; the
        requester never approves (nor rejects) their own, whatever the rule."""
        if self.action in (Action.APPROVE, Action.REJECT) and REQUESTER in self.relations:
            return False, "own"
        rule = _rule(self.action, self.env)
        if not set(rule.roles) & (ROLES_OF[self.user] | self.relations):
            return False, "role"
        if CHANNELS[self.channel] not in rule.channels:
            return False, "channel"
        return True, ""

    def __str__(self) -> str:
        who = NAMES[self.user] + "".join(f"+{r}" for r in sorted(self.relations))
        return f"{self.action.value} {self.env} by {who} in {CHANNELS[self.channel]}"


def _rule(action: Action, env: str) -> Rule:
    if action is Action.RETRY:  # authorized as the action it repeats
        action = Action.REQUEST
    return POLICY.env(env).access.rule(action)


@pytest.fixture
def matrix_edge(redis_url: str) -> Iterator[Edge]:
    everyone = list(PEOPLE)
    with running_edge(
        redis_url,
        users=[SlackUser(u, NAMES[u]) for u in PEOPLE],
        channels=[SlackChannel(DEPLOYS, "deploys", everyone),
                  SlackChannel(INCIDENTS, "incidents", everyone),
                  SlackChannel(OTHER, "random", everyone)],
        usergroups=[SlackUserGroup(STAKEHOLDERS, "stakeholders", [STAKE]),
                    SlackUserGroup(ONCALL, "oncall", [ONCALL_USER])],
    ) as edge:
        yield edge


# -- the world each group needs ----------------------------------------------------------------


def history(edge: Edge, env: str) -> str:
    """The env ran three heads, Flux runs the newest: the one before it, to roll back to."""
    shas = [edge.forge.push(env) for _ in range(3)][::-1]
    edge.workspace.history[env] = shas
    edge.cluster.deploy(f"myapp-{env}", env, shas[0])
    return shas[1]


def awaiting(edge: Edge, record: Promotion) -> Promotion:
    edge.settle()
    return edge.wait_state(record.id, "awaiting_gates")


def live_prod(edge: Edge) -> Promotion:
    """A prod promotion requested by the developer, waiting for its gates, its card posted."""
    return awaiting(edge, edge.core.commands.request("myapp", "prod", DEV))


def finish(edge: Edge, record_id: int) -> None:
    """End what a cell started: cancel it before its merge, or let Flux apply its revert."""
    edge.settle()
    record = edge.store.get(record_id)
    assert record is not None
    if record.live and record.merge_sha is None:
        edge.core.commands.cancel(record.id, STAKE)
    elif record.live:  # a direct revert: Flux applies it, the record deploys
        env = POLICY.env(record.env)
        edge.cluster.deploy(env.kustomization.name, record.target_branch, record.merge_sha)
        edge.core.runner.kick(record.id)
        edge.settle()
        wait_for(lambda: not (edge.store.get(record_id) or record).live, f"#{record_id} done")
    edge.settle()
    if edge.store.blocks("myapp", record.env):
        edge.core.holds.unlock("myapp", record.env, STAKE)
    edge.settle()


def card_ts(edge: Edge, record_id: int) -> str:
    edge.settle()
    return str(edge.card_of(record_id)["ts"])


# -- one group of cells ------------------------------------------------------------------------


@dataclass
class Group:
    """How to run an action's cells: `act` does it as the cell says; `done` tells whether it
    took effect; `reset` puts the world back for the next cell after an allowed one."""

    cells: list[Cell]
    act: Callable[[Cell], None]
    done: Callable[[Cell], bool]
    reset: Callable[[Cell], None] = lambda cell: None
    failures: list[str] = field(default_factory=list)


def run(edge: Edge, group: Group) -> Counter[str]:
    counts: Counter[str] = Counter()
    # refused cells first (they change nothing), then each allowed one with its reset
    ordered = sorted(group.cells, key=lambda c: c.expected()[0])
    for cell in ordered:
        allowed, why = cell.expected()
        edge.settle()
        before = world_state(edge, CHANNELS)
        said = len(edge.emulator.ephemerals(cell.user))
        group.act(cell)
        edge.settle()
        counts["cells"] += 1
        if allowed:
            counts["allowed"] += 1
            wait_for(lambda c=cell: group.done(c), what=f"{cell}: allowed, so it takes effect")
            group.reset(cell)
            continue
        counts["refused"] += 1
        texts = [m.get("text", "") for m in edge.emulator.ephemerals(cell.user)[said:]]
        marker = {"channel": " is done in ", "own": "so you cannot", "role": " needs "}[why]
        if not any(t.startswith(":no_entry:") and marker in t for t in texts):
            group.failures.append(f"{cell}: expected refused ({why}), said {texts}")
        if world_state(edge, CHANNELS) != before:
            group.failures.append(f"{cell}: refused, but something changed")
        if group.done(cell):
            group.failures.append(f"{cell}: refused, but it took effect")
    return counts


def cells(action: Action, envs: tuple[str, ...], channels: tuple[str, ...],
          relations: dict[str, frozenset[str]] | None = None) -> list[Cell]:
    relations = relations or {}
    return [Cell(action, env, user, channel, relations.get(user, frozenset()))
            for env, user, channel in itertools.product(envs, PEOPLE, channels)]


ALL = tuple(CHANNELS)
BUTTON = (DEPLOYS,)  # a card's buttons are where the card is


# -- the groups --------------------------------------------------------------------------------


def group_request(edge: Edge) -> Group:
    def act(cell: Cell) -> None:
        edge.command(f"/promote {cell.env}", user=cell.user, channel=cell.channel)

    def done(cell: Cell) -> bool:
        live = edge.store.live("myapp", cell.env)
        return live is not None and live.requested_by == cell.user

    def reset(cell: Cell) -> None:
        live = edge.store.live("myapp", cell.env)
        if live is not None:
            finish(edge, live.id)

    return Group(cells(Action.REQUEST, ("staging", "prod"), ALL), act, done, reset)


def _record_group(edge: Edge, action: Action, channels: tuple[str, ...],
                  act_on: Callable[[Cell, Promotion], None],
                  done_on: Callable[[Cell, Promotion], bool]) -> Group:
    """An action on a live prod promotion the developer requested (a fresh one after each
    allowed cell)."""
    current = [live_prod(edge)]

    def reset(cell: Cell) -> None:
        finish(edge, current[0].id)
        current[0] = live_prod(edge)

    return Group(cells(action, ("prod",), channels, {DEV: frozenset({REQUESTER})}),
                 lambda cell: act_on(cell, current[0]),
                 lambda cell: done_on(cell, edge.store.get(current[0].id) or current[0]),
                 reset)


def group_approve(edge: Edge) -> Group:
    def act(cell: Cell, record: Promotion) -> None:
        edge.click(cell.user, ids.APPROVE, card_ts(edge, record.id))

    return _record_group(edge, Action.APPROVE, BUTTON, act,
                         lambda cell, record: cell.user in record.approvers())


def _modal_act(edge: Edge, action_id: str, block: str, field_id: str,
               text: str) -> Callable[[Cell, Promotion], None]:
    def act(cell: Cell, record: Promotion) -> None:
        edge.click(cell.user, action_id, card_ts(edge, record.id))
        edge.settle()
        if cell.expected()[0]:
            view = wait_for(lambda: edge.emulator.open_views(cell.user), "the modal")[-1]
            edge.emulator.submit(cell.user, view["id"], {block: {field_id: text}})
        else:
            assert edge.emulator.open_views(cell.user) == [], f"{cell}: a modal opened"

    return act


def group_reject(edge: Edge) -> Group:
    act = _modal_act(edge, ids.REJECT, ids.REASON_BLOCK, ids.REASON_INPUT, "not today")
    return _record_group(edge, Action.REJECT, BUTTON, act,
                         lambda cell, record: record.state.value == "rejected")


def group_plan(edge: Edge) -> Group:
    act = _modal_act(edge, ids.ADD_PLAN, ids.PLAN_BLOCK, ids.PLAN_INPUT, "revert the merge")
    return _record_group(edge, Action.PLAN, BUTTON, act,
                         lambda cell, record: record.rollback_plan == "revert the merge")


def group_cancel_button(edge: Edge) -> Group:
    return _record_group(
        edge, Action.CANCEL, BUTTON,
        lambda cell, record: edge.click(cell.user, ids.CANCEL, card_ts(edge, record.id)),
        lambda cell, record: record.state.value == "cancelled")


def group_cancel_command(edge: Edge) -> Group:
    return _record_group(
        edge, Action.CANCEL, ALL,
        lambda cell, record: edge.command(f"/promote cancel {record.id}", user=cell.user,
                                          channel=cell.channel),
        lambda cell, record: record.state.value == "cancelled")


def group_retry(edge: Edge) -> Group:
    """Retry on the card of a cancelled prod promotion: authorized as a request into prod."""
    old = live_prod(edge)
    edge.core.commands.cancel(old.id, DEV)
    edge.settle()

    def act(cell: Cell) -> None:
        edge.click(cell.user, ids.RETRY, card_ts(edge, old.id))

    def done(cell: Cell) -> bool:
        live = edge.store.live("myapp", "prod")
        return live is not None and live.requested_by == cell.user and live.id != old.id

    def reset(cell: Cell) -> None:
        live = edge.store.live("myapp", "prod")
        if live is not None:
            finish(edge, live.id)

    return Group(cells(Action.RETRY, ("prod",), BUTTON), act, done, reset)


def group_hotfix_retry(edge: Edge) -> Group:
    """Retry on the card of a cancelled hotfix: authorized as promoting the hotfix."""
    edge.core.incidents.hotfix_start("myapp", "mretry", STAKE)
    old = awaiting(edge, edge.core.incidents.hotfix_promote("myapp", "mretry", STAKE))
    edge.core.commands.cancel(old.id, STAKE)
    edge.settle()
    group = group_retry_of(edge, old)
    return group


def group_retry_of(edge: Edge, old: Promotion) -> Group:
    def act(cell: Cell) -> None:
        edge.click(cell.user, ids.RETRY, card_ts(edge, old.id))

    def done(cell: Cell) -> bool:
        live = edge.store.live("myapp", "prod")
        return (live is not None and live.requested_by == cell.user
                and live.kind is Kind.HOTFIX and live.id != old.id)

    def reset(cell: Cell) -> None:
        live = edge.store.live("myapp", "prod")
        if live is not None:
            finish(edge, live.id)

    hotfix_cells = [Cell(Action.HOTFIX_PROMOTE, "prod", user, DEPLOYS) for user in PEOPLE]
    return Group(hotfix_cells, act, done, reset)


def _block_of(edge: Edge, env: str, kind: BlockKind) -> Any:
    return next((b for b in edge.store.blocks("myapp", env) if b.kind is kind), None)


def group_freeze(edge: Edge) -> Group:
    def act(cell: Cell) -> None:
        edge.command(f"/promote freeze {cell.env} matrix", user=cell.user, channel=cell.channel)

    def done(cell: Cell) -> bool:
        block = _block_of(edge, cell.env, BlockKind.FREEZE)
        return block is not None and block.by == cell.user

    def reset(cell: Cell) -> None:
        edge.core.holds.unfreeze("myapp", cell.env, cell.user)

    return Group(cells(Action.FREEZE, POLICY.env_names, ALL), act, done, reset)


def group_unfreeze(edge: Edge) -> Group:
    """Freezes placed by the stakeholder (their owner)."""
    for env in POLICY.env_names:
        edge.core.holds.freeze("myapp", env, STAKE, "matrix")

    def act(cell: Cell) -> None:
        edge.command(f"/promote unfreeze {cell.env}", user=cell.user, channel=cell.channel)

    def reset(cell: Cell) -> None:
        edge.core.holds.freeze("myapp", cell.env, STAKE, "matrix")

    return Group(cells(Action.UNFREEZE, POLICY.env_names, ALL, {STAKE: frozenset({OWNER})}),
                 act, lambda cell: _block_of(edge, cell.env, BlockKind.FREEZE) is None, reset)


def group_rollback(edge: Edge) -> Group:
    targets = {env: history(edge, env) for env in POLICY.env_names}

    def act(cell: Cell) -> None:
        edge.command(f"/rollback {cell.env} to {targets[cell.env]}", user=cell.user,
                     channel=cell.channel)

    def done(cell: Cell) -> bool:
        live = edge.store.live("myapp", cell.env)
        return live is not None and live.kind is Kind.ROLLBACK and live.requested_by == cell.user

    def reset(cell: Cell) -> None:
        live = edge.store.live("myapp", cell.env)
        if live is not None:
            finish(edge, live.id)
        targets[cell.env] = history(edge, cell.env)

    return Group(cells(Action.ROLLBACK, POLICY.env_names, ALL), act, done, reset)


def group_emergency(edge: Edge) -> Group:
    target = [history(edge, "prod")]

    def act(cell: Cell) -> None:
        edge.command(f"/rollback prod emergency to {target[0]}", user=cell.user,
                     channel=cell.channel)

    def done(cell: Cell) -> bool:
        last = next(iter(edge.store.history("myapp", "prod", 1)), None)
        return (last is not None and last.rollback is not None and last.rollback.emergency
                and last.requested_by == cell.user)

    def reset(cell: Cell) -> None:
        last = edge.store.history("myapp", "prod", 1)[0]
        finish(edge, last.id)
        target[0] = history(edge, "prod")

    return Group(cells(Action.EMERGENCY_ROLLBACK, ("prod",), ALL), act, done, reset)


def group_hotfix_start(edge: Edge) -> Group:
    numbers = itertools.count(1)
    names: dict[Cell, str] = {}

    def act(cell: Cell) -> None:
        names[cell] = f"m{next(numbers)}"
        edge.command(f"/hotfix start {names[cell]}", user=cell.user, channel=cell.channel)

    return Group(cells(Action.HOTFIX_START, ("prod",), ALL), act,
                 lambda cell: f"hotfix/{names[cell]}" in edge.forge.heads)


def group_hotfix_promote(edge: Edge) -> Group:
    edge.core.incidents.hotfix_start("myapp", "mpromote", STAKE)

    def act(cell: Cell) -> None:
        edge.command("/hotfix promote mpromote", user=cell.user, channel=cell.channel)

    def done(cell: Cell) -> bool:
        live = edge.store.live("myapp", "prod")
        return live is not None and live.kind is Kind.HOTFIX and live.requested_by == cell.user

    def reset(cell: Cell) -> None:
        live = edge.store.live("myapp", "prod")
        if live is not None:
            finish(edge, live.id)

    return Group(cells(Action.HOTFIX_PROMOTE, ("prod",), ALL), act, done, reset)


def group_unlock(edge: Edge) -> Group:
    """Holds placed by the developer's rollbacks (their owner), one per env."""
    rollbacks = {}
    for env in POLICY.env_names:
        target = history(edge, env)
        rollbacks[env] = edge.core.incidents.rollback("myapp", env, DEV, to=target)
        edge.settle()

    def act(cell: Cell) -> None:
        edge.command(f"/promote unlock {cell.env}", user=cell.user, channel=cell.channel)

    def reset(cell: Cell) -> None:
        record = edge.store.get(rollbacks[cell.env].id)
        assert record is not None
        edge.core.holds.hold(record, DEV, "matrix")

    return Group(cells(Action.UNLOCK, POLICY.env_names, ALL, {DEV: frozenset({OWNER})}),
                 act, lambda cell: _block_of(edge, cell.env, BlockKind.HOLD) is None, reset)


GROUPS: dict[str, Callable[[Edge], Group]] = {
    "request": group_request,
    "approve": group_approve,
    "reject": group_reject,
    "rollbackPlan": group_plan,
    "cancel (button)": group_cancel_button,
    "cancel (command)": group_cancel_command,
    "retry (promotion)": group_retry,
    "retry (hotfix)": group_hotfix_retry,
    "freeze": group_freeze,
    "unfreeze": group_unfreeze,
    "rollback": group_rollback,
    "emergencyRollback": group_emergency,
    "hotfixStart": group_hotfix_start,
    "hotfixPromote": group_hotfix_promote,
    "unlock": group_unlock,
}


@pytest.fixture(scope="module", autouse=True)
def totals() -> Iterator[None]:
    yield
    print(f"\naccess matrix: {TOTALS['cells']} cells, {TOTALS['refused']} refused, "
          f"{TOTALS['allowed']} allowed ({TOTALS['groups']} action groups)")


@pytest.mark.parametrize("name", list(GROUPS))
def test_default_policy_cell_by_cell(matrix_edge: Edge, name: str) -> None:
    group = GROUPS[name](matrix_edge)
    counts = run(matrix_edge, group)
    TOTALS.update(counts)
    TOTALS["groups"] += 1
    print(f"\n{name}: {counts['cells']} cells, {counts['refused']} refused, "
          f"{counts['allowed']} allowed")
    assert group.failures == []
    assert counts["allowed"] > 0 and counts["refused"] > 0  # every rule allows and refuses
