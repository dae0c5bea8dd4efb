"""Defaults and validation of the built-in kinds the emulator serves (Namespace, Pod, Deployment;
ResourceQuota and NetworkPolicy in sandbox/kube/isolation_kinds.py).

Mirrors what the apiserver's defaulting and validation do for the fields the bot, kubectl and
the Flux simulator touch; anything further is accepted as sent. It must not
store objects or run controllers: status is written by the Flux simulator through the store.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.kube import isolation_kinds
from sandbox.kube.crds import Cause

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def _pod_spec_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in spec.get("containers") or []:
        if not isinstance(container, dict):
            continue
        image = str(container.get("image", ""))
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        latest = image.endswith(":latest") or not tagged
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def _qos_class(spec: dict[str, Any]) -> str:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        set(r.get("limits") or {}) >= {"cpu", "memory"}
        and all(
            (r.get("requests") or {}).get(k, v) == v for k, v in (r.get("limits") or {}).items()
        )
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def apply_defaults(plural: str, obj: dict[str, Any], creating: bool) -> None:
    isolation_kinds.apply_defaults(plural, obj, creating)
    spec = obj.get("spec")
    if plural == "namespaces":
        name = obj["metadata"].get("name", "")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if isinstance(obj.setdefault("spec", {}), dict):
            obj["spec"].setdefault("finalizers", ["kubernetes"])
        if creating or not obj.get("status"):
            obj["status"] = {"phase": "Active"}
    elif plural == "deployments" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy.setdefault("type", "RollingUpdate")
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
        template = spec.get("template")
        if isinstance(template, dict):
            template.setdefault("metadata", {})
            if isinstance(template.get("spec"), dict):
                _pod_spec_defaults(template["spec"])
        if creating:
            obj["status"] = {}
    elif plural == "pods" and isinstance(spec, dict):
        _pod_spec_defaults(spec)
        if creating:
            obj["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}


def _name_causes(plural: str, meta: dict[str, Any]) -> list[Cause]:
    name = meta.get("name")
    causes: list[Cause] = []
    if not isinstance(name, str):
        return [("FieldValueRequired", "metadata.name", "Required value: name is required")]
    if plural == "namespaces":
        if not DNS_LABEL.match(name) or len(name) > 63:
            causes.append(
                ("FieldValueInvalid", "metadata.name", f'Invalid value: "{name}": {LABEL_MESSAGE}')
            )
    elif not DNS_SUBDOMAIN.match(name) or len(name) > 253:
        causes.append(
            ("FieldValueInvalid", "metadata.name", f'Invalid value: "{name}": {SUBDOMAIN_MESSAGE}')
        )
    for field in ("labels", "annotations"):
        values = meta.get(field)
        if values is None:
            continue
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            causes.append(
                (
                    "FieldValueInvalid",
                    f"metadata.{field}",
                    f"Invalid value: {values!r}: must be a map of strings to strings",
                )
            )
            continue
        if field == "labels":
            for key, value in values.items():
                label_name = key.rsplit("/", 1)[-1]
                if not _LABEL_NAME.match(label_name) or len(label_name) > 63:
                    causes.append(
                        (
                            "FieldValueInvalid",
                            "metadata.labels",
                            f'Invalid value: "{key}": name part must consist of '
                            "alphanumeric characters, '-', '_' or '.'",
                        )
                    )
                if not _LABEL_VALUE.match(value) or len(value) > 63:
                    causes.append(
                        (
                            "FieldValueInvalid",
                            "metadata.labels",
                            f'Invalid value: "{value}": a valid label must be an empty '
                            "string or consist of alphanumeric characters, '-', '_' or "
                            "'.', and must start and end with an alphanumeric character",
                        )
                    )
    return causes


def _containers_causes(spec: Any, prefix: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [("FieldValueRequired", prefix, "Required value")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [("FieldValueRequired", f"{prefix}.containers", "Required value")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        field = f"{prefix}.containers[{index}]"
        if not isinstance(container, dict):
            causes.append(("FieldValueInvalid", field, "Invalid value: must be an object"))
            continue
        name = container.get("name")
        if not name:
            causes.append(("FieldValueRequired", f"{field}.name", "Required value"))
        elif not isinstance(name, str) or not DNS_LABEL.match(name):
            causes.append(
                ("FieldValueInvalid", f"{field}.name", f'Invalid value: "{name}": {LABEL_MESSAGE}')
            )
        elif name in seen:
            causes.append(("FieldValueDuplicate", f"{field}.name", f'Duplicate value: "{name}"'))
        else:
            seen.add(name)
        if not container.get("image"):
            causes.append(("FieldValueRequired", f"{field}.image", "Required value"))
    return causes


def _selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and labels.get(key) in values)
            or (op == "Exists" and key not in labels)
            or (op == "DoesNotExist" and key in labels)
        ):
            return False
    return True


def validate(plural: str, obj: dict[str, Any]) -> list[Cause]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [("FieldValueRequired", "metadata", "Required value")]
    causes = _name_causes(plural, meta)
    spec = obj.get("spec")
    if plural == "deployments":
        if not isinstance(spec, dict):
            return [*causes, ("FieldValueRequired", "spec", "Required value")]
        replicas = spec.get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            causes.append(
                (
                    "FieldValueInvalid",
                    "spec.replicas",
                    f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                )
            )
        selector = spec.get("selector")
        if not isinstance(selector, dict) or not (
            selector.get("matchLabels") or selector.get("matchExpressions")
        ):
            causes.append(("FieldValueRequired", "spec.selector", "Required value"))
            selector = None
        template = spec.get("template")
        if not isinstance(template, dict):
            causes.append(("FieldValueRequired", "spec.template", "Required value"))
        else:
            labels = (template.get("metadata") or {}).get("labels") or {}
            if selector is not None and not _selector_matches(selector, labels):
                causes.append(
                    (
                        "FieldValueInvalid",
                        "spec.template.metadata.labels",
                        f"Invalid value: {labels!r}: `selector` does not match template `labels`",
                    )
                )
            causes.extend(_containers_causes(template.get("spec"), "spec.template.spec"))
    elif plural == "pods":
        causes.extend(_containers_causes(spec, "spec"))
    else:
        causes.extend(isolation_kinds.validate(plural, obj))
    return causes
