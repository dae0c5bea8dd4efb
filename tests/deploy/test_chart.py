"""The Helm chart, linted and rendered by real Helm (helm-python-sdk) and every manifest checked
against the Kubernetes 1.30 schemas (kubernetes-validate): defaults, a values file with every
option, the exact RBAC, several replicas spread over nodes, checksums that roll the pod, and an
environment the bot's own settings loader accepts."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from slackbot.config import load_pipeline, parse_pipeline
from slackbot.settings import GitHubApp, GitHubToken, load_settings
from tests.deploy.chart import (
    CHART,
    KUBE_VERSION,
    NAMESPACE,
    Doc,
    chart_without_schema,
    documents,
    kube_problems,
    kubelet_environment,
    one,
    pod_annotations,
    render,
)

FLUX_RULES = {
    ("kustomize.toolkit.fluxcd.io", "kustomizations"): {"get", "list", "watch", "patch"},
    ("source.toolkit.fluxcd.io", "gitrepositories"): {"get", "list", "watch", "patch"},
}
WORKLOAD_RULES = {
    ("apps", "deployments"): {"get", "list", "watch"},
    ("", "pods"): {"get", "list", "watch"},
}
MANAGED_SECRETS = {
    "slackBotToken": "xoxb-111-222-chartsecret",
    "slackSigningSecret": "chart-signing-secret",
    "githubToken": "ghp_chartgithubtoken",
    "githubWebhookSecret": "chart-webhook-secret",
    "redisUrl": "redis://:hunter2@redis-master.redis.svc:6379/0",
}


def lint_findings(values: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Warnings and errors of `helm lint --strict` (infos such as 'icon is recommended' aside)."""
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
    return [m for m in report["messages"] if m["severity"] >= 2] + [
        {"error": e} for e in report["errors"]
    ]


def rules_of(role: Doc) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, rule  # no resourceNames, urls
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                found.setdefault((group, resource), set()).update(rule["verbs"])
    return found


# -- lint and schemas ----------------------------------------------------------------------


def test_lint_passes_with_default_values() -> None:
    assert lint_findings(None) == []


def test_lint_passes_with_every_option(full_values: dict[str, Any]) -> None:
    assert lint_findings(full_values) == []


def test_lint_reports_a_values_type_error() -> None:
    findings = lint_findings({"service": {"port": "eighty"}})
    assert any("/service/port" in f["error"] for f in findings), findings


@pytest.mark.parametrize(
    "scenario",
    ["defaults", "every option", "chart-managed secrets", "minimal features"],
)
def test_every_manifest_is_valid_kubernetes_when_rendered(
    scenario: str, full_values: dict[str, Any]
) -> None:
    values: dict[str, Any] | None = {
        "defaults": None,
        "every option": full_values,
        "chart-managed secrets": {
            "secrets": MANAGED_SECRETS,
            "github": {"webhook": {"enabled": True}},
        },
        "minimal features": {
            "serviceAccount": {"create": False, "name": "existing-sa", "automount": True},
            "rbac": {"create": False},
            "podDisruptionBudget": {"enabled": False},
            "pipeline": "",
            "ingress": {"enabled": True},
            "redis": {"url": "redis://redis:6379/0"},
        },
    }[scenario]
    docs = documents(render(values))
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap"}
    assert kube_problems(docs) == []


def test_kube_validation_rejects_an_unknown_field() -> None:
    docs = documents(render())
    deployment = one(docs, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    assert kube_problems([deployment])


def test_every_option_renders_every_template(full_values: dict[str, Any]) -> None:
    rendered = render(full_values)
    empty = [path for path, text in rendered.items() if not text.strip()]
    # Every template produced something (NOTES.txt included) but the Secret: existingSecret.
    assert empty == ["promotebot/templates/secret.yaml"]
    assert len(rendered) == len(list((CHART / "templates").glob("*.yaml"))) + 1


def test_unknown_value_is_refused_by_the_schema() -> None:
    with pytest.raises(helm.HelmValuesError, match="replicas"):
        render({"replicas": 3})


# -- replicas -----------------------------------------------------------------------------


def test_several_replicas_spread_over_nodes_with_a_disruption_budget() -> None:
    docs = documents(render({"replicaCount": 3}))
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    preferred = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"]
    term = preferred[0]["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    budget = one(docs, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]
    assert kube_problems(docs) == []


def test_hard_anti_affinity_requires_one_replica_per_node() -> None:
    deployment = one(documents(render({"replicaCount": 2, "podAntiAffinity": "hard"})),
                     "Deployment")
    required = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["topologyKey"] == "kubernetes.io/hostname"


def test_one_replica_or_an_own_affinity_gets_no_anti_affinity_of_ours() -> None:
    single = one(documents(render({"replicaCount": 1})), "Deployment")
    assert "affinity" not in single["spec"]["template"]["spec"]
    own = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "pool", "operator": "In", "values": ["ops"]}]}]}}}
    chosen = one(documents(render({"replicaCount": 3, "affinity": own})), "Deployment")
    assert chosen["spec"]["template"]["spec"]["affinity"] == own


def test_replicas_say_why_they_are_safe_in_values() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "maximum" not in schema["properties"]["replicaCount"]
    values_text = (CHART / "values.yaml").read_text()
    assert "leader lease" in values_text.split("replicaCount:")[0]


def test_rollout_starts_the_new_pod_before_stopping_an_old_one() -> None:
    deployment = one(documents(render()), "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def test_sentinels_reach_the_bot_with_the_primary_password(tmp_path: Path) -> None:
    secrets = {k: v for k, v in MANAGED_SECRETS.items() if k != "redisUrl"}
    values = {"secrets": {**secrets, "redisPassword": "primary-pass"},
              "redis": {"sentinels": ["redis-node-0.redis:26379", "redis-node-1.redis:26379"],
                        "sentinelService": "promotebot"}}
    settings = load_settings(kubelet_environment(documents(render(values)), tmp_path))
    assert settings.redis_url is None
    assert settings.redis_sentinels == (("redis-node-0.redis", 26379),
                                        ("redis-node-1.redis", 26379))
    assert settings.redis_sentinel_service == "promotebot"
    assert settings.redis_password is not None
    assert settings.redis_password.reveal() == "primary-pass"
    assert settings.redis_persistence == "required"


def test_a_url_and_sentinels_together_are_refused(tmp_path: Path) -> None:
    chart = chart_without_schema(tmp_path)
    with pytest.raises(helm.HelmRenderError, match="not both"):
        render({"redis": {"url": "redis://r:6379/0", "sentinels": ["s:26379"]}}, chart=chart)


# -- RBAC ---------------------------------------------------------------------------------


@pytest.mark.parametrize("namespaces", [None, ["team-a-dev", "team-a-prod"]])
def test_rbac_grants_exactly_the_listed_rules(namespaces: list[str] | None) -> None:
    values = None if namespaces is None else {"appNamespaces": namespaces}
    docs = documents(render(values))
    rbac = [d for d in docs if d["apiVersion"].startswith("rbac.authorization.k8s.io/")]
    kinds = sorted(d["kind"] for d in rbac)
    expected_namespaces = namespaces or ["dev", "staging", "prod"]
    n = len(expected_namespaces)
    assert kinds == sorted(["ClusterRole", "ClusterRoleBinding"] + ["Role", "RoleBinding"] * n)

    cluster_role = one(docs, "ClusterRole")
    assert rules_of(cluster_role) == FLUX_RULES
    roles = [d for d in rbac if d["kind"] == "Role"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == sorted(expected_namespaces)
    for role in roles:
        assert rules_of(role) == WORKLOAD_RULES

    account = one(docs, "ServiceAccount")["metadata"]["name"]
    for binding in (d for d in rbac if d["kind"].endswith("Binding")):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
        ]
        role_kind = "ClusterRole" if binding["kind"] == "ClusterRoleBinding" else "Role"
        assert binding["roleRef"]["kind"] == role_kind
        namespace = binding["metadata"].get("namespace")
        targets = [
            d
            for d in rbac
            if d["kind"] == role_kind
            and d["metadata"]["name"] == binding["roleRef"]["name"]
            and d["metadata"].get("namespace") == namespace
        ]
        assert len(targets) == 1, binding["metadata"]
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == account


def test_rbac_can_be_left_to_the_user() -> None:
    docs = documents(render({"rbac": {"create": False}}))
    assert [d for d in docs if d["apiVersion"].startswith("rbac.")] == []


# -- the pod ------------------------------------------------------------------------------


def test_pod_is_hardened_and_probed() -> None:
    docs = documents(render())
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["fsGroup"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    service = one(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_ingress_routes_only_the_slack_and_github_endpoints(full_values: dict[str, Any]) -> None:
    docs = documents(render(full_values))
    ingress = one(docs, "Ingress")
    service = one(docs, "Service")
    for rule in ingress["spec"]["rules"]:
        paths = rule["http"]["paths"]
        assert [p["path"] for p in paths] == ["/slack/events", "/github/webhook"]
        for path in paths:
            assert path["pathType"] == "Exact"
            assert path["backend"]["service"] == {
                "name": service["metadata"]["name"],
                "port": {"number": service["spec"]["ports"][0]["port"]},
            }
    assert ingress["spec"]["tls"] == [
        {"hosts": ["promotebot.example.com"], "secretName": "promotebot-tls"}
    ]
    assert [d for d in documents(render()) if d["kind"] == "Ingress"] == []


def test_existing_secret_replaces_the_chart_secret(full_values: dict[str, Any]) -> None:
    docs = documents(render(full_values))
    assert [d for d in docs if d["kind"] == "Secret"] == []
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    refs = {v["valueFrom"]["secretKeyRef"]["name"] for v in container["env"] if "valueFrom" in v}
    assert refs == {"promotebot-tokens"}


def test_no_secret_value_lands_outside_the_secret() -> None:
    docs = documents(render({"secrets": MANAGED_SECRETS}))
    for doc in docs:
        if doc["kind"] == "Secret":
            continue
        text = yaml.safe_dump(doc)
        for value in MANAGED_SECRETS.values():
            assert value not in text, f"{doc['kind']} carries a secret"
    secret = one(docs, "Secret")
    stored = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert stored["SLACK_BOT_TOKEN"] == MANAGED_SECRETS["slackBotToken"]


# -- checksums ----------------------------------------------------------------------------


def test_checksum_of_config_changes_with_the_pipeline() -> None:
    before = pod_annotations(documents(render()))
    pipeline = CHART.joinpath("values.yaml")
    values = yaml.safe_load(pipeline.read_text())
    changed = values["pipeline"].replace("interval: 5m", "interval: 10m")
    assert changed != values["pipeline"]
    after = pod_annotations(documents(render({"pipeline": changed})))
    assert after["checksum/config"] != before["checksum/config"]
    assert after["checksum/secret"] == before["checksum/secret"]


def test_checksum_of_secret_changes_with_a_secret_value() -> None:
    first = pod_annotations(documents(render({"secrets": MANAGED_SECRETS})))
    rotated = {**MANAGED_SECRETS, "slackSigningSecret": "rotated-signing-secret"}
    second = pod_annotations(documents(render({"secrets": rotated})))
    assert second["checksum/secret"] != first["checksum/secret"]
    assert second["checksum/config"] == first["checksum/config"]
    assert re.fullmatch(r"[0-9a-f]{64}", second["checksum/secret"])


def test_checksum_of_existing_secret_follows_its_name() -> None:
    first = pod_annotations(documents(render({"existingSecret": "tokens-v1"})))
    second = pod_annotations(documents(render({"existingSecret": "tokens-v2"})))
    assert first["checksum/secret"] != second["checksum/secret"]


# -- what the bot receives ----------------------------------------------------------------


def test_default_pipeline_is_the_built_in_one() -> None:
    docs = documents(render())
    text = one(docs, "ConfigMap", "-pipeline")["data"]["pipeline.yaml"]
    assert parse_pipeline(text) == load_pipeline(None)


def test_bot_settings_load_from_chart_managed_secrets(tmp_path: Path) -> None:
    values = {"secrets": MANAGED_SECRETS, "github": {"webhook": {"enabled": True}}}
    env = kubelet_environment(documents(render(values)), tmp_path)
    settings = load_settings(env)
    assert settings.slack_mode == "http"
    assert settings.port == 3000 and settings.host == "0.0.0.0"
    assert isinstance(settings.github_auth, GitHubToken)
    assert settings.github_auth.token.reveal() == MANAGED_SECRETS["githubToken"]
    assert settings.github_webhook_secret is not None
    assert settings.redis_url is not None
    assert settings.redis_url.reveal() == MANAGED_SECRETS["redisUrl"]
    assert settings.pipeline_path is not None
    assert load_pipeline(settings.pipeline_path) == load_pipeline(None)
    assert env["HOME"] == "/tmp"


def test_bot_settings_load_with_a_github_app_from_an_existing_secret(
    tmp_path: Path, full_values: dict[str, Any], app_private_key: str
) -> None:
    docs = documents(render(full_values))
    existing = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "promotebot-tokens"},
        "data": {
            k: base64.b64encode(v.encode()).decode()
            for k, v in {
                "SLACK_BOT_TOKEN": "xoxb-existing",
                "SLACK_SIGNING_SECRET": "existing-signing",
                "SLACK_APP_TOKEN": "xapp-existing",
                "GITHUB_APP_PRIVATE_KEY": app_private_key,
                "GITHUB_WEBHOOK_SECRET": "existing-webhook",
            }.items()
        },
    }
    corporate_ca = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "corporate-ca"},
        "data": {"ca.pem": "-----BEGIN CERTIFICATE-----\n"},
    }
    env = kubelet_environment(docs, tmp_path, extra=(existing, corporate_ca))
    assert "GITHUB_APP_PRIVATE_KEY" not in env  # a file, never an environment variable
    settings = load_settings(env)
    assert settings.slack_mode == "socket"
    assert isinstance(settings.github_auth, GitHubApp)
    assert settings.github_auth.app_id == 123456
    assert settings.github_auth.installation_id == 98765432
    assert settings.github_auth.private_key.reveal().strip() == app_private_key.strip()
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.slack_api_url == "https://slack.example.com/api/"
    assert settings.kube_api_url == "https://kubernetes.default.svc"
    assert settings.log_level == "DEBUG" and settings.poll_seconds == 12.5
    assert settings.redis_url is not None
    assert settings.redis_url.reveal() == "redis://redis-master.redis.svc:6379/0"
    assert settings.pipeline_path is not None
    assert load_pipeline(settings.pipeline_path).app_names == ("shop",)


def test_pod_cannot_start_without_the_required_secrets(tmp_path: Path) -> None:
    docs = documents(render())
    with pytest.raises(KeyError, match="SLACK_BOT_TOKEN"):
        kubelet_environment(docs, tmp_path)
    notes = render()["promotebot/templates/NOTES.txt"]
    assert "secrets.slackBotToken" in notes and "redis.url or secrets.redisUrl" in notes


def test_github_app_without_ids_is_refused() -> None:
    with pytest.raises(helm.HelmValuesError, match="/github/app"):
        render({"github": {"auth": "app"}})


# -- documentation ------------------------------------------------------------------------


def test_every_value_is_documented_with_a_comment() -> None:
    """Each value the schema describes as a setting (not free-form Kubernetes blocks such as
    resources) has a comment on the lines above it or on its own line."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented: list[str] = []
    stack: list[tuple[int, str]] = []
    in_block = -1
    for number, line in enumerate(lines):
        if in_block >= 0:
            if line.strip() == "" or len(line) - len(line.lstrip()) > in_block:
                continue
            in_block = -1
        match = re.match(r"^(\s*)([A-Za-z][\w-]*):(.*)$", line)
        if not match:
            continue
        indent, key, rest = len(match[1]), match[2], match[3]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [k for _, k in stack] + [key]
        stack.append((indent, key))
        if rest.strip().startswith("|"):
            in_block = indent
        node: dict[str, Any] | None = schema
        for part in path:
            node = (node or {}).get("properties", {}).get(part)
        if node is None:
            continue  # inside a free-form block (resources, securityContext, ...)
        if "properties" in node and not rest.strip():
            continue  # a group: its members carry the comments
        above = lines[number - 1].strip() if number else ""
        if not (above.startswith("#") or "#" in rest):
            undocumented.append(".".join(path))
    assert undocumented == []


def test_every_schema_property_has_a_default_in_values() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    missing = []

    def walk(node: dict[str, Any], value: Any, path: str) -> None:
        for key, child in node.get("properties", {}).items():
            if key == "global":
                continue
            if not isinstance(value, dict) or key not in value:
                missing.append(path + key)
            elif "properties" in child:
                walk(child, value[key], f"{path}{key}.")

    walk(schema, values, "")
    assert missing == []
