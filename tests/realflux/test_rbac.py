"""The bot's Kubernetes adapter on the real API server with exactly the chart's RBAC: the
ServiceAccount, ClusterRole, Roles and bindings real Helm renders, applied for real, and a real
service-account token. Everything the adapter does is allowed, nothing else is, and each verb
it uses, once removed from the rendered role, makes its call fail with 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import kubernetes.client
import pytest

from slackbot.adapters.flux import KubeCluster
from slackbot.adapters.flux_watch import KustomizationWatch
from slackbot.errors import ClusterError
from slackbot.pipeline import FluxRef
from slackbot.ports import KustomizationStatus
from tests.realflux import rbac
from tests.realflux.harness import ENVS, Harness
from tests.waiting import wait_for

KS_REF = FluxRef("myapp-dev", "flux-system")
SOURCE_REF = FluxRef("myapp-dev", "flux-system")


# The first test to use the harness also waits for its start-up (about 40 s idle, minutes on a
# loaded machine): a wider bound than the suite's 300 s, never an assertion on time.
pytestmark = pytest.mark.timeout(900)

@dataclass
class Bot:
    """The adapter as the bot builds it, authenticated with the bot's own token."""

    api: kubernetes.client.ApiClient
    cluster: KubeCluster


def bot_with(realflux: Harness, docs: list[rbac.Doc]) -> Bot:
    assert realflux.plane is not None
    admin = realflux.admin()
    rbac.apply(admin, docs)
    api = realflux.plane.client(rbac.mint_token(admin, docs))
    return Bot(api, KubeCluster(api))


@pytest.fixture(scope="module")
def bot(realflux: Harness) -> Bot:
    """The bot with exactly the chart's default RBAC, in effect."""
    docs = rbac.chart_identity()
    found = bot_with(realflux, docs)
    rbac.wait_effective(found.api, docs)
    return found


@contextmanager
def watch_statuses(api: kubernetes.client.ApiClient) -> Iterator[list[KustomizationStatus]]:
    """The bot's shared Kustomization watch, running; yields what it delivered so far."""
    seen: list[KustomizationStatus] = []
    watch = KustomizationWatch(api, seen.append, timeout_seconds=5).start()
    try:
        yield seen
    finally:
        watch.stop()


def test_the_bot_is_the_charts_service_account(bot: Bot) -> None:
    review = kubernetes.client.AuthenticationV1Api(bot.api).create_self_subject_review({})
    assert review.status.user_info.username == "system:serviceaccount:promotebot:promotebot"


def test_the_adapter_does_everything_it_needs_with_the_chart_rbac(realflux: Harness,
                                                                  bot: Bot) -> None:
    assert bot.cluster.ping()
    status = bot.cluster.kustomization(KS_REF)
    assert status.ready == "True"
    head = realflux.head("dev")
    assert bot.cluster.source_revision(SOURCE_REF) == f"dev@sha1:{head}"
    for env in ENVS:
        assert bot.cluster.rollout(env, "myapp").complete
    bot.cluster.request_reconcile(KS_REF, SOURCE_REF, "rbac-test-token")
    annotations = realflux.kustomization("dev")["metadata"]["annotations"]
    assert annotations["reconcile.fluxcd.io/requestedAt"] == "rbac-test-token"
    assert realflux.git_repository("dev")["metadata"]["annotations"][
        "reconcile.fluxcd.io/requestedAt"] == "rbac-test-token"
    with watch_statuses(bot.api) as seen:
        wait_for(lambda: {s.ref.name for s in seen} >= {f"myapp-{e}" for e in ENVS},
                 "the bot's watch to list every Kustomization")
        realflux.wait_until(lambda: realflux.kustomization("dev")["status"].get(
            "lastHandledReconcileAt") == "rbac-test-token", "dev to handle the bot's request")
        wait_for(lambda: any(s.last_handled_reconcile_at == "rbac-test-token" for s in seen),
                 "the bot's watch to stream the handled request")


# What the authorizer answers the bot beyond the chart's rules: nothing but the requests every
# authenticated user may make (system:basic-user: reviews of its own access and identity).
EVERY_USER = {
    ("create", "authorization.k8s.io", "selfsubjectaccessreviews"),
    ("create", "authorization.k8s.io", "selfsubjectrulesreviews"),
    ("create", "authentication.k8s.io", "selfsubjectreviews"),
}


def rules_in(api: kubernetes.client.ApiClient, namespace: str) -> set[tuple[str, str, str]]:
    review = kubernetes.client.AuthorizationV1Api(api).create_self_subject_rules_review(
        {"spec": {"namespace": namespace}})
    assert not review.status.incomplete, review.status.evaluation_error
    return {(verb, group, resource) for rule in review.status.resource_rules
            for verb in rule.verbs for group in rule.api_groups or [""]
            for resource in rule.resources}


@pytest.mark.parametrize("namespace", ["flux-system", "dev", "staging", "prod", "default"])
def test_the_bot_may_do_exactly_what_the_chart_grants(bot: Bot, namespace: str) -> None:
    docs = rbac.chart_identity()
    expected = {(verb, group, resource) for verb, group, resource, ns in rbac.grants(docs)
                if ns in (None, namespace)}
    assert rules_in(bot.api, namespace) == expected | EVERY_USER


@pytest.mark.parametrize(("verb", "group", "resource", "namespace"), [
    ("delete", "kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system"),
    ("update", "kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system"),
    ("create", "source.toolkit.fluxcd.io", "gitrepositories", "flux-system"),
    ("patch", "apps", "deployments", "dev"),
    ("get", "apps", "deployments", "flux-system"),
    ("get", "", "secrets", "dev"),
    ("list", "", "namespaces", None),
])
def test_the_bot_is_refused_what_the_chart_does_not_grant(bot: Bot, verb: str, group: str,
                                                          resource: str,
                                                          namespace: str | None) -> None:
    assert not rbac.can(bot.api, verb, group, resource, namespace)


# -- one verb less: the adapter's call that needs it is refused ------------------------------

Call = Callable[[Bot, pytest.LogCaptureFixture], str]


def call_get_kustomization(bot: Bot, caplog: pytest.LogCaptureFixture) -> str:
    bot.cluster.kustomization(KS_REF)
    return ""


def call_get_source(bot: Bot, caplog: pytest.LogCaptureFixture) -> str:
    bot.cluster.source_revision(SOURCE_REF)
    return ""


def call_request_reconcile(bot: Bot, caplog: pytest.LogCaptureFixture) -> str:
    bot.cluster.request_reconcile(KS_REF, SOURCE_REF, "refused")
    return ""


def call_rollout(bot: Bot, caplog: pytest.LogCaptureFixture) -> str:
    bot.cluster.rollout("dev", "myapp")
    return ""


def call_watch(bot: Bot, caplog: pytest.LogCaptureFixture) -> str:
    """The shared watch logs the refusal and retries (it must not die): read its log line."""
    caplog.set_level(logging.WARNING, logger="slackbot.adapters.flux_watch")
    with watch_statuses(bot.api):
        line: str = wait_for(lambda: next((r.getMessage() for r in caplog.records
                                           if "403" in r.getMessage()), ""),
                             "the watch to be refused")
    return line


@pytest.mark.parametrize(("resource", "verb", "call"), [
    ("kustomizations", "get", call_get_kustomization),
    ("kustomizations", "patch", call_request_reconcile),
    ("kustomizations", "list", call_watch),
    ("kustomizations", "watch", call_watch),
    ("gitrepositories", "get", call_get_source),
    ("gitrepositories", "patch", call_request_reconcile),
    ("deployments", "get", call_rollout),
])
def test_a_verb_missing_from_the_chart_fails_the_adapter_with_403(
        realflux: Harness, resource: str, verb: str, call: Call,
        caplog: pytest.LogCaptureFixture) -> None:
    name = f"pb-no-{verb}-{resource[:8]}"
    docs = rbac.without_verb(rbac.chart_identity(name), resource, verb)
    less = bot_with(realflux, docs)
    rbac.wait_effective(less.api, docs)  # every other grant is in force
    if call is call_watch:
        assert "403" in call(less, caplog)
        return
    with pytest.raises(ClusterError, match="403") as refused:
        call(less, caplog)
    assert "Forbidden" in str(refused.value)
