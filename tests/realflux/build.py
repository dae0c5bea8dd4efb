"""Builds the real components of the real-Flux harness from their published Go modules, once.

etcd, kube-apiserver, source-controller and kustomize-controller are built with `go build`
in a tiny generated module per component (its go.mod requires the component and carries the
component's own replace directives), with GOMODCACHE, GOCACHE and the binaries in a cache
directory outside git, so only the first run on a machine pays. Stdlib only: ./scripts/test
runs it (`python3 tests/realflux/build.py`) before a run that includes tests/realflux. It
never commits or vendors any fetched code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RECIPE = 1  # bump when the way a binary is built changes, so cached binaries are rebuilt


@dataclass(frozen=True)
class Component:
    """One binary: which published module and package, and how its local replaces map."""

    name: str
    module: str
    version: str
    package: str
    staging_version: str = ""  # the version of the staging modules a local replace stands for
    ldflags: str = ""
    pins: tuple[tuple[str, str], ...] = ()  # (module, version) replaces of our own, see below


KUBE = "v1.36.4"
COMPONENTS = (
    # etcd at the version kube-apiserver's own go.mod requires of the etcd client
    Component("etcd", "go.etcd.io/etcd/server/v3", "v3.6.8", "go.etcd.io/etcd/server/v3"),
    Component(
        "kube-apiserver", "k8s.io/kubernetes", KUBE, "k8s.io/kubernetes/cmd/kube-apiserver",
        staging_version="v0" + KUBE[2:],
        ldflags=(f"-X k8s.io/component-base/version.gitVersion={KUBE}"
                 " -X k8s.io/component-base/version.gitMajor=1"
                 f" -X k8s.io/component-base/version.gitMinor={KUBE.split('.')[1]}"),
    ),
    # The module proxy refuses github.com/fluxcd/pkg/artifact v0.18.3 (and v0.18.1, v0.18.2)
    # with 403 "not available"; it serves v0.18.0, whose code is the same (v0.18.0..v0.18.2
    # differ only in go.mod: Kubernetes dependency bumps, which MVS takes from
    # source-controller's own requirements anyway).
    Component("source-controller", "github.com/fluxcd/source-controller", "v1.9.6",
              "github.com/fluxcd/source-controller",
              pins=(("github.com/fluxcd/pkg/artifact", "v0.18.0"),)),
    Component("kustomize-controller", "github.com/fluxcd/kustomize-controller", "v1.9.6",
              "github.com/fluxcd/kustomize-controller"),
)


def cache_dir() -> Path:
    """PROMOTEBOT_CACHE, else ~/.cache/promotebot (XDG_CACHE_HOME respected): never in git."""
    explicit = os.environ.get("PROMOTEBOT_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "promotebot"


def binary(name: str) -> Path:
    """Where the built binary of a component lives (named for its version and recipe)."""
    component = next(c for c in COMPONENTS if c.name == name)
    return cache_dir() / "realflux" / "bin" / f"{name}-{component.version}-r{RECIPE}"


def module_dir(name: str) -> Path:
    """The component's module in the build cache (its config/crd/bases holds its CRDs)."""
    component = next(c for c in COMPONENTS if c.name == name)
    info = json.loads(go(["mod", "download", "-json", f"{component.module}@{component.version}"],
                         cache_dir()))
    return Path(info["Dir"])


def missing() -> list[str]:
    """The components whose binary is not built yet."""
    return [c.name for c in COMPONENTS if not binary(c.name).exists()]


def go_env() -> dict[str, str]:
    root = cache_dir() / "realflux"
    env = dict(os.environ)
    env.update(GOMODCACHE=str(root / "gomod"), GOCACHE=str(root / "gocache"),
               GOFLAGS="-buildvcs=false", GOWORK="off", CGO_ENABLED="0")
    return env


def go(args: list[str], cwd: Path) -> str:
    done = subprocess.run(["go", *args], cwd=cwd, env=go_env(), text=True,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"build.py: `go {' '.join(args)}` failed in {cwd}:\n{done.stderr}")
    return done.stdout


def replaces(component: Component, workdir: Path) -> list[str]:
    """`go mod edit -replace` arguments that rebuild the component's own replace directives.

    A replace to a module version is kept as it is. A replace to a local directory (the
    component's ./api, Kubernetes' ./staging/src/k8s.io/...) only makes sense inside its
    repository: a requirement it covered at a real version needs nothing, and one at the
    placeholder v0.0.0 becomes the published staging module at staging_version.
    """
    info = json.loads(go(["mod", "download", "-json", f"{component.module}@{component.version}"],
                         workdir))
    upstream = json.loads(go(["mod", "edit", "-json", info["GoMod"]], workdir))
    required = {r["Path"]: r["Version"] for r in upstream.get("Require") or []}
    out = []
    for rep in upstream.get("Replace") or []:
        old, new = rep["Old"], rep["New"]
        left = old["Path"] + (f"@{old['Version']}" if old.get("Version") else "")
        if new["Path"].startswith((".", "/")):
            if required.get(old["Path"]) == "v0.0.0" and component.staging_version:
                out.append(f"-replace={left}={old['Path']}@{component.staging_version}")
            continue
        out.append(f"-replace={left}={new['Path']}@{new['Version']}")
    out.extend(f"-replace={module}={module}@{version}" for module, version in component.pins)
    return out


def build(component: Component) -> float:
    """Builds one component unless its binary is there; returns the seconds it took."""
    target = binary(component.name)
    if target.exists():
        return 0.0
    started = time.monotonic()
    workdir = cache_dir() / "realflux" / "build" / component.name
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "go.mod").write_text(f"module promotebot.build/{component.name}\n\ngo 1.26.0\n")
    (workdir / "go.sum").unlink(missing_ok=True)
    edits = replaces(component, workdir)
    if edits:
        go(["mod", "edit", *edits], workdir)
    go(["get", f"{component.package}@{component.version}"], workdir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    go(["build", "-trimpath", f"-ldflags=-s -w {component.ldflags}".strip(), "-o", str(partial),
        component.package], workdir)
    partial.rename(target)
    return time.monotonic() - started


def build_all() -> None:
    """Builds every missing component, saying on stderr which were built and which cached."""
    for component in COMPONENTS:
        seconds = build(component)
        verb = f"built in {seconds:.0f}s" if seconds else "cached"
        print(f"realflux: {component.name} {component.version} {verb}: "
              f"{binary(component.name)}", file=sys.stderr)


if __name__ == "__main__":
    build_all()
