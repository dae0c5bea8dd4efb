"""No message shows the bot's internal keys: every event kind (its timeline line and its thread
reply), every gate note and every state, rendered by the real builders, read as words; never
`check:ci:`, `rollback-plan:`, a snake_case state or a raw 40-character sha."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from handlers import blocks
from handlers.messages import timeline
from handlers.messages.card import footer, gate_line, gates_summary
from slackbot import events as ev
from slackbot.config import load_pipeline
from slackbot.events import FACTS, Event, EventKind
from slackbot.models import GateNote, GateResult, GateStatus, Kind, Promotion, State
from slackbot.outside import Outside, Trouble
from slackbot.progress import Pods, Progress, Stage
from slackbot.reasons import Code, Next, Reason

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SHA, OTHER = "a" * 40, "b" * 40
USER = "U0DEV0001"

EMOJI = re.compile(r":[a-z0-9_+\-]+:")
DATE = re.compile(r"<!date\^[^>]*>")
LINK = re.compile(r"<https?://[^>]*>")
# a gate's key with its colon (`check:ci:`, `rollback-plan:`), a word:word key, snake_case,
# or a full sha
INTERNAL = re.compile(r"\bcheck:|rollback-plan|\b[a-z]+:[a-z]|\b[a-z]+_[a-z_]+\b"
                      r"|\b[0-9a-f]{40}\b")


def internal_keys(text: str) -> list[str]:
    """What in a rendered text looks like a key, emoji codes, dates and links left aside."""
    return INTERNAL.findall(LINK.sub("", DATE.sub("", EMOJI.sub("", text))))


def gate_samples() -> tuple[GateResult, ...]:
    """One gate result per note, named as slackbot/gates.py names them."""
    names = {"source": "source", "check": "check:ci", "reviews": "reviews",
             "changes": "reviews", "approvals": "stakeholders", "plan": "rollback-plan",
             "window": "window"}
    results = []
    for note in GateNote:
        name = next(n for prefix, n in names.items() if note.value.startswith(prefix))
        results.append(GateResult(name, GateStatus.PENDING, SHA, note, have=0, need=1,
                                  who=(USER,), env="dev", check="ci", message="applying",
                                  opens=AT, root="dev" if note is GateNote.SOURCE_NOT_READY
                                  else None, flux_reason="HealthCheckFailed"))
    return tuple(results)


FAILED = Reason(Code.ROLLOUT_FAILED, Next.ROLLBACK, env="staging", record=7,
                deployment="myapp", message="progress deadline exceeded")
PROGRESS = Progress(Stage.ROLLOUT, revision=f"staging@sha1:{SHA}", kustomization="myapp-staging",
                    pods=(Pods("myapp", 1, 2),))
SAMPLES: dict[EventKind, ev.Facts] = {f.KIND: f for f in (
    ev.Requested(sha=SHA),
    ev.PullOpened(5, "https://github.test/acme/myapp/pull/5"),
    ev.AwaitingGates(gate_samples()),
    ev.GatesChanged(gate_samples()),
    ev.Approved(SHA),
    ev.PlanWritten("revert the merge"),
    ev.HeadMoved(SHA, OTHER, (USER,)),
    ev.MergeScheduled(AT),
    ev.GatesPassed(),
    ev.Merging(SHA),
    ev.Merged(SHA),
    ev.Reverting(SHA),
    ev.Reverted(SHA),
    ev.Progressed(PROGRESS),
    ev.Deployed(f"staging@sha1:{SHA}", (Pods("myapp", 2, 2),)),
    ev.Failed(FAILED),
    ev.Rejected("not now"),
    ev.Cancelled(),
    ev.Expired(timedelta(hours=24)),
    ev.HoldPlaced("bad release"),
    ev.HoldKept(USER, 3),
    ev.Synced("dev", "staging", SHA, brought=("fix the login",)),
    ev.SyncConflict("dev", "staging", 9, "https://github.test/acme/myapp/pull/9"),
    ev.SyncFailed("dev", "staging"),
    ev.Frozen("release week"),
    ev.Unfrozen(),
    ev.Unlocked(),
    ev.HotfixStarted("hotfix/login", SHA, "prod"),
    ev.OutsideTrouble(Outside("github", Trouble.ERRORS, AT, status=502)),
    ev.OutsideRecovered("github", AT),
    ev.Recovered(f"staging@sha1:{SHA}", "rollout_failed", AT),
    ev.RevertCarried("dev", SHA, ("apps/myapp/base/deployment.yaml",), ("fix the login",)),
    ev.CarryConflict("dev", 9, "https://github.test/acme/myapp/pull/9"),
    ev.Reminded(timedelta(hours=2), (USER,)),
    ev.Escalated(timedelta(hours=4), "S0SRE", (USER,)),
    ev.Queued(USER, 2),
    ev.LeftQueue(USER),
    ev.FromQueue(AT, 6),
    ev.QueueRefused(USER, Reason(Code.FROZEN, Next.UNFREEZE, env="staging",
                                 who=USER, since=AT, text="release week")),
)}


def record(state: State = State.AWAITING_GATES) -> Promotion:
    return Promotion(id=7, kind=Kind.PROMOTION, app="myapp", env="staging", source_branch="dev",
                     target_branch="staging", requested_by=USER, requested_at=AT, state=state,
                     source_env="dev", head_sha=SHA, pr_number=5,
                     pr_url="https://github.test/acme/myapp/pull/5", updated_at=AT,
                     gates=gate_samples(), merge_sha=OTHER)


def test_every_event_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(FACTS)


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_an_event_reads_as_words_on_the_card_and_in_the_thread(kind: EventKind) -> None:
    event = Event(7, "myapp", "staging", USER, AT, SAMPLES[kind])
    for said in (timeline.timeline_line(event, record()), timeline.thread_detail(event, record())):
        assert not internal_keys(said or ""), said


@pytest.mark.parametrize("note", list(GateNote), ids=str)
def test_a_gate_reads_as_words(note: GateNote) -> None:
    gate = next(g for g in gate_samples() if g.note is note)
    assert not internal_keys(gate_line(gate)), gate_line(gate)
    assert not internal_keys(gates_summary((gate,))), gates_summary((gate,))


def test_the_gates_reply_names_no_gate_key() -> None:
    said = timeline.thread_detail(Event(7, "myapp", "staging", USER, AT,
                                        ev.AwaitingGates(gate_samples())), record())
    assert said is not None and "check:ci" not in said and "rollback-plan" not in said
    assert "waiting for ci" in said and "rollback plan needed" in said  # in words


@pytest.mark.parametrize("state", list(State), ids=str)
def test_the_whole_card_in_each_state_shows_no_key(state: State) -> None:
    gates = load_pipeline(None).app("myapp").env("staging").gates
    events = [Event(7, "myapp", "staging", USER, AT, facts) for facts in SAMPLES.values()]
    card = blocks.card(record(state), events, gates)
    shown = "\n".join(str(b.get("text", {}).get("text", "")) + " ".join(
        f.get("text", "") for f in b.get("fields", ()))
        + " ".join(e.get("text", "") for e in b.get("elements", ()) if isinstance(e, dict)
                   and isinstance(e.get("text"), str))
        for b in card["blocks"])
    assert not internal_keys(shown), internal_keys(shown)
    assert state.value not in footer(record(state)) or "_" not in state.value
