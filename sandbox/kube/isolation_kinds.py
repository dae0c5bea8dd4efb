"""Defaults and validation of the kinds that isolate an env's namespace: ResourceQuota and
NetworkPolicy, as the apiserver defaults and validates them (the example content applies both).

Checked against a real kube-apiserver: a quota's hard values are quantities of standard or
fully qualified resources, a policy's types, ports and peers are checked, and the defaults
(policyTypes, a port's TCP) are filled in. It must not enforce them: no quota is charged for a
pod and no traffic exists to filter; a quota's status stays as created (a controller's work).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from sandbox.kube.crds import Cause
from sandbox.kube.errors import bad_request

QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
# the resource names a quota may set without a domain (k8s.io/apis/core/validation)
QUOTA_RESOURCES = frozenset({
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers", "cpu", "memory",
    "storage", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
})
QUOTA_SCOPES = frozenset({"Terminating", "NotTerminating", "BestEffort", "NotBestEffort",
                          "PriorityClass", "CrossNamespacePodAffinity", "VolumeAttributesClass"})
POLICY_TYPES = ("Ingress", "Egress")
PROTOCOLS = ("TCP", "UDP", "SCTP")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def _quota_resource(name: str) -> bool:
    return (name in QUOTA_RESOURCES or "/" in name or name.startswith("hugepages-")
            or name.startswith("requests.hugepages-"))


def apply_defaults(plural: str, obj: dict[str, Any], creating: bool) -> None:
    spec = obj.get("spec")
    if plural == "resourcequotas":
        for value in ((spec or {}).get("hard") or {}).values() if isinstance(spec, dict) else ():
            if not QUANTITY.match(str(value)):
                # the apiserver refuses it while decoding, before any validation
                raise bad_request(
                    'ResourceQuota in version "v1" cannot be handled as a ResourceQuota: '
                    "quantities must match the regular expression "
                    f"'{QUANTITY.pattern}'")
        if creating:
            obj["status"] = {}
    elif plural == "networkpolicies":
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        spec.setdefault("podSelector", {})
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for port in (rule.get("ports") or []) if isinstance(rule, dict) else []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")


def validate(plural: str, obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if plural == "resourcequotas":
        return _quota_causes(spec if isinstance(spec, dict) else {})
    if plural == "networkpolicies":
        return _policy_causes(spec if isinstance(spec, dict) else {})
    return []


def _quota_causes(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for name, value in (spec.get("hard") or {}).items():
        field = f"spec.hard[{name}]"
        if not _quota_resource(name):
            causes.append(("FieldValueInvalid", field, f'Invalid value: "{name}": must be a '
                           "standard resource type or fully qualified"))
            causes.append(("FieldValueInvalid", field,
                           f'Invalid value: "{name}": must be a standard resource for quota'))
        if str(value).startswith("-"):
            causes.append(("FieldValueInvalid", field,
                           f'Invalid value: "{value}": must be greater than or equal to 0'))
    scopes = spec.get("scopes") or []
    if any(scope not in QUOTA_SCOPES for scope in scopes):
        shown = "[" + ",".join(f'"{s}"' for s in scopes) + "]"
        causes.append(("FieldValueInvalid", "spec.scopes",
                       f"Invalid value: {shown}: unsupported scope"))
    return causes


def _selector_causes(selector: Any, field: str) -> list[Cause]:
    if not isinstance(selector, dict):
        return []
    causes: list[Cause] = []
    for value in (selector.get("matchLabels") or {}).values():
        if not isinstance(value, str) or not _LABEL_VALUE.match(value) or len(value) > 63:
            causes.append(("FieldValueInvalid", f"{field}.matchLabels",
                           f'Invalid value: "{value}": {LABEL_VALUE_MESSAGE}'))
    for index, expr in enumerate(selector.get("matchExpressions") or []):
        at = f"{field}.matchExpressions[{index}]"
        operator, values = expr.get("operator"), expr.get("values") or []
        if operator not in OPERATORS:
            causes.append(("FieldValueInvalid", f"{at}.operator",
                           f'Invalid value: "{operator}": not a valid selector operator'))
        elif operator in ("In", "NotIn") and not values:
            causes.append(("FieldValueRequired", f"{at}.values", "Required value: must be "
                           "specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist") and values:
            causes.append(("FieldValueForbidden", f"{at}.values", "Forbidden: may not be "
                           "specified when `operator` is 'Exists' or 'DoesNotExist'"))
    return causes


def _port_causes(port: dict[str, Any], field: str) -> list[Cause]:
    causes: list[Cause] = []
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        causes.append(("FieldValueNotSupported", f"{field}.protocol",
                       f'Unsupported value: "{protocol}": supported values: '
                       + ", ".join(f'"{p}"' for p in PROTOCOLS)))
    number = port.get("port")
    if isinstance(number, int) and not isinstance(number, bool):
        if not 1 <= number <= 65535:
            causes.append(("FieldValueInvalid", f"{field}.port",
                           f"Invalid value: {number}: must be between 1 and 65535, inclusive"))
    elif isinstance(number, str) and (len(number) > 15 or not _PORT_NAME.match(number)
                                      or "--" in number or not re.search("[a-z]", number)):
        causes.append(("FieldValueInvalid", f"{field}.port", f'Invalid value: "{number}": '
                       "must be an IANA_SVC_NAME: at most 15 characters, lower-case letters, "
                       "digits and '-', with at least one letter"))
    return causes


def _peer_causes(peer: Any, field: str) -> list[Cause]:
    if not isinstance(peer, dict):
        return [("FieldValueInvalid", field, "Invalid value: must be an object")]
    selectors = [key for key in ("podSelector", "namespaceSelector") if peer.get(key) is not None]
    block = peer.get("ipBlock")
    if not selectors and block is None:
        return [("FieldValueRequired", field, "Required value: must specify a peer")]
    if selectors and block is not None:
        return [("FieldValueForbidden", field,
                 "Forbidden: may not specify both ipBlock and another peer")]
    causes: list[Cause] = []
    for key in selectors:
        causes += _selector_causes(peer[key], f"{field}.{key}")
    if isinstance(block, dict):
        cidr = str(block.get("cidr", ""))
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return [("FieldValueInvalid", f"{field}.ipBlock.cidr", f'Invalid value: "{cidr}": '
                     "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
        for index, other in enumerate(block.get("except") or []):
            try:
                inside = ipaddress.ip_network(str(other), strict=False)
            except ValueError:
                inside = None
            if (inside is None or inside.version != network.version or inside == network
                    or not inside.subnet_of(network)):  # type: ignore[arg-type]
                causes.append(("FieldValueInvalid", f"{field}.ipBlock.except[{index}]",
                               f'Invalid value: "{other}": must be a strict subset of `cidr`'))
    return causes


def _policy_causes(spec: dict[str, Any]) -> list[Cause]:
    causes = _selector_causes(spec.get("podSelector"), "spec.podSelector")
    for index, kind in enumerate(spec.get("policyTypes") or []):
        if kind not in POLICY_TYPES:
            causes.append(("FieldValueNotSupported", f"spec.policyTypes[{index}]",
                           f'Unsupported value: "{kind}": supported values: "Ingress", "Egress"'))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get(direction) or []):
            at = f"spec.{direction}[{index}]"
            if not isinstance(rule, dict):
                causes.append(("FieldValueInvalid", at, "Invalid value: must be an object"))
                continue
            for number, port in enumerate(rule.get("ports") or []):
                causes += _port_causes(port if isinstance(port, dict) else {},
                                       f"{at}.ports[{number}]")
            for number, peer in enumerate(rule.get(peers) or []):
                causes += _peer_causes(peer, f"{at}.{peers}[{number}]")
    return causes
