"""Prometheus metrics: promotions by result, step durations, gate waits, rollbacks, calls to
outside services and Slack ack latency, in a registry of their own (one per Bot, never the
process-global one, so two bots in one process, or two tests, never collide).

The promotion series are fed from the engine's notifications (`MetricsNotifier`, a Notifier
decorator), the outside calls by `CountingProxy` around the adapters. Nothing here changes
what it observes, and an error in counting is logged, never raised into the caller.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from slackbot.dora import Figures
from slackbot.errors import DomainError, StoreError
from slackbot.events import Event, EventKind
from slackbot.models import Kind, Promotion, State
from slackbot.ports import Notifier

log = logging.getLogger(__name__)

# From seconds (a pull request opened) to a day (a prod merge waiting for its window).
STEP_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)  # Slack allows 3 s
# Outcomes of calls that are answers, not failures of the service: a business refusal, or a
# compare-and-set that lost a race.
NOT_ERRORS: tuple[type[BaseException], ...] = (DomainError, StoreError)


class Metrics:
    """Every series promotebot exports, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.promotions = Counter(
            "promotebot_promotions", "Records that reached a final state, by final state",
            ["app", "env", "kind", "result"], registry=r)
        self.step_seconds = Histogram(
            "promotebot_step_duration_seconds",
            "Time a record spent in a state before leaving it (requested: until the pull "
            "request is open; awaiting_gates: until merging; merging; reconciling: until the "
            "final state)", ["kind", "step"], buckets=STEP_BUCKETS, registry=r)
        self.gate_wait_seconds = Histogram(
            "promotebot_gate_wait_seconds",
            "From awaiting_gates to every gate green (the merge starts)", ["app", "env"],
            buckets=STEP_BUCKETS, registry=r)
        self.rollbacks = Counter(
            "promotebot_rollbacks", "Rollback records created", ["app", "env"], registry=r)
        self.external_calls = Counter(
            "promotebot_external_calls", "Calls to outside services (adapter methods; Slack "
            "Web API methods)", ["service", "operation"], registry=r)
        self.external_errors = Counter(
            "promotebot_external_errors", "Calls to outside services that failed",
            ["service", "operation"], registry=r)
        self.slack_ack_seconds = Histogram(
            "promotebot_slack_ack_seconds", "Time to answer POST /slack/events (the ack)",
            buckets=ACK_BUCKETS, registry=r)
        self.github_webhooks = Counter(
            "promotebot_github_webhooks", "GitHub webhook deliveries by event and outcome "
            "(accepted, repeated, ignored, unauthorized, invalid)", ["event", "outcome"],
            registry=r)
        self.github_requests = Counter(
            "promotebot_github_requests", "GitHub REST reads and writes by outcome: sent (GitHub "
            "counts it), not_modified (a conditional read answered 304: free), trusted (a "
            "recent answer used without asking)", ["outcome"], registry=r)
        self.github_rate_remaining = Gauge(
            "promotebot_github_rate_limit_remaining", "Requests left in GitHub's hourly budget, "
            "as its last answer said (-1: not known yet)", registry=r)
        self.github_rate_limit = Gauge(
            "promotebot_github_rate_limit", "GitHub's hourly budget (-1: not known yet)",
            registry=r)
        self.github_rate_reset = Gauge(
            "promotebot_github_rate_limit_reset_timestamp_seconds", "When GitHub refills the "
            "budget (Unix time; 0: not known yet)", registry=r)
        for outcome in ("sent", "not_modified", "trusted"):
            self.github_requests.labels(outcome)

    def watch_github(self, standing: Callable[[], tuple[int | None, int | None,
                                                       datetime | None]]) -> None:
        """Read GitHub's budget at every scrape from `standing` (remaining, limit, reset)."""
        def part(index: int, unknown: float) -> Callable[[], float]:
            def read() -> float:
                try:
                    value = standing()[index]
                except Exception:
                    log.exception("could not read GitHub's rate budget")
                    return unknown
                if value is None:
                    return unknown
                return value.timestamp() if isinstance(value, datetime) else float(value)
            return read

        self.github_rate_remaining.set_function(part(0, -1.0))
        self.github_rate_limit.set_function(part(1, -1.0))
        self.github_rate_reset.set_function(part(2, 0.0))

    def watch_delivery(self, figures: Callable[[], Iterable[Figures]]) -> None:
        """Export the DORA figures, read at every scrape from `figures` (kept between
        scrapes by slackbot/delivery.py, so a scrape is not a read of every record)."""
        self.registry.register(DeliveryCollector(figures))

    def prime(self, envs: Iterable[tuple[str, str]]) -> None:
        """Export 0 rollbacks for every (app, env) known up front, so an alert or a rate()
        sees the series before the first rollback."""
        for app, env in envs:
            self.rollbacks.labels(app, env)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type, for GET /metrics."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def count_call(self, service: str, operation: str, failed: bool) -> None:
        self.external_calls.labels(service, operation).inc()
        errors = self.external_errors.labels(service, operation)  # exported from 0 on
        if failed:
            errors.inc()


class DeliveryCollector(Collector):
    """The DORA figures as gauges labelled app, env and window ("7d"); a figure with
    nothing to measure (no change, no known lead time, no restore) has no sample."""

    def __init__(self, figures: Callable[[], Iterable[Figures]]):
        self._figures = figures

    def describe(self) -> Iterable[Metric]:
        return []  # read at scrape time only: registering must not read the store

    def collect(self) -> Iterable[Metric]:
        labels = ["app", "env", "window"]
        family = {name: GaugeMetricFamily(f"promotebot_dora_{name}", what, labels=labels)
                  for name, what in DELIVERY_SERIES}
        try:
            rows = list(self._figures())
        except Exception:
            log.exception("could not read the delivery figures")
            rows = []
        for f in rows:
            key = [f.app, f.env, f"{f.days}d"]
            values: dict[str, float | None] = {
                "deploys": f.deploys, "deploys_per_day": f.per_day, "changes": f.changes,
                "failed_changes": f.failed_changes, "change_failure_ratio": f.failure_rate,
                "lead_time_seconds": _seconds(f.lead_time),
                "time_to_restore_seconds": _seconds(f.restore_time),
                "unrestored_failures": f.unrestored}
            for name, value in values.items():
                if value is not None:
                    family[name].add_metric(key, float(value))
        return list(family.values())


DELIVERY_SERIES = (
    ("deploys", "Promotions and hotfixes deployed in the window"),
    ("deploys_per_day", "Deployment frequency: deploys in the window per day"),
    ("changes", "Changes that reached the env in the window (deployed, or failed after "
     "their merge)"),
    ("failed_changes", "Changes that failed after their merge, or were followed by a "
     "rollback or hotfix of the env within the failure window"),
    ("change_failure_ratio", "Change failure rate: failed changes over changes"),
    ("lead_time_seconds", "Lead time for changes: median from the oldest commit to "
     "deployed"),
    ("time_to_restore_seconds", "Time to restore: median from a failure to the env's next "
     "healthy deploy"),
    ("unrestored_failures", "Failures in the window with no healthy deploy since"),
)


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


class CountingProxy:
    """Stands in for an adapter: every public method call is counted for `service`, and
    counted as an error when it raises anything but a business answer (NOT_ERRORS)."""

    def __init__(self, target: Any, service: str, metrics: Metrics):
        self._target = target
        self._service = service
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return counted(attr, self._metrics, self._service, name)


def counted(fn: Callable[..., Any], metrics: Metrics, service: str, operation: str
            | Callable[..., str]) -> Callable[..., Any]:
    """`fn`, counted as a call to `service` (`operation`: a name, or a function of the call's
    arguments giving one, e.g. the Slack Web API method)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        failed = False
        try:
            return fn(*args, **kwargs)
        except NOT_ERRORS:
            raise
        except BaseException:
            failed = True
            raise
        finally:
            try:
                name = operation(*args, **kwargs) if callable(operation) else operation
                metrics.count_call(service, name, failed)
            except Exception:
                log.exception("could not count a call to %s", service)

    return call


class MetricsNotifier:
    """A Notifier decorator: observes each record's states from its events, then tells the
    inner notifier. The inner notifier's own errors reach the engine unchanged (the engine
    logs them and keeps the record's step); the metrics' never do."""

    def __init__(self, inner: Notifier, metrics: Metrics, remember: int = 10_000):
        self._inner = inner
        self._m = metrics
        self._lock = threading.Lock()
        self._entered: dict[int, tuple[State, datetime]] = {}  # live records: state, since
        self._done: OrderedDict[int, None] = OrderedDict()  # counted final, newest last
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._remember = remember

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # e.g. SlackNotifier.home

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        try:
            self.observe(promotion, event)
        except Exception:
            log.exception("promotion %s: metrics could not observe %s", promotion.id, event.kind)
        self._inner.promotion_changed(promotion, event)

    def observe(self, p: Promotion, event: Event) -> None:
        with self._lock:
            if p.id in self._done:
                return
            if p.id not in self._seen:
                _remember(self._seen, p.id, self._remember)
                first = event.kind is EventKind.REQUESTED or p.version <= 1
                if p.kind is Kind.ROLLBACK and first:
                    self._m.rollbacks.labels(p.app, p.env).inc()
            entered = self._entered.get(p.id)
            if entered is None:
                since = p.requested_at if p.state is State.REQUESTED else event.at
                self._entered[p.id] = (p.state, since)
            elif entered[0] is not p.state:
                state, since = entered
                seconds = max((event.at - since).total_seconds(), 0.0)
                self._m.step_seconds.labels(p.kind.value, state.value).observe(seconds)
                if state is State.AWAITING_GATES and p.state is State.MERGING:
                    self._m.gate_wait_seconds.labels(p.app, p.env).observe(seconds)
                self._entered[p.id] = (p.state, event.at)
            if not p.live:
                self._entered.pop(p.id, None)
                _remember(self._done, p.id, self._remember)
                self._m.promotions.labels(p.app, p.env, p.kind.value, p.state.value).inc()


def _remember(seen: OrderedDict[int, None], key: int, limit: int) -> None:
    seen[key] = None
    while len(seen) > limit:
        seen.popitem(last=False)
