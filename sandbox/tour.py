"""`promotebot sandbox --tour`: the workflow played end to end in the sandbox, printed as a
readable conversation while it happens, exiting 0 when every step worked.

The tour acts only as people and CI would (git pushes, slash commands, clicks, a modal, a
review and a check on GitHub); the bot does the rest. What it prints comes from the Slack
emulator (every message, card update, thread reply and ephemeral), so it shows what a user
would see.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from github import Auth, Github

from sandbox import tour_scenes
from sandbox.gitseed import commit_and_push, run_git
from sandbox.slack.blocks import find_action
from sandbox.tour_scenes import TourFailed
from sandbox.world import DEPLOYS, INCIDENTS, PEOPLE, World, person
from slackbot.events import RevertCarried, Synced

STEP_TIMEOUT = 60.0
DEPLOY_TIMEOUT = 120.0  # a revert carried down: a push and a deploy per branch below


EMOJI = {
    "+1": "👍", "adhesive_bandage": "🩹", "alarm_clock": "⏰", "arrows_counterclockwise": "🔄",
    "calendar": "📅",
    "clipboard": "📋", "grey_question": "❔", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
    "ice_cube": "🧊", "inbox_tray": "📥", "information_source": "\u2139\ufe0f",
    "large_green_circle": "🟢",
    "leftwards_arrow_with_hook": "↩️", "lock": "🔒", "memo": "📝", "no_entry": "⛔",
    "no_entry_sign": "🚫", "octagonal_sign": "🛑", "red_circle": "🔴", "repeat": "🔁",
    "rocket": "🚀", "satellite_antenna": "📡", "sunny": "☀️", "twisted_rightwards_arrows": "🔀",
    "warning": "⚠️", "white_check_mark": "✅", "white_circle": "⚪", "x": "❌",
    "bell": "🔔", "rotating_light": "🚨", "busts_in_silhouette": "👥", "wave": "👋",
    "arrow_forward": "▶️",
}
CHANNELS = {DEPLOYS: "myapp-deploys", INCIDENTS: "myapp-incidents"}


def plain(text: str, names: dict[str, str]) -> str:
    """Slack mrkdwn as a terminal shows it: mentions as @name, links as their label."""
    text = re.sub(r"<@([A-Z0-9]+)>", lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<!subteam\^([A-Z0-9]+)(\|[^>]*)?>",
                  lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<#([A-Z0-9]+)(\|[^>]*)?>", lambda m: "#" + CHANNELS.get(m.group(1),
                                                                          m.group(1)), text)
    text = re.sub(r":([a-z0-9_+\-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    text = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")
    return text.replace("*", "").replace("`", "")


def card_summary(message: dict[str, Any], names: dict[str, str]) -> str:
    """A card in one line: its header and its state line."""
    header, state = "", ""
    for block in message.get("blocks") or []:
        if block.get("type") == "header" and not header:
            header = block["text"]["text"]
        text = (block.get("text") or {}).get("text", "")
        if not state and re.match(r"^:[a-z0-9_+\-]+: \*", text):
            state = text.splitlines()[0]
    if not header:
        return plain(message.get("text", ""), names)
    return plain(f"{header} | {state}" if state else header, names)


class Transcript:
    """Prints what the sandbox's Slack shows, as it changes, from a background thread."""

    def __init__(self, world: World, out: TextIO, interval: float = 0.2):
        self.world = world
        self.out = out
        self.interval = interval
        self.names = ({p.slack_id: p.name for p in PEOPLE} | {"U0BOT0001": "promotebot"}
                      | {g["id"]: g["handle"] for g in world.slack.state()["usergroups"]})
        self.channels = CHANNELS
        self._seen: dict[tuple[str, str], int] = {}
        self._seen_replies: set[tuple[str, str]] = set()
        self._seen_ephemeral: set[tuple[str, str]] = set()
        self._seen_direct: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="tour-transcript", daemon=True)

    def say(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def start(self) -> Transcript:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.flush()
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        with self._flushing:  # the tour's own thread flushes too, to keep the story in order
            self._flush()

    def _flush(self) -> None:
        slack = self.world.slack
        for channel, name in self.channels.items():
            for message in reversed(slack.history(channel)):
                key = (channel, message["ts"])
                versions = len(slack.message_versions(channel, message["ts"]))
                author = self.names.get(message.get("user", ""), message.get("user", "?"))
                if self._seen.get(key, 0) < versions:
                    verb = "posted" if key not in self._seen else "updated"
                    self._seen[key] = versions
                    self.say(f"[#{name}] {author} {verb}: {card_summary(message, self.names)}")
                for reply in slack.replies(channel, message["ts"])[1:]:
                    rkey = (channel, reply["ts"])
                    if rkey not in self._seen_replies:
                        self._seen_replies.add(rkey)
                        self.say(f"[#{name}]   thread: {plain(reply.get('text', ''), self.names)}")
        for person_ in PEOPLE:
            for message in slack.ephemerals(person_.slack_id):
                key = (person_.slack_id, message["ts"])
                if key in self._seen_ephemeral:
                    continue
                self._seen_ephemeral.add(key)
                author = self.names.get(message.get("user", ""), "Slackbot")
                text = plain(message.get("text", ""), self.names)
                self.say(f"[{self.channels.get(message.get('channel', ''), 'dm')}] {author} "
                         f"(only {person_.name} sees this): {text}")
            for message in slack.direct_messages(person_.slack_id):
                key = (person_.slack_id, message["ts"])
                if key not in self._seen_direct:
                    self._seen_direct.add(key)
                    self.say(f"[dm to {person_.name}] promotebot: "
                             f"{plain(message.get('text', ''), self.names)}")


class Tour:
    def __init__(self, world: World, bot: Any, out: TextIO, workdir: Path):
        self.world = world
        self.bot = bot
        self.transcript = Transcript(world, out)
        self.workdir = workdir

    # -- people and CI ---------------------------------------------------------------------

    def wait(self, what: str, check: Callable[[], Any], timeout: float = STEP_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.1)
        raise TourFailed(f"timed out waiting for {what}")

    def push(self, who: str, branch: str, path: str, content: str, message: str) -> str:
        name = person(who).name
        sha = commit_and_push(self.world.github.clone_url, branch, {path: content}, message,
                              self.workdir, author=(name, f"{name}@example.com"))
        self.transcript.say(f"$ {name} pushes \"{message}\" to {branch} ({sha[:7]})")
        return sha

    def command(self, who: str, text: str, channel: str = DEPLOYS) -> None:
        self.transcript.say(f"> {person(who).name} types: {text}")
        reply = self.world.slack.command(person(who).slack_id, channel, text)
        if reply.get("status") != 200:
            raise TourFailed(f"the bot did not take {text!r}: {reply.get('error')}")

    def click(self, who: str, record_id: int, action_id: str, label: str) -> None:
        name = self.name(record_id)
        ref = self.wait(f"the card of {name}", lambda: self.bot.card_of(record_id))
        channel, ts = ref.channel, ref.ts
        # A person clicks a button they see: the card's update that draws it may come after
        # the record's state changed.
        def shown() -> bool:
            card = self.card_now(record_id)
            return card is not None and find_action(card.get("blocks") or [],
                                                    action_id) is not None
        self.wait(f"[{label}] on {name}'s card", shown)
        self.transcript.say(f"> {person(who).name} clicks [{label}] on {name}'s card")
        reply = self.world.slack.click(person(who).slack_id, action_id, channel=channel, ts=ts)
        if reply.get("status") != 200:
            raise TourFailed(f"the click {label} failed: {reply.get('error')}")

    def name(self, record_id: int) -> str:
        """The record's own name (P-12, R-3, H-2): `#N` is only ever a pull request."""
        record = self.bot.store.get(record_id)
        return str(record.name) if record is not None else f"record {record_id}"

    def ci_passes(self, sha: str) -> None:
        self.world.github.set_check(sha, "ci", "success")
        self.transcript.say(f"$ CI: check `ci` passed on {sha[:7]}")

    def review(self, number: int) -> None:
        reviewer = person("reviewer")
        github = Github(auth=Auth.Token(reviewer.github_token), base_url=self.world.github.url,
                        seconds_between_requests=None, seconds_between_writes=None)
        github.get_repo("acme/myapp").get_pull(number).create_review(event="APPROVE")
        self.transcript.say(f"$ {reviewer.name} approves pull request #{number} on GitHub")

    # -- what the world shows --------------------------------------------------------------

    def deployed(self, env: str, sha: str) -> bool:
        status = self.bot.cluster.kustomization(self.bot.pipeline.app("myapp").env(env)
                                                .kustomization)
        return bool(status.is_ready and status.last_applied_revision == f"{env}@sha1:{sha}")

    def record_in(self, env: str, state: str) -> Any:
        def check() -> Any:
            live = self.bot.store.live("myapp", env)
            return live if live is not None and live.state.value == state else None
        return self.wait(f"a promotion into {env} to be {state}", check)

    def finished(self, record_id: int) -> Any:
        record = self.wait(f"{self.name(record_id)} to finish",
                           lambda: (r := self.bot.store.get(record_id)) and not r.live and r)
        if record.state.value != "deployed":
            raise TourFailed(f"{record.name} ended {record.state.value}: {record.failure}")
        self.card_shows(record_id, "Deployed")
        return record

    def card_shows(self, record_id: int, label: str) -> None:
        """Waits for the record's card to show its final state, and prints it before the story
        goes on (the card's update may come a moment after the record ends)."""
        def shown() -> bool:
            card = self.card_now(record_id)
            return card is not None and label in card_summary(card, self.transcript.names)
        self.wait(f"{self.name(record_id)}'s card to show {label}", shown)
        self.transcript.flush()

    def card_now(self, record_id: int) -> dict[str, Any] | None:
        """The record's card as Slack shows it now (its latest version); None before it is
        posted."""
        ref = self.bot.card_of(record_id)
        versions = self.world.slack.message_versions(ref.channel, ref.ts) if ref else []
        return versions[-1] if versions else None

    def promote(self, env: str) -> Any:
        """/promote <env> with every gate passed the way people pass them; the finished record."""
        self.command("developer", f"/promote {env}")
        record = self.record_in(env, "awaiting_gates")
        self.ci_passes(record.head_sha)
        self.review(record.pr_number)
        if env == "prod":
            self.approve_and_plan(record.id)
        return record

    def approve_and_plan(self, record_id: int) -> None:
        self.click("stakeholder", record_id, "promotion.approve", "Approve")
        self.wait("sam's approval", lambda: self.bot.store.get(record_id).approvers())
        self.click("developer", record_id, "promotion.add_plan", "Add rollback plan")
        view = self.wait("the rollback plan modal",
                         lambda: self.world.slack.open_views(person("developer").slack_id))
        self.transcript.say("> dana writes the rollback plan and submits the modal")
        self.world.slack.submit(person("developer").slack_id, view[-1]["id"], {
            "plan.text": {"plan.text_input": "Revert the merge commit on prod; Flux "
                                              "rolls back within its 5m interval."}})

    def failed(self, record_id: int) -> Any:
        record = self.wait(f"{self.name(record_id)} to finish",
                           lambda: (r := self.bot.store.get(record_id)) and not r.live and r)
        if record.state.value != "failed":
            raise TourFailed(f"{record.name} was meant to fail, and ended {record.state.value}")
        self.card_shows(record_id, "Failed")
        return record

    def incident(self, good_prod: str) -> None:
        """A change that breaks only prod, rolled back in the incident channel by on-call and its
        revert carried down; a hotfix through prod's gates, backported to staging and dev; the
        change brought back on dev when a person asks for it."""
        say = self.transcript.say
        say("== 4. A change that breaks prod: the deploy fails ==")
        overlay = "apps/myapp/overlays/prod/kustomization.yaml"
        sha = self.push_edit("developer", "dev", overlay,
                             lambda t: t.replace("  - ../../base\n",
                                                 "  - ../../base\nimages:\n  - name: "
                                                 "ghcr.io/acme/myapp\n    newTag: "
                                                 "broken-cache\n", 1),
                             "prod: use the new cache image")
        self.wait("dev to run it", lambda: self.deployed("dev", sha))
        self.finished(self.promote("staging").id)
        bad = self.failed(self.promote("prod").id)
        failure = bad.failure
        say(f"$ Flux: myapp-prod reports {failure.flux_reason}: {failure.message}" if failure
            else "$ Flux: myapp-prod failed")

        say("== 5. On-call rolls prod back in the incident channel ==")
        self.command("oncall", f"/rollback prod emergency to {good_prod[:7]} the cache image "
                               f"crashloops", channel=INCIDENTS)
        rollback = self.wait("the rollback", lambda: (r := self.bot.store.history("myapp", "prod",
                             1)[0]) and r.kind.value == "rollback" and r)
        rollback = self.finished(rollback.id)
        say(f"$ git: prod is {rollback.merge_sha[:7]}, whose parent is {bad.merge_sha[:7]} and "
            f"whose content is {good_prod[:7]}'s")
        self.wait("the revert carried down", lambda: len(
            [e for e in self.bot.store.events(rollback.id)
             if isinstance(e.facts, RevertCarried) and e.facts.sha]) == 2, DEPLOY_TIMEOUT)
        say("$ git: the same revert is on staging and dev: the cache image is on no branch, "
            "and no later sync brings it back or deletes anything")

        say("== 6. A hotfix from prod, through prod's gates, backported ==")
        self.command("oncall", "/hotfix start raise-memory", channel=INCIDENTS)
        self.wait("hotfix/raise-memory", lambda: self.bot.forge.branch_exists(
            "acme/myapp", "hotfix/raise-memory"))
        self.push_edit("oncall", "hotfix/raise-memory", overlay,
                       lambda t: t.replace("limits:\n                    memory: 256Mi",
                                           "limits:\n                    memory: 512Mi", 1),
                       "prod: raise the memory limit to 512Mi")
        self.command("oncall", "/hotfix promote raise-memory", channel=INCIDENTS)
        hotfix = self.record_in("prod", "awaiting_gates")
        self.ci_passes(hotfix.head_sha)
        self.review(hotfix.pr_number)
        self.approve_and_plan(hotfix.id)
        hotfix = self.finished(hotfix.id)
        self.wait("the backports", lambda: len([e for e in self.bot.store.events(hotfix.id)
                                                if isinstance(e.facts, Synced)
                                                and e.facts.backport]) == 2)
        say(f"$ Flux: myapp-prod applied prod@{hotfix.merge_sha[:7]}; hotfix/raise-memory is in "
            f"staging and dev")

        say(f"== 7. The change comes back only when a person asks: /rollback undo "
            f"{rollback.name} ==")
        self.command("developer", f"/rollback undo {rollback.name}")
        undo = self.wait("the undo on dev", lambda: next(
            (r for r in self.bot.store.history("myapp", "dev", 3) if r.rollback is not None
             and r.rollback.undoes == rollback.id), None))
        undo = self.finished(undo.id)
        say(f"$ git: dev is {undo.merge_sha[:7]}, the cache image back as a new commit; staging "
            f"and prod get it only through /promote")

    def push_edit(self, who: str, branch: str, path: str, edit: Callable[[str], str],
                  message: str) -> str:
        work = self.workdir / f"clone-{uuid.uuid4().hex[:8]}"
        run_git("clone", "--quiet", "--branch", branch, self.world.github.clone_url, str(work))
        text = (work / path).read_text()
        changed = edit(text)
        if changed == text:
            raise TourFailed(f"the edit of {path} changed nothing")
        return self.push(who, branch, path, changed, message)

    # -- the story -------------------------------------------------------------------------

    def run(self) -> None:
        say = self.transcript.say
        self.transcript.start()
        try:
            seed = self.world.repo.sha
            for env in ("dev", "staging", "prod"):
                self.wait(f"{env} to be deployed", functools.partial(self.deployed, env, seed))
            say(f"$ Flux: dev, staging and prod run {seed[:7]} and are Ready")
            say("== 1. A developer pushes a change to dev; Flux deploys it ==")
            sha = self.push_edit("developer", "dev", "apps/myapp/base/deployment.yaml",
                                 lambda t: t.replace("myapp:1.0.0", "myapp:1.1.0", 1),
                                 "Faster checkout")
            self.wait("dev to run the push", lambda: self.deployed("dev", sha))
            say(f"$ Flux: myapp-dev applied dev@{sha[:7]} and is Ready")

            tour_scenes.staging_with_a_queue(self)

            say("== 3. Promote to prod: a review, a reminder, a stakeholder's approval, a "
                "rollback plan ==")
            self.command("developer", "/promote prod")
            prod = self.record_in("prod", "awaiting_gates")
            self.ci_passes(prod.head_sha)
            self.review(prod.pr_number)
            tour_scenes.reminder_while_prod_waits(self, prod)
            self.click("stakeholder", prod.id, "promotion.approve", "Approve")
            self.wait("sam's approval", lambda: self.bot.store.get(prod.id).approvers())
            self.click("developer", prod.id, "promotion.add_plan", "Add rollback plan")
            view = self.wait("the rollback plan modal",
                             lambda: self.world.slack.open_views(person("developer").slack_id))
            say("> dana writes the rollback plan and submits the modal")
            self.world.slack.submit(person("developer").slack_id, view[-1]["id"], {
                "plan.text": {"plan.text_input": "Revert the merge commit on prod; Flux "
                                                  "rolls back within its 5m interval."}})
            prod = self.finished(prod.id)
            say(f"$ Flux: myapp-prod applied prod@{prod.merge_sha[:7]} and is Ready")
            self.wait("the branches to be synced", lambda: len(
                [e for e in self.bot.store.events(prod.id) if isinstance(e.facts, Synced)]) == 2)
            self.incident(prod.merge_sha)
            tour_scenes.freeze_everything(self)
            tour_scenes.delivery_stats(self)
            tour_scenes.github_environments(self)
            time.sleep(0.5)
        finally:
            self.transcript.stop()
        say("== Tour finished: dev -> staging -> prod, a queue, a reminder, a rollback in an "
            "incident carried down, a hotfix, the change brought back, a freeze of everything, the "
            "delivery figures, GitHub's environments ==")


def run_tour(out: TextIO, time_scale: float = 60.0) -> int:
    """Start the sandbox with the bot, play the tour, stop everything; the exit code."""
    import tempfile

    from sandbox.bot import ShiftedClock, start_bot_for

    with tempfile.TemporaryDirectory(prefix="promotebot-tour-") as tmp, \
            World(time_scale=time_scale, pod_start_delay=3.0) as world:
        bot = start_bot_for(world, poll_seconds=1.0, clock=ShiftedClock())
        world.slack.bot_request_url = bot.slack_request_url
        try:
            Tour(world, bot, out, Path(tmp)).run()
        except TourFailed as failure:
            out.write(f"tour failed: {failure}\n")
            return 1
        finally:
            bot.stop()
    return 0
