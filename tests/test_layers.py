"""The import rules of docs/architecture.md, enforced: the core never imports the Slack edge,
the Slack libraries, the emulators or the composition root; only adapter modules import an
SDK; and nothing but the composition root (promotebot/) imports a concrete adapter."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("slack_bolt", "slack_sdk", "handlers", "sandbox", "promotebot")
ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "slackbot"
# Only adapter modules talk to the outside world through an SDK.
SDKS = ("redis", "fakeredis", "github", "git", "kubernetes")
SDK_HOMES = ("slackbot/adapters/",)
# The concrete adapters are built in one place: the composition root.
ADAPTERS = "slackbot.adapters"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def forbidden_imports(root: Path, forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(root.parent)} imports {name}")
    return found


def test_core_imports_no_slack_library_nor_edge() -> None:
    assert forbidden_imports(CORE) == []


def test_layer_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    pkg = tmp_path / "slackbot"
    pkg.mkdir()
    (pkg / "bad.py").write_text("from slack_sdk import WebClient\nimport handlers.app\n")
    assert forbidden_imports(pkg) == [
        "slackbot/bad.py imports slack_sdk",
        "slackbot/bad.py imports handlers.app",
    ]


def test_slack_edge_imports_neither_emulators_nor_composition_root() -> None:
    assert forbidden_imports(ROOT / "handlers", ("sandbox", "promotebot")) == []


def test_only_adapters_import_sdks() -> None:
    found = [line for line in forbidden_imports(CORE, SDKS)
             if not line.startswith(SDK_HOMES)]
    assert found == []


def adapter_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        if str(relative).startswith("slackbot/adapters/"):
            continue  # an adapter may use its siblings (the watch reads the cluster's shapes)
        for name in _imports(path):
            if name == ADAPTERS or name.startswith(ADAPTERS + "."):
                found.append(f"{relative} imports {name}")
    return found


def test_only_the_composition_root_imports_concrete_adapters() -> None:
    found = [line for package in ("slackbot", "handlers", "sandbox")
             for line in adapter_imports(ROOT / package)]
    assert found == []


def test_adapter_check_catches_a_concrete_adapter_outside_the_root(tmp_path: Path) -> None:
    pkg = tmp_path / "handlers"
    pkg.mkdir()
    (pkg / "sneaky.py").write_text("from slackbot.adapters.redis_store import RedisStore\n")
    assert adapter_imports(pkg) == [
        "handlers/sneaky.py imports slackbot.adapters.redis_store"]


def test_the_composition_root_loads_the_sandbox_only_for_its_subcommand() -> None:
    lazy = ROOT / "promotebot" / "cli.py"
    top_level = [node for node in ast.parse(lazy.read_text()).body
                 if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [n.module if isinstance(n, ast.ImportFrom) else n.names[0].name for n in top_level]
    assert not [n for n in names if n and n.split(".")[0] == "sandbox"]
    for path in sorted((ROOT / "promotebot").rglob("*.py")):
        if path == lazy:
            continue
        assert [n for n in _imports(path) if n.split(".")[0] == "sandbox"] == [], path
