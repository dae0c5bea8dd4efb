"""The promotion engine: every rule of the workflow, as small modules over the ports.

    access      who may do what, where: the one authorization check  (every command below)
    commands    request, approve, reject, cancel, rollback plan      (people, on a record)
    holds       freeze, unfreeze, unlock, a rollback's hold           (people, on an env)
    incidents   rollbacks, hotfixes, retry                           (people, in an incident)
    steps       advance one record: pull request, gates ...
    merging       ... the merge or the revert push, the reconcile request
    verdict       ... Flux and the rollout judged
    aftercare   sync, backports and carried-down reverts after a deploy to the last env
    chain       the root of a dependsOn chain that is not Ready
    pulls       the promotebot section of each record's pull request, kept up to date
    queueing    an env's line of requests while it is busy, started in turn
    timers      reminders, escalation and expiry of a record waiting for its gates
    freezes     freezes of an app or of every app, and the pipeline file's calendar
    approving   who may approve, and who a record still waits on
    runner      when records advance: wake, watch, webhook, tick, resume (on the workers)
    records     the one way a record changes: compare-and-set, event, notice, comment
    lookup      names to pipeline values; rules: the refusals as pure functions
    writing     what the bot writes into git and GitHub
    writeback   GitHub Deployments and commit statuses of what the bot deploys

None of them takes the engine as a whole: each is built with the ports it needs. `build`
wires them for the composition root, which hands the parts to the Slack edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from slackbot.engine.access import Access
from slackbot.engine.aftercare import Aftercare
from slackbot.engine.approving import Approving
from slackbot.engine.commands import Commands, Wake
from slackbot.engine.freezes import Freezes
from slackbot.engine.holds import Holds
from slackbot.engine.incidents import Incidents
from slackbot.engine.lookup import Lookup
from slackbot.engine.merging import Merger
from slackbot.engine.pulls import Both, PullSection
from slackbot.engine.queueing import Queue
from slackbot.engine.records import Options, Records
from slackbot.engine.runner import Runner, Submit
from slackbot.engine.steps import Steps
from slackbot.engine.timers import Timers
from slackbot.engine.verdict import Verdict
from slackbot.engine.writeback import WriteBack
from slackbot.pipeline import Pipeline
from slackbot.ports import (
    CardLinks,
    Clock,
    Cluster,
    Directory,
    Forge,
    Notifier,
    Store,
    Workspace,
)
from slackbot.status import StatusReader

__all__ = ["Core", "Options", "Ports", "build"]


@dataclass(frozen=True)
class Ports:
    """The outside world the core talks to, one adapter (or fake) per port."""

    store: Store
    forge: Forge
    cluster: Cluster
    directory: Directory
    notifier: Notifier
    clock: Clock
    workspace: Workspace
    links: CardLinks | None = None  # the card's link, for what the bot writes on GitHub


@dataclass(frozen=True)
class Core:
    """The engine's parts, wired: what the composition root hands to the edges."""

    lookup: Lookup
    records: Records
    access: Access
    commands: Commands
    holds: Holds
    incidents: Incidents
    steps: Steps
    aftercare: Aftercare
    runner: Runner
    status: StatusReader
    queue: Queue
    timers: Timers
    freezes: Freezes
    approving: Approving


def build(pipeline: Pipeline, ports: Ports, submit: Submit,
          options: Options | None = None) -> Core:
    """The engine over `ports`, its work handed to `submit` (the bot's workers)."""
    options = options or Options()
    lookup = Lookup(pipeline)
    section = PullSection(lookup, ports.store, ports.forge, ports.directory, submit)
    writeback = WriteBack(lookup, ports.store, ports.forge, submit, ports.links)
    records = Records(pipeline, ports.store, ports.forge,
                      Both(ports.notifier, Both(section, writeback)),
                      ports.clock, options, ports.directory)
    aftercare = Aftercare(lookup, records, ports.store, ports.forge, ports.workspace,
                          ports.cluster)
    verdict = Verdict(lookup, records, ports.store, ports.cluster, aftercare, ports.forge)
    merger = Merger(lookup, records, ports.forge, ports.cluster, ports.workspace,
                    deployment=writeback.open)
    steps = Steps(lookup, records, ports.forge, ports.cluster, merger, verdict)
    approving = Approving(lookup, ports.directory)
    timers = Timers(lookup, records, ports.store, ports.directory, approving)
    runner = Runner(pipeline, ports.store, records, steps, aftercare, submit, timers)
    wake: Wake = runner.kick
    access = Access(ports.directory)
    holds = Holds(lookup, records, ports.store, access)
    commands = Commands(lookup, records, ports.store, ports.forge, ports.cluster, access, holds,
                        wake, approving)
    incidents = Incidents(lookup, records, ports.store, ports.forge, ports.cluster, access,
                          ports.workspace, holds, commands, wake)
    status = StatusReader(lookup, ports.store, ports.forge, ports.cluster, ports.clock,
                          submit=submit)
    queue = Queue(pipeline, lookup, records, ports.store, commands, submit)
    freezes = Freezes(lookup, records, ports.store, holds)
    return Core(lookup, records, access, commands, holds, incidents, steps, aftercare, runner,
                status, queue=queue, timers=timers, freezes=freezes, approving=approving)
