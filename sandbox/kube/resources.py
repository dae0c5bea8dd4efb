"""The resource types the emulated cluster serves: names, groups, scope and subresources.

One table that discovery, the store, the validators and the HTTP routes all read, so that a
kind is described in exactly one place. It must not hold objects or behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResourceType:
    plural: str
    singular: str
    kind: str
    group: str  # "" for the core group
    version: str
    namespaced: bool
    status_subresource: bool
    builtin: bool  # built-in kinds accept strategic-merge patches; CRDs do not
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_generation: bool = True
    verbs: tuple[str, ...] = field(
        default=("create", "delete", "get", "list", "patch", "update", "watch")
    )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """plural.group as the apiserver names a resource in messages ("deployments.apps")."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "namespaces",
        "namespace",
        "Namespace",
        "",
        "v1",
        namespaced=False,
        status_subresource=True,
        builtin=True,
        short_names=("ns",),
        has_generation=False,
    ),
    ResourceType(
        "pods",
        "pod",
        "Pod",
        "",
        "v1",
        namespaced=True,
        status_subresource=True,
        builtin=True,
        short_names=("po",),
        categories=("all",),
    ),
    ResourceType(
        "events",
        "event",
        "Event",
        "",
        "v1",
        namespaced=True,
        status_subresource=False,
        builtin=True,
        short_names=("ev",),
        has_generation=False,
    ),
    ResourceType(
        "deployments",
        "deployment",
        "Deployment",
        "apps",
        "v1",
        namespaced=True,
        status_subresource=True,
        builtin=True,
        short_names=("deploy",),
        categories=("all",),
    ),
    ResourceType(
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        "",
        "v1",
        namespaced=True,
        status_subresource=True,
        builtin=True,
        short_names=("quota",),
        has_generation=False,
    ),
    ResourceType(
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        "networking.k8s.io",
        "v1",
        namespaced=True,
        status_subresource=False,
        builtin=True,
        short_names=("netpol",),
    ),
    ResourceType(
        "kustomizations",
        "kustomization",
        "Kustomization",
        KUSTOMIZE_GROUP,
        "v1",
        namespaced=True,
        status_subresource=True,
        builtin=False,
        short_names=("ks",),
        categories=("all", "fluxcd", "fluxcd-appliers"),
    ),
    ResourceType(
        "gitrepositories",
        "gitrepository",
        "GitRepository",
        SOURCE_GROUP,
        "v1",
        namespaced=True,
        status_subresource=True,
        builtin=False,
        short_names=("gitrepo",),
        categories=("all", "fluxcd", "fluxcd-sources"),
    ),
)

BY_PLURAL: dict[str, ResourceType] = {rt.plural: rt for rt in RESOURCES}


def by_group_version(group: str, version: str) -> list[ResourceType]:
    return [rt for rt in RESOURCES if rt.group == group and rt.version == version]


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    rt = BY_PLURAL.get(plural)
    if rt is None or rt.group != group or rt.version != version:
        return None
    return rt
