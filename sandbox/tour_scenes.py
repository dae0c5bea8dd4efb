"""Scenes of the tour that show what teams add to the workflow: a request that waits in line
for a busy env and starts by itself, a reminder to the approver who has not answered, a freeze
of every app, the delivery figures (DORA) of what the tour did. Each acts only as people, CI
and Flux's own webhook would; the bot does the rest.

The tour holds Flux's simulated clock while staging applies a promotion, so that the second
request meets a busy env however loaded the machine is, and moves the bot's clock on by two
hours to let a reminder fall due. It must not reach into the bot's state to make things happen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kubernetes import client as k8s

from sandbox.bot import ShiftedClock
from sandbox.world import person
from slackbot.events import FromQueue, Reminded

if TYPE_CHECKING:
    from sandbox.tour import Tour


class TourFailed(Exception):
    pass

FLUX_NAMESPACE = "flux-system"


def flux_receiver_webhook(tour: Tour, env: str) -> None:
    """What Flux's notification Receiver does on GitHub's push webhook: fetch the env now."""
    api = k8s.CustomObjectsApi(tour.world.cluster.api_client())
    body = {"metadata": {"annotations": {
        "reconcile.fluxcd.io/requestedAt": datetime.now(UTC).isoformat()}}}
    api.patch_namespaced_custom_object("source.toolkit.fluxcd.io", "v1", FLUX_NAMESPACE,
                                       "gitrepositories", f"myapp-{env}", body)
    api.patch_namespaced_custom_object("kustomize.toolkit.fluxcd.io", "v1", FLUX_NAMESPACE,
                                       "kustomizations", f"myapp-{env}", body)


def staging_with_a_queue(tour: Tour) -> Any:
    """Promote staging; while Flux applies it, a second request waits in line and starts by
    itself when the first is deployed. The second record, deployed."""
    say = tour.transcript.say
    say("== 2. Promote to staging; a second request waits in line, then starts by itself ==")
    tour.command("developer", "/promote staging")
    first = tour.record_in("staging", "awaiting_gates")
    tour.ci_passes(first.head_sha)
    flux = tour.world.cluster.simulator.clock
    flux.hold()  # staging's new pods start only when Flux's time moves: #1 stays deploying
    say("$ (the tour holds Flux's clock: staging's pods of #1 take their time to start)")
    try:
        tour.review(first.pr_number)
        tour.record_in("staging", "reconciling")
        sha = tour.push("developer", "dev", "apps/myapp/CHANGELOG.md",
                        "- Faster checkout\n- Faster search\n", "Faster search")
        flux_receiver_webhook(tour, "dev")
        tour.wait("dev to run the second push", lambda: tour.deployed("dev", sha))
        say(f"$ Flux: myapp-dev applied dev@{sha[:7]} (the push webhook) and is Ready")
        tour.command("developer", "/promote staging")
        tour.wait("dana's request in line", lambda: tour.bot.store.queue("myapp", "staging"))
    finally:
        flux.release()
    say("$ (Flux's clock runs again)")
    tour.finished(first.id)
    second = tour.record_in("staging", "awaiting_gates")
    if second.id == first.id or not any(isinstance(e.facts, FromQueue)
                                        for e in tour.bot.store.events(second.id)):
        raise TourFailed("the queued request did not start by itself")
    tour.ci_passes(second.head_sha)
    tour.review(second.pr_number)
    second = tour.finished(second.id)
    say(f"$ Flux: myapp-staging applied staging@{second.merge_sha[:7]} and is Ready")
    return second


def reminder_while_prod_waits(tour: Tour, record: Any) -> None:
    """Nobody approves prod for two hours: the bot reminds the approver who has not answered,
    in the card's thread and directly."""
    clock = tour.bot.clock
    if not isinstance(clock, ShiftedClock):
        raise TourFailed("the tour's bot runs on a ShiftedClock")
    tour.transcript.say(f"$ two hours pass and nobody has approved {record.name} yet (the tour "
                        f"moves the bot's clock on)")
    clock.jump(timedelta(hours=2))
    tour.wait("the reminder", lambda: any(isinstance(e.facts, Reminded)
                                          for e in tour.bot.store.events(record.id)))
    sam = person("stakeholder").slack_id
    tour.wait("sam's direct message", lambda: tour.world.slack.direct_messages(sam))


def freeze_everything(tour: Tour) -> None:
    """A freeze of every app and env, refused requests, and its lifting."""
    say = tour.transcript.say
    say("== 8. A freeze of every app for the end of the year, and its end ==")
    tour.command("oncall", "/promote freeze all end-of-year freeze")
    tour.wait("the freeze", lambda: tour.bot.store.blocks("myapp", "staging"))
    tour.command("developer", "/promote staging")
    dana = person("developer").slack_id
    tour.wait("the refusal", lambda: any("frozen with every app" in m.get("text", "")
                                         for m in tour.world.slack.ephemerals(dana)))
    tour.command("oncall", "/promote unfreeze all")
    tour.wait("the freeze lifted", lambda: not tour.bot.store.blocks("myapp", "staging"))


def delivery_stats(tour: Tour) -> None:
    """`/promote stats` after the promotions and the incident: the DORA figures per env, as
    the bot computes them from its records, printed line by line."""
    from sandbox.tour import plain

    say = tour.transcript.say
    say("== 9. The delivery figures (DORA) of what the tour did ==")
    tour.command("developer", "/promote stats")
    dana = person("developer").slack_id
    answer = tour.wait("the delivery figures", lambda: next(
        (m for m in tour.world.slack.ephemerals(dana)
         if m.get("text", "").startswith("Delivery figures")), None))
    for block in answer.get("blocks") or []:
        texts = [block["text"]["text"]] if block.get("text") else []
        texts += [e.get("text", "") for e in block.get("elements") or []]
        for text in texts:
            for line in text.splitlines():
                say(f"   {plain(line, tour.transcript.names)}")


def github_environments(tour: Tour) -> None:
    """What GitHub's Environments view shows after the tour: the newest Deployment the bot
    wrote per env, with its last status and the record in its payload."""
    say = tour.transcript.say
    say("== 10. What GitHub shows: the bot's newest Deployment per environment ==")
    state = tour.world.github.state

    def newest() -> dict[str, Any] | None:
        with state.lock:
            found: dict[str, Any] = {}
            for deployment in sorted(state.deployments.values(), key=lambda d: d.id):
                found[deployment.environment] = deployment
            final = {"success", "failure", "error"}
            done = found and all(d.statuses and d.statuses[-1].state in final
                                 for d in found.values())
            return dict(found) if done else None

    for env, deployment in sorted(tour.wait("GitHub's deployments", newest).items()):
        payload = deployment.payload if isinstance(deployment.payload, dict) else {}
        say(f"   GitHub environment {env}: {deployment.sha[:7]} "
            f"{deployment.statuses[-1].state} ({payload.get('record', '?')})")
